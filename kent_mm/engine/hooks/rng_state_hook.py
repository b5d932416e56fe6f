"""Save and restore the global RNG states with every checkpoint."""
import random
from typing import Any, Dict, List, Optional

import mmengine.dist as mmdist
import numpy as np
import torch
from mmengine.hooks import CheckpointHook, Hook
from mmpretrain.registry import HOOKS


def get_rng_state() -> Dict[str, Any]:
    """The Python, NumPy, torch (and CUDA) global RNG states.

    Stored as tensors, ints, floats and strings only, so that a checkpoint
    holding them loads with ``torch.load(weights_only=True)`` and no
    allow-list entry.
    """
    py_version, py_state, py_gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = torch.cuda.get_rng_state_all()
    return dict(
        python=dict(version=py_version,
                    state=torch.tensor(py_state, dtype=torch.int64),
                    gauss=py_gauss),
        numpy=dict(kind=kind,
                   keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos),
                   has_gauss=int(has_gauss),
                   cached_gaussian=float(cached)),
        torch=torch.get_rng_state(),
        cuda=list(cuda))


def set_rng_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`get_rng_state`."""
    py = state['python']
    random.setstate((py['version'], tuple(py['state'].tolist()), py['gauss']))
    n = state['numpy']
    np.random.set_state((n['kind'], n['keys'].cpu().numpy().astype(np.uint32),
                         n['pos'], n['has_gauss'], n['cached_gaussian']))
    # A checkpoint loaded with map_location='cuda' moves this to the GPU.
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available() and \
            len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make resumed epoch-based training repeat the uninterrupted run.

    MMEngine's checkpoints hold weights, optimizer, schedulers and the seed,
    and ``DefaultSampler`` reseeds its shuffling every epoch, but random
    augmentations draw from the global Python/NumPy/torch RNGs, whose state
    is not saved: a resumed run augments differently from the run it
    continues. This hook

    - snapshots the global RNG states when a training epoch ends (before
      validation, which also draws from them: creating a ``DataLoader``
      iterator takes a torch random number),
    - stores that snapshot in every checkpoint saved at the epoch's end
      (key ``rng_state``),
    - sets the RNGs to the snapshot when the next training epoch starts, in
      an uninterrupted run as well as after ``--resume``.

    So both runs enter every epoch with the same RNG states, and validation
    (or its interval) no longer changes the training trajectory.

    Several processes: every rank has its own RNG states, but only rank 0
    writes checkpoints (and only rank 0 calls ``before_save_checkpoint``).
    So the states of all ranks are gathered (``all_gather_object``, on
    every rank) where a checkpoint can follow: at the end of every training
    epoch, after every validation and after the iterations at which a
    by-iteration ``CheckpointHook`` saves. The checkpoint holds::

        rng_state = dict(iter=int, world_size=W,
                         ranks=[state of rank 0, ..., state of rank W - 1])

    and on resume every rank restores its own entry. A resume with another
    number of processes cannot restore them: it warns and seeds each rank's
    RNGs from ``(seed, iteration, rank)`` instead (distinct per rank,
    reproducible, not the uninterrupted run's). Checkpoints of the former
    format (one state, no ``ranks``) restore in single-process runs.

    Guarantee: with ``num_workers=0`` (augmentations run in the main
    process) or with workers that are not persistent (MMEngine's
    ``worker_init_fn`` reseeds each new worker from the seed), an
    epoch-based run resumed from an end-of-epoch checkpoint with the same
    number of processes performs the same operations on the same data as
    the uninterrupted run: on the same machine and software, the final
    weights are bit-identical (multi-process: up to the determinism of the
    gradient all-reduce). Not covered: persistent workers (their RNGs live
    in the worker processes), resuming from mid-epoch checkpoints, and
    nondeterministic kernels (GPU atomics): on GPUs set
    ``randomness=dict(seed=..., deterministic=True)``, which every config of
    kent_mm supports (docs/reliability.md, "Deterministic mode"). A plain
    ``load_from`` (not a resume) does not restore the states.
    """

    priority = 'VERY_HIGH'  # restore before anything draws in the epoch;
    # gather before CheckpointHook (VERY_LOW) saves

    def __init__(self) -> None:
        # This rank's states at the last epoch end (uninterrupted runs).
        self._snapshot: Optional[Dict[str, Any]] = None
        # Every rank's states at the last epoch end / at the last other
        # point where a checkpoint may be saved (checkpoint entries).
        self._epoch_entry: Optional[Dict[str, Any]] = None
        self._other_entry: Optional[Dict[str, Any]] = None
        self._pending: Optional[Dict[str, Any]] = None

    @staticmethod
    def _gather(runner, state: Dict[str, Any]) -> Dict[str, Any]:
        """The checkpoint entry of every rank's ``state`` (a collective:
        every rank must call it)."""
        states: List[Dict[str, Any]] = mmdist.all_gather_object(state)
        return dict(iter=runner.iter, world_size=mmdist.get_world_size(),
                    ranks=list(states))

    @staticmethod
    def _iteration_checkpoint_due(runner) -> bool:
        """Whether a by-iteration ``CheckpointHook`` saves after this
        iteration (its own rule)."""
        for hook in getattr(runner, 'hooks', ()):
            if isinstance(hook, CheckpointHook) and not hook.by_epoch and (
                    hook.every_n_train_iters(runner, hook.interval,
                                             hook.save_begin) or
                    (hook.save_last and hook.is_last_train_iter(runner))):
                return True
        return False

    def before_train(self, runner) -> None:
        loader = runner.train_loop.dataloader
        if getattr(loader, 'persistent_workers', False) and \
                getattr(loader, 'num_workers', 0) > 0:
            runner.logger.warning(
                'RNGStateHook: train_dataloader has persistent workers, whose '
                'RNG states live in the worker processes and are not saved: '
                'a resumed run will augment differently from an '
                'uninterrupted one. Set train_dataloader.persistent_workers='
                'False (or num_workers=0) for exact resumption.')

    def after_train_epoch(self, runner) -> None:
        # runner.iter is already the count after this epoch's last step.
        state = get_rng_state()
        self._snapshot = dict(state, iter=runner.iter)
        self._epoch_entry = self._gather(runner, state)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if mmdist.get_world_size() > 1 and \
                self._iteration_checkpoint_due(runner):
            self._other_entry = self._gather(runner, get_rng_state())

    def after_val_epoch(self, runner, metrics=None) -> None:
        # CheckpointHook may save the best checkpoint now.
        if mmdist.get_world_size() > 1:
            self._other_entry = self._gather(runner, get_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # Called on rank 0 only (Runner.save_checkpoint is master_only).
        for entry in (self._epoch_entry, self._other_entry):
            if entry is not None and entry['iter'] == runner.iter:
                checkpoint['rng_state'] = entry
                return
        world_size = mmdist.get_world_size()
        if world_size == 1:
            # Saved elsewhere than at an epoch end (e.g. by iteration): the
            # current states, which a resume will apply at the next epoch.
            checkpoint['rng_state'] = dict(iter=runner.iter, world_size=1,
                                           ranks=[get_rng_state()])
            return
        runner.logger.warning(
            f'RNGStateHook: a checkpoint is saved at iteration {runner.iter},'
            ' where the RNG states of the other ranks were not gathered; it '
            'holds no RNG states (a resume from it does not restore them).')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def _own_state(self, runner,
                   entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """This rank's states in a checkpoint entry, or None (with a
        warning) when it was saved with another number of processes."""
        rank, world_size = mmdist.get_rank(), mmdist.get_world_size()
        if 'ranks' in entry:
            states = list(entry['ranks'])
            saved_size = int(entry.get('world_size', len(states)))
        else:  # former format: the states of one process
            states, saved_size = [entry], 1
        if saved_size == world_size and len(states) == world_size:
            return states[rank]
        runner.logger.warning(
            f'RNGStateHook: the checkpoint holds the RNG states of '
            f'{saved_size} process(es), this run has {world_size}: they are '
            'not restored. Each rank seeds its RNGs from (seed, iteration, '
            'rank) instead; the resumed run will not repeat the '
            'uninterrupted one exactly.')
        return None

    @staticmethod
    def _seed_by_rank(runner) -> None:
        """Rank-dependent, reproducible fallback seeding."""
        seed = getattr(runner, 'seed', None) or 0
        mixed = np.random.SeedSequence(
            [int(seed) % 2**32, runner.iter, mmdist.get_rank()])
        value = int(mixed.generate_state(1)[0])
        random.seed(value)
        np.random.seed(value)
        torch.manual_seed(value)  # CUDA generators too

    def before_train_epoch(self, runner) -> None:
        entry, self._pending = self._pending, None
        # Only a resume continues at the saved iteration; a checkpoint used
        # as ``load_from`` starts at 0 and keeps the fresh seed.
        if entry is not None and entry.get('iter') == runner.iter:
            state = self._own_state(runner, entry)
            if state is None:
                self._seed_by_rank(runner)
            else:
                set_rng_state(state)
            return
        state = self._snapshot
        if state is not None and state.get('iter') == runner.iter:
            set_rng_state(state)
