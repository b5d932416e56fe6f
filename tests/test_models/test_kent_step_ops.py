"""What a KENT training step runs on the device: no host synchronisation,
no data-dependent shape, no op that is nondeterministic on CUDA.

The ATen ops are recorded on the CPU (:class:`OpWatch`); Python code turns
into the same ops on a GPU.
"""
import pytest
import torch
import torch.nn as nn
from mmpretrain.models.necks import GlobalAveragePooling
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.models.losses import EmotionalToNeutralLoss, SelfContrastLoss
from kent_mm.models.losses.ccc_loss import CCCLoss
from kent_mm.models.losses.triplet_loss import FECTripletLoss
from kent_mm.models.necks import E2NNeck
from kent_mm.models.text import save_text_cache
from test_models.op_watch import OpWatch

CLASSES = ('happiness', 'sadness', 'neutral')
NEUTRAL = 2


def build_head(tmp_path, **kwargs):
    torch.manual_seed(0)
    path = str(tmp_path / 'text.pth')
    save_text_cache(path, torch.randn(3, 4), dict(class_names=list(CLASSES)))
    head = MODELS.build(dict(
        type='KENTHead', num_classes=3, class_names=CLASSES, in_channels=4,
        text_embeddings=dict(type='PrecomputedTextEmbeddings', file=path),
        **kwargs))
    head.init_weights()
    return head


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def kent_step(tmp_path, labels, **head_kwargs):
    """Neck + head forward and backward of one batch; the recorded ops."""
    head = build_head(tmp_path, **head_kwargs)
    neck = E2NNeck(in_channels=8, out_channels=4, neutral_channels=3)
    x = (torch.randn(len(labels), 8, 2, 2), )
    with OpWatch() as watch:
        losses = head.loss(neck(x), samples(labels))
        sum(losses.values()).backward()
    return watch


def test_op_watch_sees_syncs_masks_and_nondeterministic_ops():
    # The watch itself: each kind of op it must catch.
    x = torch.randn(4, 3, 4, 4, requires_grad=True)
    mask = torch.tensor([True, False, True, True])
    with OpWatch() as watch:
        bool(mask.any())
        y = x[mask]
        nn.AdaptiveAvgPool2d(2)(y).sum().backward()
        torch.zeros(3).index_add_(0, torch.tensor([0, 0]), torch.ones(2))
    assert watch.host_syncs == [
        '_local_scalar_dense', 'index (boolean mask)',
        'index_put (boolean mask)'
    ]
    assert watch.nondeterministic == [
        '_adaptive_avg_pool2d_backward', 'index_put (accumulate=True)',
        'index_add_'
    ]


@pytest.mark.parametrize('mode', SelfContrastLoss.MODES)
@pytest.mark.parametrize('labels', [[0, 2, 1, 0, 2, 1], [2, 2, 2, 2]],
                         ids=['mixed', 'all-neutral'])
def test_kent_step_has_no_host_sync_and_no_nondeterministic_op(
        tmp_path, mode, labels):
    watch = kent_step(
        tmp_path, labels, learn_scale=True,
        loss_contrast=dict(type='SelfContrastLoss', mode=mode))
    assert watch.ops  # something was recorded
    assert watch.host_syncs == []
    assert watch.nondeterministic == []


@pytest.mark.parametrize('mode', SelfContrastLoss.MODES)
def test_head_loss_compiles_as_one_graph(tmp_path, mode):
    head = build_head(tmp_path, learn_scale=True,
                      loss_contrast=dict(type='SelfContrastLoss', mode=mode))
    torch.compiler.reset()
    compiled = torch.compile(head.loss, fullgraph=True, backend='eager')
    for labels in ([0, 2, 1, 0, 2, 1], [2, 2, 2, 2, 2, 2]):
        feats = (torch.randn(6, 4), torch.randn(6, 4))
        out = compiled(feats, samples(labels))
        ref = head.loss(feats, samples(labels))
        assert set(out) == set(ref) == {'loss_s', 'loss_t', 'loss_c'}
        for key in ref:
            torch.testing.assert_close(out[key], ref[key])


def loss_inputs():
    torch.manual_seed(0)
    v = torch.randn(6, 4, requires_grad=True)
    n = torch.randn(6, 4, requires_grad=True)
    return v, n, torch.randn(6, 4), torch.randn(4)


MASKS = {
    'mixed': torch.tensor([True, False, True, True, False, True]),
    'empty': torch.zeros(6, dtype=torch.bool),
}
LABELS = torch.tensor([0, 2, 0, 1, 2, 1])


@pytest.mark.parametrize('mask', MASKS, ids=str)
@pytest.mark.parametrize('loss', [EmotionalToNeutralLoss()] + [
    SelfContrastLoss(mode=m) for m in SelfContrastLoss.MODES
], ids=['L_t'] + [f'L_c-{m}' for m in SelfContrastLoss.MODES])
def test_kent_losses_compile_as_one_graph(loss, mask):
    """fullgraph=True fails on any graph break: a Python branch on a tensor
    value, or a shape that depends on the mask."""
    v, n, text, text_neutral = loss_inputs()
    if isinstance(loss, EmotionalToNeutralLoss):
        args = (v, n, text, text_neutral, MASKS[mask])
    else:
        args = (v, n, text, MASKS[mask], LABELS)
    torch.compiler.reset()
    compiled = torch.compile(loss, fullgraph=True, backend='eager')
    out = compiled(*args)
    torch.testing.assert_close(out, loss(*args))
    out.backward()
    assert v.grad is not None


def test_deepfever_losses_use_no_nondeterministic_op():
    # The triplet loss orders images by the answer: a gather would put a
    # scatter-add in the backward.
    emb = torch.randn(4, 3, 5, requires_grad=True)
    answers = torch.tensor([1, 2, 3, 1])
    types = torch.tensor([0, 1, 2, 0])
    pred = torch.randn(6, 2, requires_grad=True)
    with OpWatch() as watch:
        (FECTripletLoss()(emb, answers, types) +
         CCCLoss()(pred, torch.rand(6, 2))).backward()
    assert watch.host_syncs == [] and watch.nondeterministic == []


def test_mmpretrain_gap_neck_pools_with_a_mean():
    # docs/reliability.md: MMPretrain's GlobalAveragePooling (the baselines'
    # and DeepFEVER's neck) can run in deterministic mode because
    # AdaptiveAvgPool2d to 1x1 dispatches a mean, not the adaptive pooling
    # kernel whose CUDA backward raises there. This fails if torch changes
    # that.
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    for inputs in (x, x.to(memory_format=torch.channels_last)):
        with OpWatch() as watch:
            GlobalAveragePooling()((inputs, ))[0].sum().backward()
        assert 'mean' in watch.ops
        assert watch.nondeterministic == []
