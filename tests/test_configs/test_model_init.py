"""Initialisation of the configs' models: KENT's emotional-to-neutral
network F_n (``neck.neutral``) keeps PyTorch's default initialisation, as in
the authors' code, on every backbone."""
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead
from kent_testing import REPO, cached_config, write_text_file


def initialised_model(config, tmp_path):
    """``config``'s model, offline (random backbone, random text file),
    after ``init_weights()``."""
    cfg = cached_config(osp.join(REPO, 'configs', config))
    cfg.model.backbone.init_cfg = None
    names = KENTHead.text_names(cfg.model.head.class_names)
    cfg.model.head.text_embeddings = dict(
        type='PrecomputedTextEmbeddings',
        file=write_text_file(tmp_path / 'text.pth', names))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        model.init_weights()  # kent_mm's initialisers: mmpretrain's scope
    return model


def assert_pytorch_default(linear: nn.Linear):
    """Weight and bias uniform in +-1/sqrt(fan_in) (std bound/sqrt(3)), not
    TruncNormal(std 0.02) with zero bias."""
    bound = 1 / math.sqrt(linear.in_features)
    for param, rel in ((linear.weight, 0.05), (linear.bias, 0.25)):
        assert param.abs().max() <= bound
        assert param.std().item() == pytest.approx(bound / math.sqrt(3),
                                                   rel=rel)


@pytest.mark.parametrize('config', [
    'kent_resnet18_rafdb.py',
    pytest.param('kent_swin-t_rafdb.py', marks=pytest.mark.runtime(10)),
])
def test_neutral_network_keeps_pytorch_default_init(config, tmp_path):
    neck = initialised_model(config, tmp_path).neck
    linears = [m for m in neck.neutral if isinstance(m, nn.Linear)]
    assert len(linears) == 2
    for linear in linears:
        assert_pytorch_default(linear)
    if 'swin' in config:
        # Swin's model-wide TruncNormal still reaches the embedding head.
        assert neck.embed[0].weight.std().item() == pytest.approx(0.02,
                                                                  rel=0.05)


def test_pytorch_default_init_by_layer_type_and_without_f_n():
    """``layer`` resets only the named types; an override naming an absent
    F_n (``neutral_channels=None``) has nothing to reset."""
    from kent_mm.models.necks import E2NNeck
    init_cfg = [
        dict(type='Constant', layer=['Linear', 'BatchNorm1d'], val=0.5),
        dict(type='PyTorchDefault', layer='Linear',
             override=dict(name='neutral')),
    ]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        neck = E2NNeck(in_channels=64, out_channels=32, neutral_channels=None,
                       init_cfg=init_cfg)
        neck.init_weights()
    linear, norm = neck.embed[0], neck.embed[1]
    assert (norm.weight == 0.5).all()  # not a Linear: kept
    bound = 1 / math.sqrt(linear.in_features)
    assert linear.weight.abs().max() <= bound
    assert not (linear.weight == 0.5).any()


def test_pytorch_default_init_is_named_in_mmengine_init_log():
    """MMEngine's initialisation log names ``PyTorchDefaultInit`` for every
    parameter it resets (F_n here): it feeds MMEngine's per-parameter
    ``_params_init_info`` as MMEngine's own initialisers do; this fails if
    that protocol changes upstream."""
    import logging

    from mmengine.logging import MMLogger

    from kent_mm.models.necks import E2NNeck
    messages = []

    class Catch(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    # A fresh current logger without a file handler: MMEngine then logs the
    # init information instead of writing it to the log file.
    logger = MMLogger.get_instance('test_pytorch_default_init_log')
    catch = Catch()
    logger.addHandler(catch)
    try:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            neck = E2NNeck(in_channels=64, out_channels=32,
                           neutral_channels=16,
                           init_cfg=[dict(type='PyTorchDefault',
                                          layer='Linear',
                                          override=dict(name='neutral'))])
            neck.init_weights()
    finally:
        logger.removeHandler(catch)
    neutral = [m for m in messages if m.lstrip().startswith('neutral.')]
    assert len(neutral) == sum(1 for _ in neck.neutral.parameters()) > 0
    assert all('PyTorchDefaultInit: reset_parameters()' in m for m in neutral)
