import pytest
import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from kent_mm.models.necks import E2NNeck
from kent_mm.models.necks.e2n_neck import fuse_affine


def test_train_returns_n_then_v_eval_returns_v_only():
    neck = E2NNeck(in_channels=16, out_channels=8, neutral_channels=4)
    x = (torch.randn(3, 16, 2, 2), )
    n, v = neck(x)
    assert v.shape == n.shape == (3, 8)
    torch.testing.assert_close(v, neck.embed(x[0].mean((2, 3))))
    torch.testing.assert_close(n, neck.neutral(v))
    neck.eval()
    out = neck(x)
    assert len(out) == 1 and out[0].shape == (3, 8)
    neck.return_neutral = True
    n, v = neck(x)
    torch.testing.assert_close(n, neck.neutral(v))


def test_a_stock_head_after_the_neck_classifies_v_not_n():
    # MMPretrain heads read the last neck output (pre_logits = feats[-1]):
    # with F_n on, that must be v.
    neck = E2NNeck(in_channels=16, out_channels=8, neutral_channels=4)
    x = (torch.randn(3, 16, 2, 2), )
    feats = neck(x)
    head = LinearClsHead(num_classes=3, in_channels=8)
    torch.testing.assert_close(head.pre_logits(feats),
                               neck.embed(x[0].mean((2, 3))))


def test_checkpoint_keys_are_unchanged():
    # Released checkpoints hold exactly these keys (the pooling has none).
    neck = E2NNeck(in_channels=16, out_channels=8, neutral_channels=4)
    bn = ['weight', 'bias', 'running_mean', 'running_var',
          'num_batches_tracked']
    assert list(neck.state_dict()) == (
        ['embed.0.weight'] + [f'embed.1.{k}' for k in bn] +
        ['embed.2.weight'] + [f'embed.3.{k}' for k in bn] + [
            'neutral.0.weight', 'neutral.0.bias', 'neutral.2.weight',
            'neutral.2.bias'
        ])


def test_no_neutral_network_gives_v_only_for_a_linear_head():
    neck = E2NNeck(in_channels=16, out_channels=8, neutral_channels=None)
    assert neck.neutral is None
    x = (torch.randn(3, 16, 2, 2), )
    out = neck(x)
    assert len(out) == 1 and out[0].shape == (3, 8)
    neck.return_neutral = True
    assert len(neck.eval()(x)) == 1
    # A linear head trains on v (its pre_logits takes the last output).
    head = LinearClsHead(num_classes=3, in_channels=8)
    samples = [DataSample().set_gt_label(i) for i in range(3)]
    loss = head.loss(neck.train()(x), samples)['loss']
    loss.backward()
    assert neck.embed[0].weight.grad.abs().sum() > 0


def test_accepts_pooled_features_and_checks_channels():
    neck = E2NNeck(in_channels=16, out_channels=8).eval()
    assert neck((torch.randn(2, 16), ))[0].shape == (2, 8)
    with pytest.raises(ValueError, match='model.neck.in_channels'):
        neck((torch.randn(2, 12, 2, 2), ))


def test_embedding_head_has_official_structure():
    neck = E2NNeck(in_channels=768, mid_channels=768, out_channels=512)
    lin1, bn1, lin2, bn2 = neck.embed
    assert lin1.bias is None and lin2.bias is None
    assert (lin1.in_features, lin1.out_features) == (768, 768)
    assert (lin2.in_features, lin2.out_features) == (768, 512)
    assert neck.neutral[0].out_features == 128
    # The authors' BatchNorm1d(eps=2e-5), not PyTorch's 1e-5.
    assert bn1.eps == bn2.eps == 2e-5
    assert E2NNeck(in_channels=8, norm_eps=1e-3).embed[1].eps == 1e-3


def test_out_norm_false_ends_the_embedding_head_with_the_linear():
    neck = E2NNeck(in_channels=16, out_channels=8, out_norm=False)
    assert [type(m).__name__ for m in neck.embed] == [
        'Linear', 'BatchNorm1d', 'Linear']
    # Without the last BatchNorm, v can put all its norm in a few
    # directions: scaling W2's rows scales those channels of v.
    with torch.no_grad():
        neck.embed[2].weight[1:] = 0
    _, v = neck((torch.randn(4, 16), ))
    assert v[:, 1:].abs().max() == 0 and v[:, 0].abs().min() > 0


def trained_like_neck(**kwargs):
    """An eval-mode neck whose BatchNorms have non-trivial statistics and
    affine parameters (fresh ones are the identity and hide fusion bugs)."""
    torch.manual_seed(0)
    neck = E2NNeck(in_channels=16, out_channels=8, **kwargs)
    with torch.no_grad():
        for m in neck.embed:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.)
                m.weight.normal_()
                m.bias.normal_()
    return neck.eval()


def test_fuse_affine_matches_the_chain_and_refuses_non_affine_layers():
    torch.manual_seed(0)
    chain = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4, affine=False),
        torch.nn.Linear(4, 3, bias=False), torch.nn.BatchNorm1d(3)).eval()
    for m in chain:
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.)
    x = torch.randn(6, 5)
    fused = fuse_affine(list(chain))
    assert isinstance(fused, torch.nn.Linear)
    torch.testing.assert_close(fused(x), chain(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(TypeError, match='ReLU'):
        fuse_affine([torch.nn.Linear(5, 4), torch.nn.ReLU()])


@pytest.mark.parametrize('out_norm', [True, False])
def test_switch_to_deploy_gives_the_same_v_with_one_linear(out_norm):
    neck = trained_like_neck(out_norm=out_norm)
    x = (torch.randn(4, 16, 3, 3), )
    ref = neck(x)[0].detach()
    neck.switch_to_deploy()
    assert neck.deploy and isinstance(neck.embed, torch.nn.Linear)
    torch.testing.assert_close(neck(x)[0], ref, atol=1e-5, rtol=1e-5)
    neck.switch_to_deploy()  # idempotent
    assert isinstance(neck.embed, torch.nn.Linear)


def test_deploy_checkpoint_loads_into_a_deploy_neck():
    neck = trained_like_neck()
    neck.switch_to_deploy()
    x = (torch.randn(2, 16), )
    deployed = E2NNeck(in_channels=16, out_channels=8, deploy=True).eval()
    deployed.load_state_dict(neck.state_dict())
    torch.testing.assert_close(deployed(x)[0], neck(x)[0])


def test_inference_uses_no_float64_for_devices_without_it():
    # Apple MPS has no float64: neither the eval forward nor the fusion may
    # run float64 ops on the model's device (the fusion runs it on the CPU,
    # which this test cannot tell apart here, so it watches the forward).
    from torch.overrides import TorchFunctionMode

    class Float64Watch(TorchFunctionMode):
        seen = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and out.dtype == torch.float64:
                self.seen.append(func)
            return out

    neck = trained_like_neck()
    x = (torch.randn(1, 16, 2, 2), )
    with torch.no_grad(), Float64Watch() as watch:
        neck(x)
    assert watch.seen == []


def test_half_model_gives_finite_v_for_tiny_features():
    neck = trained_like_neck().half()
    v, = neck((torch.full((2, 16), 1e-6, dtype=torch.float16), ))
    assert torch.isfinite(v).all()
