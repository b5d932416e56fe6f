"""Checkpoints and text caches never run code while loading.

Each crafted file is a real torch zip checkpoint whose pickle would run a
side effect (create a marker file) when unpickled: the positive control at
the end of each case proves it with an unsafe ``weights_only=False`` load.
Before that, every kent_mm / MMEngine loading path must refuse it and the
marker must not exist.

kent_mm's allow-list of MMEngine checkpoint types holds only inside its
loads (``checkpoint_safe_globals``): outside them torch keeps its defaults.
"""
import os
import pathlib
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import kent_mm  # noqa: F401
from kent_mm.utils import checkpoint_safe_globals, safe_load
from kent_mm.utils.safe_load import (HISTORY_BUFFER_STATISTICS,
                                     _restricted_getattr)


class Reduce:
    """Pickles as ``fn(*args)``: what an attacker's file contains."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _payloads(marker: str) -> dict:
    return {
        'os.system': Reduce(os.system, f'touch {marker}'),
        # pickled as getattr(pathlib.Path, 'touch')(PosixPath(marker))
        'pathlib.Path.touch': Reduce(pathlib.Path.touch,
                                     pathlib.Path(marker)),
        'builtins.open': Reduce(open, marker, 'w'),
    }


def _loaders() -> dict:
    from mmengine.runner import load_checkpoint
    from mmengine.runner.checkpoint import _load_checkpoint

    from kent_mm.models.text import PrecomputedTextEmbeddings, load_text_cache
    return {
        'safe_load': safe_load,
        'mmengine.load_checkpoint':
        lambda p: load_checkpoint(torch.nn.Linear(2, 2), p),
        'mmengine._load_checkpoint': _load_checkpoint,
        'load_text_cache': load_text_cache,
        'PrecomputedTextEmbeddings':
        lambda p: PrecomputedTextEmbeddings(file=p)(['a', 'b']),
    }


@pytest.fixture(autouse=True)
def no_unsafe_override(monkeypatch):
    # The escape hatch of torch would turn every check here off.
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)


@pytest.mark.parametrize('payload', ['os.system', 'pathlib.Path.touch',
                                     'builtins.open'])
def test_code_execution_payload_is_refused_by_every_loader(payload, tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    # Hidden inside a normal-looking checkpoint / cache structure.
    torch.save(dict(state_dict=dict(w=torch.zeros(2)), meta=dict(
        note=_payloads(marker)[payload]), embeddings=torch.zeros(2, 4)),
        path)
    for name, load in _loaders().items():
        with pytest.raises(pickle.UnpicklingError) as info:
            load(path)
        assert 'Weights only load failed' in str(info.value), name
        assert not os.path.exists(marker), f'{name} ran the payload'
    # Positive control: the file really is an exploit.
    torch.load(path, weights_only=False)
    assert os.path.exists(marker)


@pytest.mark.parametrize('name,obj', [
    ('HistoryBuffer.__init__', Reduce(getattr, HistoryBuffer, '__init__')),
    ('HistoryBuffer.mean.__globals__',
     Reduce(getattr, Reduce(getattr, HistoryBuffer, 'mean'), '__globals__')),
    ('ndarray.tofile', Reduce(getattr, np.ndarray, 'tofile')),
    ('instance.__class__', Reduce(getattr, HistoryBuffer(), '__class__')),
])
def test_restricted_getattr_refuses_other_attributes(name, obj, tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=obj), path)
    with pytest.raises(pickle.UnpicklingError, match='Refusing getattr'):
        safe_load(path)


def test_restricted_getattr_refuses_os_system():
    with pytest.raises(pickle.UnpicklingError, match='Refusing getattr'):
        _restricted_getattr(os, 'system')
    with pytest.raises(pickle.UnpicklingError, match='Refusing getattr'):
        _restricted_getattr(HistoryBuffer, '__subclasses__')


def test_allow_list_still_loads_what_mmengine_saves(tmp_path):
    """Control: the restrictions above do not break real checkpoints."""
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    path = str(tmp_path / 'ok.pth')
    torch.save(dict(buffer=buf, mean=Reduce(getattr, HistoryBuffer, 'mean'),
                    array=np.arange(3), scalar=np.float64(2.0)), path)
    data = safe_load(path)
    assert data['buffer'].mean() == 2.0
    assert data['mean'] is HistoryBuffer.mean
    assert data['array'].tolist() == [0, 1, 2] and data['scalar'] == 2.0


def test_history_buffer_pickles_name_only_the_allowed_statistics():
    """The restricted getattr admits MMEngine's default statistics methods:
    fails if MMEngine pickles other ones (then they need a decision)."""
    state = HistoryBuffer().__getstate__()
    assert set(state['statistics_methods']) == HISTORY_BUFFER_STATISTICS


def _history_file(tmp_path) -> str:
    buf = HistoryBuffer()
    buf.update(1.5)
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(buffer=buf, array=np.arange(2)), path)
    return path


def test_allow_list_holds_only_inside_kent_mm_loads(tmp_path):
    path = _history_file(tmp_path)
    before = set(torch.serialization.get_safe_globals())  # no set order
    # torch's defaults, after `import kent_mm` and between kent_mm's loads.
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(path, weights_only=True)
    assert safe_load(path)['buffer'].mean() == 1.5
    with checkpoint_safe_globals():
        assert torch.load(path, weights_only=True)['buffer'].mean() == 1.5
    assert set(torch.serialization.get_safe_globals()) == before
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(path, weights_only=True)


def test_nested_loads_keep_the_outer_allow_list(tmp_path):
    """A kent_mm load inside a run that tools/train.py wrapped (a text cache
    read before --resume) must not end the run's allow-list."""
    path = _history_file(tmp_path)
    before = set(torch.serialization.get_safe_globals())  # no set order
    with checkpoint_safe_globals():
        safe_load(path)
        with checkpoint_safe_globals():
            pass
        assert torch.load(path, weights_only=True)['buffer'].mean() == 1.5
    assert set(torch.serialization.get_safe_globals()) == before
    # Entries that were listed before the block stay listed after it.
    with torch.serialization.safe_globals([HistoryBuffer]):
        with checkpoint_safe_globals():
            pass
        assert HistoryBuffer in torch.serialization.get_safe_globals()


def test_get_model_loads_a_training_checkpoint_with_the_allow_list(
        kent_checkpoint):
    from mmpretrain import get_model
    cfg, ckpt = kent_checkpoint['config'], kent_checkpoint['checkpoint']
    # A checkpoint of tools/train.py (message hub, NumPy RNG state...).
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        get_model(cfg, pretrained=ckpt)
    with checkpoint_safe_globals():
        model = get_model(cfg, pretrained=ckpt)
    state = safe_load(ckpt)['state_dict']
    assert torch.equal(model.head.text_embeds, state['head.text_embeds'])
    assert torch.equal(model.backbone.conv1.weight,
                       state['backbone.conv1.weight'])
