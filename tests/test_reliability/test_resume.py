"""Kill -9 during training, resume, and get the uninterrupted weights.

The uninterrupted and the resumed run use the same config (KENT R18, 32x32,
batch 2, 7 iterations per epoch, 3 epochs, a RandomFlip that draws from
NumPy's global RNG, ``RNGStateHook``, ``num_workers=0``, CPU). The resumed
run must end with bit-identical weights and optimizer state.
"""
import glob
import io
import os
import os.path as osp
import random
import re
import signal
import subprocess

import pytest

import numpy as np
import torch

from kent_mm.engine.hooks import get_rng_state, set_rng_state
from kent_mm.utils import safe_load
from kent_testing import REPO, output, run_train, tool_env, train_args

TRAIN_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')


def _tensors(ckpt: dict) -> dict:
    """Weights and optimizer state of a checkpoint, flattened."""
    flat = {f'state_dict.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt['optimizer']['state'].items():
        for k, v in state.items():
            if torch.is_tensor(v):
                flat[f'optimizer.{pid}.{k}'] = v
    return flat


def _differences(a: dict, b: dict) -> list:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    return [(k, (ta[k].double() - tb[k].double()).abs().max().item())
            for k in ta if not torch.equal(ta[k], tb[k])]


def _kill_at(config: str, work_dir: str, epoch: int, it: int) -> tuple:
    """Start training; SIGKILL it right after iteration ``[epoch][it]``.

    Returns:
        tuple: (return code, log text).
    """
    proc = subprocess.Popen(train_args(config, work_dir), cwd=REPO,
                            env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            m = TRAIN_LINE.search(line)
            if m and (int(m[1]), int(m[2])) == (epoch, it):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=120)
        lines += proc.stdout.readlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, ''.join(lines)


@pytest.mark.runtime(14)
def test_sigkill_then_resume_gives_bit_identical_weights(
        resume_config, uninterrupted_run, tmp_path):
    seed = int(os.environ.get('KENT_KILL_SEED',
                              int.from_bytes(os.urandom(4), 'little')))
    rng = random.Random(seed)
    full = safe_load(osp.join(uninterrupted_run, 'epoch_3.pth'))
    iters = full['meta']['iter'] // 3  # iterations per epoch
    # Any iteration after the first checkpoint (epoch_1) with enough of the
    # run left that the kill lands before it ends; the kill may hit a
    # checkpoint save (after the last iteration of epoch 2).
    targets = [(2, i) for i in range(1, iters + 1)] + \
        [(3, i) for i in range(1, iters - 2)]
    epoch, it = rng.choice(targets)
    where = f'(KENT_KILL_SEED={seed}: killed after iteration [{epoch}][{it}])'

    work_dir = str(tmp_path / 'work')
    code, log = _kill_at(resume_config, work_dir, epoch, it)
    assert code == -signal.SIGKILL, f'not killed {where}:\n{log[-3000:]}'
    assert not osp.exists(osp.join(work_dir, 'epoch_3.pth')), where
    # Every checkpoint the killed run left is complete (atomic writes).
    for path in glob.glob(osp.join(work_dir, 'epoch_*.pth')):
        safe_load(path)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    resumed_epoch = int(re.search(r'epoch_(\d+)\.pth$', last)[1])
    assert resumed_epoch in (1, 2), where

    proc = run_train(resume_config, work_dir, '--resume')
    log = output(proc)
    assert proc.returncode == 0, f'{where}\n{log[-4000:]}'
    assert f'resumed epoch: {resumed_epoch}' in log, where
    # torch >= 2.6 loads with weights_only=True: no fallback, no warning.
    assert 'weights_only' not in log, where
    resumed = safe_load(osp.join(work_dir, 'epoch_3.pth'))
    assert resumed['meta']['iter'] == full['meta']['iter']
    diffs = _differences(resumed, full)
    assert not diffs, f'resumed != uninterrupted {where}: {diffs[:5]}'


@pytest.mark.runtime(8)
def test_resume_without_saved_rng_state_differs(resume_config,
                                                uninterrupted_run, tmp_path):
    """Control: the RNG state is what makes the test above pass.

    The same resume from epoch_1, but from a copy of the checkpoint without
    ``rng_state``, augments epochs 2-3 differently.
    """
    ckpt = safe_load(osp.join(uninterrupted_run, 'epoch_1.pth'))
    assert 'rng_state' in ckpt
    del ckpt['rng_state']
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    torch.save(ckpt, work_dir / 'epoch_1.pth')
    proc = run_train(resume_config, str(work_dir), '--resume',
                     str(work_dir / 'epoch_1.pth'))
    assert proc.returncode == 0, output(proc)[-4000:]
    resumed = safe_load(str(work_dir / 'epoch_3.pth'))
    full = safe_load(osp.join(uninterrupted_run, 'epoch_3.pth'))
    assert _differences(resumed, full)


def test_rng_state_round_trips_through_weights_only_load():
    state = get_rng_state()
    buf = io.BytesIO()
    torch.save(dict(rng_state=state), buf)
    buf.seek(0)
    # Plain torch, no allow-list: only tensors and builtins are stored.
    loaded = torch.load(buf, weights_only=True)['rng_state']

    def draw():
        return (random.random(), np.random.rand(3).tolist(),
                np.random.randn(), torch.rand(3).tolist())

    first = draw()
    set_rng_state(loaded)
    assert draw() == first
    set_rng_state(state)  # leave the global RNGs as they were


def test_rng_hook_warns_that_persistent_workers_break_exact_resume():
    from types import SimpleNamespace
    from unittest import mock

    from kent_mm.engine.hooks import RNGStateHook
    for persistent, workers, warned in [(True, 2, True), (False, 2, False),
                                        (True, 0, False)]:
        loader = SimpleNamespace(persistent_workers=persistent,
                                 num_workers=workers)
        runner = SimpleNamespace(train_loop=SimpleNamespace(
            dataloader=loader), logger=mock.Mock())
        RNGStateHook().before_train(runner)
        assert runner.logger.warning.called == warned
