"""BF16OptimWrapper: bfloat16 autocast forward, float32 parameters and
gradients, on the CPU."""
import pytest
import torch
import torch.nn as nn
from mmpretrain.registry import OPTIM_WRAPPERS

from kent_mm.engine.optimizers import BF16OptimWrapper


def test_registered():
    assert OPTIM_WRAPPERS.get('BF16OptimWrapper') is BF16OptimWrapper


def _wrapper(model, **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # loss_scale as MMPretrain's --amp sets it: accepted and ignored.
    return BF16OptimWrapper(optimizer=optimizer, loss_scale='dynamic',
                            **kwargs)


@pytest.mark.parametrize('device_type', [None, 'cpu'])
def test_forward_in_bfloat16_parameters_and_grads_in_float32(device_type):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    wrapper = _wrapper(model, device_type=device_type)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(5, 8)
    with wrapper.optim_context(model):
        out = model(x)
        assert out.dtype == torch.bfloat16
        loss = out.float().pow(2).mean()
    assert model(x).dtype == torch.float32  # autocast only inside
    wrapper.backward(loss)
    for p in model.parameters():
        assert p.dtype == torch.float32 and p.grad.dtype == torch.float32
        assert torch.isfinite(p.grad).all()
    wrapper.step()
    wrapper.zero_grad()
    for p, b in zip(model.parameters(), before):
        assert p.dtype == torch.float32
        assert not torch.equal(p, b)  # the step happened


def test_gradient_accumulation_context_is_kept():
    """``optim_context`` keeps the base class's accumulation behaviour."""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    wrapper = BF16OptimWrapper(optimizer=optimizer, accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 4)
    start = model.weight.detach().clone()
    for i in range(2):
        with wrapper.optim_context(model):
            loss = model(torch.ones(2, 3)).float().sum()
        wrapper.update_params(loss)
        assert torch.equal(model.weight, start) == (i == 0)
