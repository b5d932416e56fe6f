import pytest
import torch

from kent_mm.models.necks import E2NNeck
from kent_mm.models.necks.e2n_neck import fuse_affine


def test_train_returns_v_and_n_eval_returns_v_only():
    neck = E2NNeck(in_channels=16, out_channels=8, neutral_channels=4)
    x = (torch.randn(3, 16, 2, 2), )
    v, n = neck(x)
    assert v.shape == n.shape == (3, 8)
    neck.eval()
    out = neck(x)
    assert len(out) == 1 and out[0].shape == (3, 8)
    neck.return_neutral = True
    assert len(neck(x)) == 2


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


def layer_by_layer(neck, x):
    with torch.no_grad():
        return neck.embed(neck.gap(x).flatten(1))


def test_fuse_affine_matches_the_chain_and_refuses_non_affine_layers():
    torch.manual_seed(0)
    chain = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4, affine=False),
        torch.nn.Linear(4, 3, bias=False), torch.nn.BatchNorm1d(3)).eval()
    with torch.no_grad():
        chain[1].running_mean.normal_()
        chain[3].running_var.uniform_(0.5, 2.)
        chain[3].bias.normal_()
        x = torch.randn(6, 5)
        weight, bias = fuse_affine(chain)
        assert weight.shape == (3, 5) and bias.shape == (3, )
        assert weight.dtype == torch.float32
        torch.testing.assert_close(x @ weight.t() + bias, chain(x))
    assert fuse_affine([torch.nn.Linear(3, 3), torch.nn.ReLU()]) is None
    assert fuse_affine([torch.nn.BatchNorm1d(3).train()]) is None
    assert fuse_affine([]) is None


def test_eval_without_grad_uses_the_fused_head_with_the_same_output():
    neck = trained_like_neck()
    x = torch.randn(3, 16, 2, 2)
    with torch.no_grad():
        v = neck((x, ))[0]
    assert neck._fused is not None and neck._fused[3] is not None
    torch.testing.assert_close(v, layer_by_layer(neck, x))
    with torch.inference_mode():
        torch.testing.assert_close(neck((x, ))[0], v)
        # Batch 1 (a 1-row product with the stored W.T).
        torch.testing.assert_close(neck((x[:1], ))[0], v[:1])


def test_grad_enabled_eval_runs_the_layers_so_they_get_gradients():
    # E.g. fine-tuning with frozen BatchNorm statistics in eval mode.
    neck = trained_like_neck()
    neck((torch.randn(3, 16, 2, 2), ))[0].sum().backward()
    assert neck._fused is None
    assert neck.embed[0].weight.grad is not None


def test_fused_head_follows_every_change_of_the_layers():
    neck = trained_like_neck()
    x = torch.randn(3, 16, 2, 2)

    def check():
        with torch.no_grad():
            torch.testing.assert_close(neck((x, ))[0],
                                       layer_by_layer(neck, x))

    check()
    # In-place update (what optimizers and copy_ do).
    with torch.no_grad():
        neck.embed[0].weight.mul_(2.)
    check()
    # load_state_dict, including a whole other model.
    other = trained_like_neck()
    with torch.no_grad():
        other.embed[2].weight.normal_()
    neck.load_state_dict(other.state_dict())
    check()
    # Training steps move the BatchNorm running statistics.
    neck.train()
    neck((torch.randn(4, 16, 2, 2) + 3., ))
    neck.eval()
    check()
    # In-place change of a running statistic in eval mode.
    with torch.no_grad():
        neck.embed[3].running_mean.add_(1.)
    check()
    neck.embed[1].reset_running_stats()
    check()
    # Dtype conversion.
    neck.double()
    x = x.double()
    check()
    assert neck._fused[3][0].dtype == torch.float64


def test_fuse_eval_false_keeps_the_layers():
    neck = trained_like_neck(fuse_eval=False)
    with torch.no_grad():
        neck((torch.randn(3, 16, 2, 2), ))
    assert neck._fused is None


def test_unfusable_embedding_falls_back_to_the_layers():
    neck = trained_like_neck()
    neck.embed.insert(2, torch.nn.ReLU())  # a user's non-linear variant
    neck.eval()
    x = torch.randn(3, 16, 2, 2)
    with torch.no_grad():
        v = neck((x, ))[0]
    assert neck._fused[3] is None
    torch.testing.assert_close(v, layer_by_layer(neck, x))


def test_hooked_or_training_layers_run_as_they_are():
    neck = trained_like_neck()
    x = torch.randn(3, 16, 2, 2)
    with torch.no_grad():
        neck((x, ))  # a valid cache exists
        seen = []
        handle = neck.embed[2].register_forward_hook(
            lambda m, i, o: seen.append(o.shape))
        neck((x, ))
        assert seen == [(3, 8)]  # the hook saw its layer run
        handle.remove()
        # A BatchNorm put in train mode on its own uses batch statistics.
        neck.embed[1].train()
        torch.testing.assert_close(neck((x, ))[0], layer_by_layer(neck, x))
        assert neck.embed[1].num_batches_tracked.item() > 0


def test_batch_one_under_cpu_autocast():
    # bf16 features against the float32 fused weights: autocast must cast
    # them as it does for the layers (addmv, for one, is not cast).
    neck = trained_like_neck()
    x = torch.randn(1, 16, 2, 2)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        v = neck((x.bfloat16(), ))[0]
    torch.testing.assert_close(v.float(), layer_by_layer(neck, x),
                               atol=0.1, rtol=0.05)


def test_model_built_under_inference_mode_runs_its_layers():
    # Inference tensors have no version counter to check a cache against.
    with torch.inference_mode():
        neck = trained_like_neck()
        x = torch.randn(2, 16, 2, 2)
        v = neck((x, ))[0]
        torch.testing.assert_close(v, neck.embed(neck.gap(x).flatten(1)))
    assert neck._fused is None
