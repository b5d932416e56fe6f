"""The private MMEngine names kent_mm relies on still work as it assumes.

``MultiTaskIterBasedTrainLoop`` builds and iterates its extra dataloaders
exactly as MMEngine's ``IterBasedTrainLoop`` does its ``train_dataloader``,
which takes two private names: ``Runner._randomness_cfg`` (whether ranks
get different seeds) and ``_InfiniteDataloaderIterator`` (restart and
``set_epoch`` when a loader runs out). These tests fail when MMEngine
changes either. (The safe-loading internals are checked in
test_safe_load.py and tests/test_tools/test_analysis_utils.py.)
"""
import uuid

import torch.nn as nn
from mmengine.dataset import DefaultSampler
from mmengine.runner import Runner
from torch.utils.data import DataLoader


def test_runner_keeps_the_randomness_config(tmp_path, lean_runner):
    runner = Runner(model=nn.Linear(2, 2), work_dir=str(tmp_path),
                    randomness=dict(seed=3, diff_rank_seed=True),
                    experiment_name=f'test_{uuid.uuid4().hex[:12]}')
    assert runner._randomness_cfg['diff_rank_seed'] is True
    assert runner._randomness_cfg['seed'] == 3


def test_infinite_iterator_restarts_and_advances_the_sampler_epoch(
        monkeypatch):
    from mmengine.runner import loops
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    monkeypatch.setattr(loops.time, 'sleep', lambda s: None)
    data = list(range(3))
    sampler = DefaultSampler(data, shuffle=False)
    it = _InfiniteDataloaderIterator(
        DataLoader(data, batch_size=2, sampler=sampler))
    batches = [next(it).tolist() for _ in range(5)]
    assert batches == [[0, 1], [2], [0, 1], [2], [0, 1]]
    assert sampler.epoch == 2
