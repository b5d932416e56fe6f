"""Two CPU runs with the same seed log identical losses.

``randomness = dict(seed=29, deterministic=False)`` from the default runtime
is enough on CPU: ``deterministic=True`` only changes cuDNN settings and
``torch.use_deterministic_algorithms``, and the CPU kernels used here are
deterministic for a fixed thread count (the runs use one thread).
"""
import glob
import json
import os.path as osp

import pytest

from kent_testing import output, run_train


def _train_losses(work_dir: str) -> dict:
    """``{step: {loss name: value}}`` from the run's ``scalars.json``.

    The file holds full-precision floats (the text log rounds to 4 digits).
    """
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    losses = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            found = {k: v for k, v in rec.items() if k.startswith('loss')}
            if found:
                losses[rec['step']] = found
    return losses


@pytest.mark.runtime(18)
def test_same_seed_same_losses_for_20_iterations(resume_config,
                                                 uninterrupted_run, tmp_path):
    work_dir = str(tmp_path / 'work')
    proc = run_train(resume_config, work_dir)
    assert proc.returncode == 0, output(proc)[-4000:]
    first, second = _train_losses(uninterrupted_run), _train_losses(work_dir)
    steps = list(range(1, 21))
    assert set(steps) <= set(first) and set(steps) <= set(second)
    assert {'loss', 'loss_s', 'loss_t', 'loss_c'} <= set(first[1])
    # Exact float equality, iteration by iteration.
    assert [first[s] for s in steps] == [second[s] for s in steps]
    # Not vacuous: the losses change from iteration to iteration.
    assert len({first[s]['loss'] for s in steps}) > 10
