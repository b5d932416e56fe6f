"""Atomic file writes: a kill during a save leaves the previous file intact."""
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Union

import torch
from mmengine.fileio import LocalBackend, register_backend


@contextmanager
def atomic_write(path: str, mode: str = 'wb', **kwargs) -> Iterator[Any]:
    """Open a temporary file beside ``path``; move it over ``path`` on success.

    The temporary file lives in the same directory so that ``os.replace`` is an
    atomic rename on POSIX; on any exception it is removed and ``path`` is left
    untouched.

    Args:
        path (str): Destination file.
        mode (str): ``'wb'`` or ``'w'``.
        **kwargs: Further arguments of :func:`open` (e.g. ``encoding``).

    Yields:
        file object: The open temporary file.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` through :func:`atomic_write`."""
    with atomic_write(path, 'wb') as f:
        torch.save(obj, f)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local storage backend whose writes go through
    :func:`atomic_write`.

    ``save_checkpoint`` serialises a checkpoint to memory and hands the bytes
    to the backend's ``put``; :class:`~mmengine.fileio.LocalBackend` writes
    them into the destination itself, so a run killed during that write
    leaves a truncated checkpoint in place of the previous one. Here the
    bytes go to a temporary file that is renamed over the destination when
    complete. Reading, listing and removing are ``LocalBackend``'s.

    kent_mm's ``configs/_base_/default_runtime.py`` selects it for
    checkpoints; any config can do the same::

        default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', backend_args=dict(backend='atomic_local')))
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (directories are created)."""
        with atomic_write(str(filepath), 'wb') as f:
            f.write(obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (directories are created)."""
        with atomic_write(str(filepath), 'w', encoding=encoding) as f:
            f.write(obj)
