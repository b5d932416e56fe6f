"""Details of the official KENT recipe that the configs must reproduce."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmpretrain.registry import MODELS, TRANSFORMS

import kent_mm  # noqa: F401
from kent_testing import REPO, cached_config

KENT_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'kent_*.py')))


@pytest.mark.parametrize('config', KENT_CONFIGS, ids=osp.basename)
def test_embedding_head_batchnorm_eps_is_the_authors(config):
    neck = MODELS.build(cached_config(config).model.neck)
    norms = [m for m in neck.embed if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 2 and all(m.eps == 2e-5 for m in norms)


def test_random_erasing_fill_normalises_to_zero():
    # The pipeline erases before the data preprocessor, on BGR uint8 images;
    # the official code erases with 0 after normalisation.
    cfg = cached_config(osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py'))
    erase_cfg = [t for t in cfg.train_dataloader.dataset.pipeline
                 if t['type'] == 'RandomErasing'][0]
    erase = TRANSFORMS.build(dict(erase_cfg, erase_prob=1.0))
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (112, 112, 3)).astype(np.uint8)
    np.random.seed(0)
    out = erase(dict(img=img.copy()))['img']
    erased = np.any(out != img, axis=-1)
    assert erased.sum() > 100
    pre = cfg.model.data_preprocessor
    assert pre.to_rgb  # BGR images -> RGB model input
    rgb = out[..., ::-1].astype(np.float64)
    normed = (rgb - np.array(pre.mean)) / np.array(pre.std)
    assert np.abs(normed[erased]).max() < 0.01


class _OneWeight(BaseModel):

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=(self.w - 1).pow(2).sum())


class _Tiny(torch.utils.data.Dataset):

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return dict(inputs=torch.zeros(1))


class _RecordLR(Hook):

    def __init__(self):
        self.lrs = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        lr = runner.optim_wrapper.get_lr()['lr'][0]
        self.lrs.append((runner.epoch, batch_idx, lr))


def test_warmup_epoch_runs_every_iteration_at_1e_4(tmp_path):
    cfg = cached_config(
        osp.join(REPO, 'configs', '_base_', 'schedules', 'kent_sgd_50e.py'))
    record = _RecordLR()
    runner = Runner(
        model=_OneWeight(), work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_Tiny(), batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=cfg.optim_wrapper,
        param_scheduler=cfg.param_scheduler,
        train_cfg=dict(by_epoch=True, max_epochs=3),
        custom_hooks=[record],
        default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmpretrain')
    runner.train()
    by_epoch = {}
    for epoch, _, lr in record.lrs:
        by_epoch.setdefault(epoch, []).append(lr)
    assert len(by_epoch[0]) == 5
    # Epoch 1: every iteration at the constant 1e-4.
    assert by_epoch[0] == pytest.approx([1e-4] * 5)
    # Then the cosine starts at the base rate, stepped per epoch
    # (T_max 50, as the official CosineAnnealingLR).
    assert by_epoch[1] == pytest.approx([2e-3] * 5)
    cos1 = 2e-3 * (1 + np.cos(np.pi / 50)) / 2
    assert by_epoch[2] == pytest.approx([cos1] * 5)
