"""RNGStateHook with several processes, on a faked world.

``mmengine.dist.get_rank``, ``get_world_size`` and ``all_gather_object``
are patched so that one process plays rank 0 (which saves the checkpoint)
and rank 1 (which resumes from it). Each rank has its own RNG states; the
checkpoint must carry all of them and a resumed rank must get its own back,
not rank 0's. The real collective runs in test_distributed_deepfever.py.
"""
import contextlib
import io
import random
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook

from kent_mm.engine.hooks import RNGStateHook, get_rng_state, set_rng_state


@pytest.fixture(autouse=True)
def keep_global_rngs():
    """Leave the global RNGs as the test found them."""
    state = get_rng_state()
    yield
    set_rng_state(state)


def rank_state(rank: int) -> dict:
    """The global RNG states of a rank whose seed is ``100 + rank``."""
    random.seed(100 + rank)
    np.random.seed(100 + rank)
    torch.manual_seed(100 + rank)
    return get_rng_state()


def draw() -> tuple:
    """Numbers from the Python, NumPy and torch global RNGs."""
    return (random.random(), np.random.rand(2).tolist(),
            torch.rand(2).tolist())


def draws_of(state: dict) -> tuple:
    set_rng_state(state)
    return draw()


@contextlib.contextmanager
def fake_world(rank: int, states: dict):
    """Run as ``rank`` of ``len(states)`` processes; ``all_gather_object``
    returns this process's object at ``rank`` and ``states[r]`` elsewhere.
    """
    world_size = len(states)
    gather = mock.Mock(side_effect=lambda obj, group=None: [
        obj if r == rank else states[r] for r in range(world_size)])
    with mock.patch('mmengine.dist.get_rank', return_value=rank), \
            mock.patch('mmengine.dist.get_world_size',
                       return_value=world_size), \
            mock.patch('mmengine.dist.all_gather_object', gather):
        yield gather


def fake_runner(it: int = 14, hooks=(), max_iters: int = 100):
    return SimpleNamespace(iter=it, seed=29, logger=mock.Mock(),
                           hooks=list(hooks), max_iters=max_iters)


def weights_only_round_trip(checkpoint: dict) -> dict:
    buf = io.BytesIO()
    torch.save(checkpoint, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def save_epoch_checkpoint(states: dict, it: int = 14) -> dict:
    """Rank 0's checkpoint at the end of an epoch of a len(states)-rank
    run, through torch.save / torch.load(weights_only=True)."""
    hook, runner, ckpt = RNGStateHook(), fake_runner(it), {}
    set_rng_state(states[0])
    with fake_world(0, states):
        hook.after_train_epoch(runner)  # every rank
        hook.before_save_checkpoint(runner, ckpt)  # rank 0 only
    return weights_only_round_trip(ckpt)


def resume(rank: int, states: dict, ckpt: dict, it: int = 14):
    """A fresh hook of ``rank`` in a len(states)-rank run resumes from
    ``ckpt`` at iteration ``it``; returns (draws after the restore, runner).
    """
    hook, runner = RNGStateHook(), fake_runner(it)
    with fake_world(rank, states):
        hook.after_load_checkpoint(runner, ckpt)
        torch.manual_seed(12345)  # the resumed process's fresh seeding
        random.seed(12345)
        np.random.seed(12345)
        hook.before_train_epoch(runner)
    return draw(), runner


def test_resumed_rank_gets_its_own_rng_state_not_rank_0s():
    states = {r: rank_state(r) for r in range(2)}
    expected = {r: draws_of(states[r]) for r in range(2)}
    assert expected[0] != expected[1]
    ckpt = save_epoch_checkpoint(states)
    for rank in range(2):
        got, runner = resume(rank, states, ckpt)
        assert got == expected[rank], f'rank {rank} got another rank state'
        runner.logger.warning.assert_not_called()


def test_checkpoint_holds_every_rank_state_loadable_weights_only():
    states = {r: rank_state(r) for r in range(3)}
    entry = save_epoch_checkpoint(states)['rng_state']
    assert entry['world_size'] == 3 and entry['iter'] == 14
    for r in range(3):
        assert torch.equal(entry['ranks'][r]['torch'], states[r]['torch'])
        assert torch.equal(entry['ranks'][r]['numpy']['keys'],
                           states[r]['numpy']['keys'])


@pytest.mark.parametrize('new_world', [1, 3])
def test_other_world_size_warns_and_seeds_each_rank_differently(new_world):
    """Resuming a 2-process checkpoint with 1 or 3 processes cannot restore
    per-rank states: warn, then seed from (seed, iteration, rank) so that
    ranks differ and a rerun is reproducible."""
    states = {r: rank_state(r) for r in range(2)}
    saved = {r: draws_of(states[r]) for r in range(2)}
    ckpt = save_epoch_checkpoint(states)
    world = {r: rank_state(r) for r in range(new_world)}
    got = {}
    for rank in range(new_world):
        got[rank], runner = resume(rank, world, ckpt)
        runner.logger.warning.assert_called_once()
        assert 'RNG states of 2 process(es)' in \
            runner.logger.warning.call_args[0][0]
        assert got[rank] not in saved.values()
        assert resume(rank, world, ckpt)[0] == got[rank]  # reproducible
    assert len(set(map(str, got.values()))) == new_world


def test_iteration_checkpoint_gathers_only_when_one_is_due():
    """By-iteration checkpoints: the states are gathered (a collective on
    every rank) after the iterations at which CheckpointHook saves, and
    after validation (best checkpoints); not after every iteration."""
    states = {r: rank_state(r) for r in range(2)}
    ckpt_hook = CheckpointHook(interval=5, by_epoch=False)
    hook = RNGStateHook()
    with fake_world(0, states) as gather:
        hook.after_train_iter(fake_runner(12, [ckpt_hook]), 12)
        assert not gather.called  # iteration 13: no checkpoint
        set_rng_state(states[0])
        runner = fake_runner(14, [ckpt_hook])  # iteration 15 is saved
        hook.after_train_iter(runner, 14)
        assert gather.call_count == 1
        ckpt = {}
        hook.before_save_checkpoint(runner, ckpt)
        entry = weights_only_round_trip(ckpt)['rng_state']
        assert entry['world_size'] == 2
        assert torch.equal(entry['ranks'][1]['torch'], states[1]['torch'])
        hook.after_val_epoch(fake_runner(15, [ckpt_hook]), {})
        assert gather.call_count == 2


def test_single_process_restores_former_format():
    """Checkpoints written before per-rank states (one state at the top
    level) still restore in a single-process run."""
    state = rank_state(0)
    expected = draws_of(state)
    legacy = weights_only_round_trip(dict(rng_state=dict(state, iter=14)))
    got, runner = resume(0, {0: state}, legacy)
    assert got == expected
    runner.logger.warning.assert_not_called()
