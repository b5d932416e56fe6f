"""An iteration-based training loop drawing batches from several datasets."""
import copy
from typing import Dict, Iterator, List, Optional, Tuple, Union

# Private: IterBasedTrainLoop's own infinite iterator; no public equivalent.
from mmengine.runner.loops import IterBasedTrainLoop, \
    _InfiniteDataloaderIterator
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader


class MultiTaskIterator:
    """Yields ``{task: batch}`` with one batch of every task per step.

    Args:
        iterators (dict[str, Iterator]): Infinite iterator per task.
    """

    def __init__(self, iterators: Dict[str, Iterator]) -> None:
        self.iterators = iterators

    def __iter__(self) -> 'MultiTaskIterator':
        return self

    def __next__(self) -> Dict[str, dict]:
        return {task: next(it) for task, it in self.iterators.items()}


@LOOPS.register_module()
class MultiTaskIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` over several datasets at once.

    Each iteration draws one batch from ``train_dataloader`` (the task
    ``main_task``) and one from each of ``extra_dataloaders`` and hands the
    model ``{task: batch}`` in a single ``train_step`` (one optimiser
    step); :class:`~kent_mm.models.DeepFEVER` routes each batch to the head
    of the same name. Each dataloader keeps its own sampler, batch size and
    ``collate_fn``, and restarts when it runs out (so the smaller dataset is
    repeated: use iteration counts, not epochs). Hooks see the dict as
    ``data_batch``. On resume every loader is advanced by the iterations
    already done, as MMEngine does for the main one.

    Config::

        train_cfg = dict(
            type='MultiTaskIterBasedTrainLoop', max_iters=20000,
            val_interval=2000, main_task='expression',
            extra_dataloaders=dict(triplet=dict(
                batch_size=32, num_workers=4,
                sampler=dict(type='InfiniteSampler', shuffle=True),
                collate_fn=dict(type='fer_triplet_collate'),
                dataset=dict(type='FEC', data_root='data/fec', ...))))

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The main task's dataloader
            (``train_dataloader``).
        max_iters (int): Total iterations.
        main_task (str): Task name of ``dataloader``'s batches.
        extra_dataloaders (dict[str, DataLoader | dict]): Task name →
            dataloader (config), built like ``train_dataloader`` (same
            seed handling).
        val_begin (int): First iteration that may validate.
        val_interval (int): Validation interval in iterations.
        dynamic_intervals (list[tuple[int, int]], optional): As MMEngine.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 main_task: str = 'expression',
                 extra_dataloaders: Optional[Dict[str, Union[DataLoader,
                                                             Dict]]] = None,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        extra_dataloaders = dict(extra_dataloaders or {})
        if main_task in extra_dataloaders:
            raise ValueError(
                f'train_cfg.extra_dataloaders has a {main_task!r} entry, the '
                'name of the main task (train_dataloader); rename it.')
        # Private: BaseLoop reads it for train_dataloader; no public accessor.
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        self.main_task = main_task
        self.extra_dataloaders: Dict[str, DataLoader] = {}
        for task, loader in extra_dataloaders.items():
            if isinstance(loader, dict):
                loader = copy.deepcopy(loader)
                loader = runner.build_dataloader(
                    loader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
            self.extra_dataloaders[task] = loader
        iterators = {main_task: self.dataloader_iterator}
        iterators.update({
            task: _InfiniteDataloaderIterator(loader)
            for task, loader in self.extra_dataloaders.items()
        })
        self.dataloader_iterator = MultiTaskIterator(iterators)
