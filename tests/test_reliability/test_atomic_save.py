"""A save that dies half-way leaves the previous file intact.

Checkpoints of kent_mm configs (MMEngine's ``save_checkpoint`` with the
``CheckpointHook``'s ``backend_args`` of ``configs/_base_/default_runtime.py``,
i.e. ``AtomicLocalBackend.put``) and text-embedding caches
(``save_text_cache``) are written to a temporary file beside the target and
renamed over it only when complete. The write is cut after ``LIMIT`` bytes,
either by an exception (disk full) or by SIGKILL of the writing process.
MMEngine's own ``LocalBackend`` (no opt-in) keeps its behaviour.
"""
import errno
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from kent_mm.utils import safe_load
from kent_testing import REPO, tool_env

LIMIT = 4096  # bytes written before the failure (files are >> this)
RUNTIME = osp.join(REPO, 'configs', '_base_', 'default_runtime.py')


def kent_checkpoint_backend_args() -> dict:
    """``backend_args`` of the checkpoint hook of every kent_mm config."""
    from mmengine.config import Config
    return Config.fromfile(RUNTIME).default_hooks.checkpoint.backend_args


def _save(kind: str, path: str, value: float, backend_args='kent') -> None:
    """Write a checkpoint or a text cache whose tensors are all ``value``.

    Checkpoints are saved with kent_mm's checkpoint ``backend_args``, or with
    the given ones (``None``: MMEngine's default backend).
    """
    if kind == 'checkpoint':
        from mmengine.runner.checkpoint import save_checkpoint
        if backend_args == 'kent':
            backend_args = kent_checkpoint_backend_args()
        save_checkpoint(
            dict(state_dict=dict(w=torch.full((64, 512), value)),
                 meta=dict(epoch=int(value))), path,
            backend_args=backend_args)
    else:
        from kent_mm.models.text import save_text_cache
        save_text_cache(path, torch.full((7, 512), value),
                        dict(class_names=[f'c{i}' for i in range(7)]))


def _value(kind: str, path: str) -> float:
    data = safe_load(path)
    tensor = data['state_dict']['w'] if kind == 'checkpoint' else \
        data['features']
    assert tensor.unique().numel() == 1
    return tensor.flatten()[0].item()


class _CutFile:
    """File wrapper whose writes stop after ``limit`` bytes with ``fail()``."""

    def __init__(self, f, limit, fail):
        self._f, self._left, self._fail = f, limit, fail

    def write(self, data):
        data = memoryview(data).cast('B') if not isinstance(data, str) \
            else data
        if len(data) > self._left:
            self._f.write(data[:self._left])
            self._f.flush()
            self._fail()
        self._left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def cut_writes(setattr, directory: str, limit: int, fail) -> None:
    """Make file writes under ``directory`` stop after ``limit`` bytes.

    Patches both ways Python code opens files for writing (``open`` and
    ``os.fdopen``), so the test does not depend on how the writer opens its
    file.
    """
    import builtins
    real_open, real_fdopen = builtins.open, os.fdopen

    def open_(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        writing = any(c in mode for c in 'wax+')
        if writing and isinstance(file, (str, os.PathLike)) and \
                osp.abspath(file).startswith(directory):
            return _CutFile(f, limit, fail)
        return f

    setattr(builtins, 'open', open_)
    setattr(os, 'fdopen',
            lambda *a, **k: _CutFile(real_fdopen(*a, **k), limit, fail))


def _temp_files(directory: str) -> list:
    return glob.glob(osp.join(directory, '.*.tmp'))


@pytest.mark.parametrize('kind', ['checkpoint', 'text_cache'])
def test_exception_during_save_keeps_old_file_and_no_temp(
        kind, tmp_path, monkeypatch):
    path = str(tmp_path / 'epoch_1.pth')
    _save(kind, path, 1.0)
    before = open(path, 'rb').read()

    def disk_full():
        raise OSError(errno.ENOSPC, 'No space left on device (simulated)')

    cut_writes(monkeypatch.setattr, str(tmp_path), LIMIT, disk_full)
    # torch.save may re-raise the OSError as a RuntimeError of its own.
    with pytest.raises((OSError, RuntimeError)):
        _save(kind, path, 2.0)
    monkeypatch.undo()
    assert open(path, 'rb').read() == before
    assert _value(kind, path) == 1.0
    assert _temp_files(str(tmp_path)) == []
    # Without the failure the same call does replace the file.
    _save(kind, path, 2.0)
    assert _value(kind, path) == 2.0


CHILD = textwrap.dedent('''
    import os, signal, sys
    sys.path[:0] = [{test_dir!r}, os.path.dirname({test_dir!r})]
    import kent_mm  # noqa: F401  (registers the 'atomic_local' backend)
    from test_atomic_save import _save, cut_writes

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    cut_writes(setattr, {directory!r}, {limit}, die)
    _save({kind!r}, {path!r}, 2.0)
    print('save finished: the kill did not happen')
''')


@pytest.mark.parametrize('kind', ['checkpoint', 'text_cache'])
def test_sigkill_during_save_keeps_old_file(kind, tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    _save(kind, path, 1.0)
    before = open(path, 'rb').read()
    script = CHILD.format(test_dir=osp.dirname(__file__), limit=LIMIT,
                          kind=kind, path=path, directory=str(tmp_path))
    proc = subprocess.run([sys.executable, '-c', script], cwd=REPO,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert open(path, 'rb').read() == before
    assert _value(kind, path) == 1.0
    # SIGKILL cannot be cleaned up after: the half-written temp file stays,
    # as a hidden ".epoch_1.pth.*.tmp" that no checkpoint lookup matches.
    (temp, ) = _temp_files(str(tmp_path))
    assert os.path.getsize(temp) == LIMIT
    assert glob.glob(str(tmp_path / 'epoch_*.pth')) == [path]


def test_kent_configs_opt_in_and_mmengine_default_is_unchanged(
        tmp_path, monkeypatch):
    """kent_mm's runtime selects the atomic backend; without that opt-in,
    MMEngine's ``LocalBackend`` still writes into the destination (a cut
    write truncates it), also after ``import kent_mm``."""
    import kent_mm  # noqa: F401
    from mmengine.fileio import get_file_backend
    from mmengine.fileio.backends.local_backend import LocalBackend

    from kent_mm.utils import AtomicLocalBackend
    args = kent_checkpoint_backend_args()
    assert args == dict(backend='atomic_local')
    assert type(get_file_backend(str(tmp_path),
                                 backend_args=args)) is AtomicLocalBackend
    assert type(get_file_backend(str(tmp_path))) is LocalBackend

    path = str(tmp_path / 'epoch_1.pth')
    _save('checkpoint', path, 1.0, backend_args=None)

    def disk_full():
        raise OSError(errno.ENOSPC, 'No space left on device (simulated)')

    cut_writes(monkeypatch.setattr, str(tmp_path), LIMIT, disk_full)
    with pytest.raises((OSError, RuntimeError)):
        _save('checkpoint', path, 2.0, backend_args=None)
    monkeypatch.undo()
    assert os.path.getsize(path) == LIMIT  # MMEngine's plain write


def test_training_run_saves_checkpoints_through_atomic_backend(
        tmp_path, monkeypatch):
    """The path a run takes (``CheckpointHook`` -> ``Runner.save_checkpoint``
    -> ``save_checkpoint``) with kent_mm's checkpoint hook config."""
    import torch.nn as nn
    from mmengine.config import Config
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    from kent_mm.utils import AtomicLocalBackend

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, inputs, mode='loss'):
            return dict(loss=self.fc(inputs).pow(2).mean())

    written = []
    put = AtomicLocalBackend.put

    def spy(self, obj, filepath):
        written.append(osp.basename(str(filepath)))
        return put(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', spy)
    hook = Config.fromfile(RUNTIME).default_hooks.checkpoint.to_dict()
    runner = Runner(
        model=Toy(), work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.randn(2)) for _ in range(4)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        default_hooks=dict(checkpoint=hook), default_scope='mmpretrain',
        experiment_name=f'atomic_{tmp_path.name}')
    runner.train()
    assert written == ['epoch_1.pth', 'epoch_2.pth']
    assert safe_load(str(tmp_path / 'epoch_2.pth'))['meta']['epoch'] == 2
