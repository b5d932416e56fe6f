"""ChannelsLastHook: channels-last weights, same outputs."""
from types import SimpleNamespace

import torch
import torch.nn as nn
from mmpretrain.registry import HOOKS

from kent_mm.engine.hooks import ChannelsLastHook


def test_registered():
    assert HOOKS.get('ChannelsLastHook') is ChannelsLastHook


def test_weights_channels_last_and_outputs_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 4, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3)).eval()
    x = torch.randn(2, 3, 16, 16)  # NCHW, as the data preprocessor gives
    with torch.no_grad():
        expected = model(x)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    conv = model[0].weight
    assert not conv.is_contiguous(memory_format=torch.channels_last)

    ChannelsLastHook().before_run(SimpleNamespace(model=model))

    for layer in (model[0], model[3]):
        assert layer.weight.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out = model(x)
        features = model[0](x)
    assert features.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
    # Values (and so checkpoints) are unchanged; only the layout differs.
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
