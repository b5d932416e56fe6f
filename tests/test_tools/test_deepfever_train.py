"""DeepFEVER end to end through tools/train.py and tools/test.py:
AffectNet + FEC fixtures in one loop, both heads' losses fall over 50
iterations on a learnable fixture; checkpoint -> feature extractor; FEC
triplet accuracy; the FER2013 label-triplet proxy config trains (in-process
runner)."""
import glob
import json
import os.path as osp

import pytest
import torch

from fer_fixtures import (learnable_affectnet, learnable_fec,
                          write_fer2013_folders)
from kent_testing import REPO, build_runner, cached_config, check, run_tool

PIPE = """[dict(type='LoadFERImage'), dict(type='Resize', scale=(32, 32)),
        dict(type='PackInputs', algorithm_keys=('valence', 'arousal'))]"""
TRIPLET_PIPE = """[dict(type='LoadFERImage'), dict(type='Resize',
        scale=(32, 32)), dict(type='PackInputs')]"""


def tiny_config(path, base, expr_root, triplet_root=None, iters=50,
                wrapped=False, pipe=PIPE):
    """``configs/<base>`` at 32 px, serial loaders, lr 0.02, constant lr;
    the triplet loader reads ``triplet_root`` (or, ``wrapped``, its inner
    dataset reads ``expr_root``)."""
    data = f"dict(data_root={(triplet_root or expr_root)!r}, " \
        f"pipeline={TRIPLET_PIPE})"
    if wrapped:
        data = f'dict(dataset={data})'
    text = f"""
_base_ = [{osp.join(REPO, 'configs', base)!r}]
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={expr_root!r}, pipeline={pipe}))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={expr_root!r}, pipeline={pipe}))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(max_iters={iters}, val_interval={iters},
    extra_dataloaders=dict(triplet=dict(batch_size=8, num_workers=0,
        persistent_workers=False, dataset={data})))
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={iters}))
"""
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def _scalars(work_dir):
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert files, f'no scalars.json under {work_dir}'
    with open(files[0]) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope='module')
def trained(shared):
    """(config, work dir, log, AffectNet root, FEC root) of one run."""

    def build(tmp):
        aff = learnable_affectnet(tmp / 'affectnet', per_class=8,
                                  val_per_class=2)
        fec = osp.dirname(learnable_fec(tmp / 'fec', num=40))
        cfg = tiny_config(tmp / 'cfg.py',
                          'deepfever_resnet18_affectnet-fec.py', aff, fec)
        log = check(run_tool(['tools/train.py', cfg, '--work-dir',
                              tmp / 'work']))
        (tmp / 'log.txt').write_text(log)

    tmp = shared('deepfever', build)
    return (str(tmp / 'cfg.py'), str(tmp / 'work'),
            (tmp / 'log.txt').read_text(), str(tmp / 'affectnet'),
            str(tmp / 'fec'))


@pytest.mark.runtime(14)
def test_both_heads_losses_fall_over_50_iterations(trained):
    _, work, log, _, _ = trained
    train = [r for r in _scalars(work) if 'expression.loss_cls' in r]
    assert len(train) == 50
    for key in ('expression.loss_cls', 'expression.loss_va',
                'triplet.loss_triplet'):
        first = sum(r[key] for r in train[:10]) / 10
        last = sum(r[key] for r in train[-10:]) / 10
        assert last < 0.8 * first, (key, first, last)
    # Validation ran on AffectNet with accuracy and V/A metrics.
    val = [r for r in _scalars(work) if 'va/valence_ccc' in r]
    assert val and 'accuracy/top1' in val[-1] and 'va/arousal_rmse' in val[-1]
    assert osp.isfile(osp.join(work, 'iter_50.pth'))


def test_checkpoint_is_a_feature_extractor(trained):
    """The DeepFEVER config and the encoder-only config both give the same
    encoder features from the checkpoint."""
    from mmpretrain import get_model

    from kent_mm.utils import checkpoint_safe_globals
    cfg, work, _, _, _ = trained
    ckpt = osp.join(work, 'iter_50.pth')
    x = torch.randn(2, 3, 32, 32)
    encoder_cfg = cached_config(
        osp.join(REPO, 'configs', 'deepfever_resnet18_encoder.py'))
    with checkpoint_safe_globals():  # a training checkpoint
        model = get_model(cached_config(cfg), pretrained=ckpt).eval()
        encoder = get_model(encoder_cfg, pretrained=ckpt).eval()
    with torch.no_grad():
        a = model.extract_feat(x)[0]
        b = encoder.extract_feat(x)[0]
    assert a.shape == (2, 512) and torch.allclose(a, b, atol=1e-5)


def test_fec_triplet_accuracy_with_test_tool(trained, tmp_path):
    cfg, work, _, _, fec = trained
    test_cfg = tmp_path / 'fec_test.py'
    test_cfg.write_text(f"""_base_ = [{cfg!r}]
test_dataloader = dict(_delete_=True, batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='fer_triplet_collate'),
    dataset=dict(type='FEC', data_root={fec!r}, split='train',
                 pipeline={TRIPLET_PIPE}))
test_evaluator = {{{{_base_.fec_test_evaluator}}}}
""")
    log = check(run_tool(['tools/test.py', test_cfg,
                          osp.join(work, 'iter_50.pth'), '--work-dir',
                          tmp_path / 'w']))
    import re
    acc = float(re.search(r'triplet/accuracy: (\d+\.\d+)', log).group(1))
    assert acc > 60.0  # learnable fixture: well above chance (33%)


def test_fer2013_proxy_config_trains(tmp_path, lean_runner):
    root = write_fer2013_folders(tmp_path / 'fer2013', per_class=(3, 1, 1))
    cfg = tiny_config(tmp_path / 'cfg.py', 'deepfever_resnet18_fer2013.py',
                      root, iters=3, wrapped=True, pipe=TRIPLET_PIPE)
    work = str(tmp_path / 'work')
    build_runner(cfg, work).train()
    rows = [r for r in _scalars(work) if 'triplet.loss_triplet' in r]
    assert len(rows) == 3 and 'expression.loss_va' not in rows[0]
