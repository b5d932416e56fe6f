"""Report the broken images a dataset skipped (``on_corrupt='skip'``)."""
from collections import Counter
from typing import Dict, List, Tuple

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from kent_mm.datasets import inner_datasets


def find_fer_datasets(dataset) -> List:
    """The FER datasets inside ``dataset``, looking through MMEngine's
    wrappers (``ConcatDataset.datasets``, ``RepeatDataset.dataset``, ...)."""
    if dataset is None:
        return []
    return [d for d in inner_datasets(dataset)
            if hasattr(d, 'read_corrupt_records')]


@HOOKS.register_module()
class CorruptImageReportHook(Hook):
    """Log, after every train/val/test epoch, which images were skipped.

    Datasets built with ``on_corrupt='skip'`` record every broken file they
    replace (in any dataloader worker) in their ``corrupt_log`` file; this
    hook reads what was added during the epoch and logs the count and the
    list (``path: reason``) as a warning. Nothing is logged when nothing
    was skipped, so the hook is harmless in every config. The record files
    are deleted at the end of the run.

    Args:
        max_listed (int): At most this many files are listed per report
            (the count is always complete).
    """

    priority = 'LOW'  # after LoggerHook has written the epoch's metrics

    def __init__(self, max_listed: int = 100) -> None:
        self.max_listed = max_listed
        self._offsets: Dict[int, int] = {}
        self._seen: Dict[int, object] = {}
        #: (where, path, reason) of every skip reported so far.
        self.history: List[Tuple[str, str, str]] = []

    def after_train_epoch(self, runner) -> None:
        # runner.epoch is incremented after this hook: +1 for the log.
        self._report(runner, runner.train_loop.dataloader, 'train_dataloader',
                     f'train epoch {runner.epoch + 1}')

    def after_val_epoch(self, runner, metrics=None) -> None:
        # The epoch keeps messages distinct: MMLogger drops a warning that
        # repeats the previous one word for word.
        self._report(runner, runner.val_loop.dataloader, 'val_dataloader',
                     f'validation at epoch {runner.epoch}')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, runner.test_loop.dataloader, 'test_dataloader',
                     'test')

    def after_run(self, runner) -> None:
        for dataset in self._seen.values():
            dataset.remove_corrupt_log()

    def _report(self, runner, dataloader, field: str, when: str) -> None:
        datasets = find_fer_datasets(getattr(dataloader, 'dataset', None))
        for dataset in datasets:
            key = id(dataset)
            self._seen[key] = dataset
            records, self._offsets[key] = dataset.read_corrupt_records(
                self._offsets.get(key, 0))
            if not records:
                continue
            self.history += [(field, p, r) for p, r in records]
            files = Counter(p for p, _ in records)
            reasons = dict(records)
            listed = [f'  {p}: {reasons[p]}' + (f' (x{n})' if n > 1 else '')
                      for p, n in sorted(files.items())[:self.max_listed]]
            if len(files) > self.max_listed:
                listed.append(f'  ... and {len(files) - self.max_listed} '
                              'more')
            note = ''
            if field != 'train_dataloader':
                note = (' Each was replaced by the next sample, so the '
                        'metrics above count duplicates in their place.')
            runner.logger.warning(
                f'{len(records)} broken image(s) skipped during {when} '
                f'({field}.dataset, {type(dataset).__name__}, '
                f'{len(files)} distinct file(s)).{note}\n' + '\n'.join(listed))
