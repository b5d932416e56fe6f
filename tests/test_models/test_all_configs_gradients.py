"""Every trainable parameter of KENT's neck and head gets a gradient in every
step, in every configuration the head accepts.

MMEngine wraps models in DDP with ``find_unused_parameters=False``: a
parameter without a gradient in one step (even on one rank, e.g. a batch of
neutral faces only) stops training with "Expected to have finished
reduction in the prior iteration".
"""
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead
from kent_mm.models.heads.kent_head import find_neutral
from kent_mm.models.text import save_text_cache
from kent_testing import REPO, cached_config

CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'kent_*.py')) +
    glob.glob(osp.join(REPO, 'configs', 'ablations', '*.py')))
RAFDB = osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py')

#: Head settings beyond the configs' own, each with a neck that has F_n.
VARIANTS = {
    'no-lt-no-lc': dict(loss_transform=None, loss_contrast=None),
    'no-lc': dict(loss_contrast=None),
    'no-lt': dict(loss_transform=None),
    'no-lt-lc-cross-sample': dict(
        loss_transform=None,
        loss_contrast=dict(type='SelfContrastLoss', mode='cross_sample')),
    'lc-matched': dict(
        loss_contrast=dict(type='SelfContrastLoss', mode='matched')),
    'learn-scale-centred': dict(learn_scale=True, center_text=True),
}


class NeckHead(nn.Module):
    """The neck and head of a config, text features random (offline)."""

    def __init__(self, model_cfg, text_file: str, **head_kwargs) -> None:
        super().__init__()
        head_cfg = dict(model_cfg.head, **head_kwargs)
        head_cfg['text_embeddings'] = dict(type='PrecomputedTextEmbeddings',
                                           file=text_file)
        self.neck = MODELS.build(model_cfg.neck)
        self.head = MODELS.build(head_cfg)
        self.head.init_weights()

    def forward(self, x: torch.Tensor, samples) -> torch.Tensor:
        return sum(self.head.loss(self.neck((x, )), samples).values())


def build(config: str, tmp_path, **head_kwargs):
    """``(NeckHead, labels of an all-neutral batch)`` of a config."""
    cfg = cached_config(config).model
    names = list(cfg.head.class_names)
    text_names = KENTHead.text_names(names, cfg.head.get('neutral_class'))
    text_file = str(tmp_path / 'text.pth')
    g = torch.Generator().manual_seed(0)
    save_text_cache(text_file,
                    torch.randn(len(text_names), cfg.head.in_channels,
                                generator=g), dict(class_names=text_names))
    model = NeckHead(cfg, text_file, **head_kwargs).train()
    neutral = find_neutral(names, cfg.head.get('neutral_class'))
    # Without a neutral class (CK+): a batch of one expression.
    return model, [max(neutral, 0)] * 4


def assert_every_parameter_has_a_gradient(model, labels):
    samples = [DataSample().set_gt_label(i) for i in labels]
    x = torch.randn(len(labels), model.neck.in_channels, 2, 2)
    model(x, samples).backward()
    missing = [name for name, p in model.named_parameters()
               if p.requires_grad and p.grad is None]
    assert missing == []


@pytest.mark.parametrize('config', CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO))
def test_config_gives_every_parameter_a_gradient_on_an_all_neutral_batch(
        config, tmp_path):
    model, labels = build(config, tmp_path)
    assert model.neck.neutral is not None  # F_n is there to be missed
    assert_every_parameter_has_a_gradient(model, labels)


@pytest.mark.parametrize('labels', [[6, 6, 6, 6], [0, 6, 3, 6]],
                         ids=['all-neutral', 'mixed'])
@pytest.mark.parametrize('variant', VARIANTS)
def test_head_variant_gives_every_parameter_a_gradient(
        variant, labels, tmp_path):
    model, _ = build(RAFDB, tmp_path, **VARIANTS[variant])
    assert model.head.neutral_index == 6
    assert_every_parameter_has_a_gradient(model, labels)


@pytest.mark.parametrize('variant', ['no-lt-no-lc', 'no-lc'])
def test_ddp_without_unused_parameter_search_trains(variant, tmp_path):
    """MMEngine's DDP wrapper (find_unused_parameters=False), gloo, world
    size 1: the second step fails if the first left a parameter unused."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    assert not dist.is_initialized()
    dist.init_process_group('gloo', init_method=f"file://{tmp_path / 'pg'}",
                            rank=0, world_size=1)
    try:
        model, labels = build(RAFDB, tmp_path, **VARIANTS[variant])
        ddp = MMDistributedDataParallel(model)
        samples = [DataSample().set_gt_label(i) for i in labels]
        for _ in range(3):
            ddp(torch.randn(4, 512, 2, 2), samples).backward()
    finally:
        dist.destroy_process_group()
