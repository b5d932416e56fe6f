"""Checkpoints and text caches never run code while loading.

Each crafted file is a real torch zip checkpoint whose pickle would run a
side effect (create a marker file) when unpickled: the positive control at
the end of each case proves it with an unsafe ``weights_only=False`` load.
Before that, every kent_mm / MMEngine loading path must refuse it and the
marker must not exist.
"""
import os
import pathlib
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import kent_mm  # noqa: F401  (weights_only allow-list)
from kent_mm.utils import safe_load
from kent_mm.utils.safe_load import _restricted_getattr


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
