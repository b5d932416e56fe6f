"""Safe loading of MMEngine checkpoints on torch >= 2.6 (``weights_only``).

MMEngine 0.10.x calls ``torch.load`` without ``weights_only``, which torch
>= 2.6 treats as ``weights_only=True``. MMEngine's own checkpoints then fail
to load because they pickle a few MMEngine and NumPy objects. Instead of
falling back to unsafe pickle, kent_mm allow-lists exactly those objects, and
only while it loads a file: :func:`checkpoint_safe_globals` is torch's public
``torch.serialization.safe_globals`` context manager with that list, so
importing kent_mm leaves torch's process-wide allow-list as it was.

One of the objects needs care: ``HistoryBuffer`` pickles its statistics
methods as ``getattr(HistoryBuffer, 'mean')``; ``builtins.getattr`` in
general would let a crafted file reach arbitrary attributes, so that name is
mapped to a restricted version that only returns the statistics methods
MMEngine registers by default.
"""
import contextlib
import pickle
from typing import Any, Callable, Iterator, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

#: The statistics methods every ``HistoryBuffer`` registers (``min``, ``max``,
#: ``current``, ``mean``: MMEngine's documented defaults). They are the only
#: functions a buffer's pickle names through ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to the statistics methods of ``HistoryBuffer``."""
    # The pickle asks for the functions on the class (``GLOBAL`` then
    # ``getattr(HistoryBuffer, 'mean')``); an instance is accepted as well.
    is_buffer = obj is HistoryBuffer or isinstance(obj, HistoryBuffer)
    if is_buffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({type(obj).__name__}, {name!r}) while loading a '
        'checkpoint: only HistoryBuffer statistics methods are allowed.')


def _numpy_globals() -> List[Any]:
    # The functions NumPy's own pickles name for arrays and scalars, taken
    # from the pickle protocol (their module moved between NumPy 1 and 2).
    return [
        np.ndarray(0).__reduce__()[0],
        np.float64(0).__reduce__()[0],
        np.ndarray,
        np.dtype,
    ] + [type(np.dtype(c)) for c in '?bBhHiIlLqQefdgFDGSUV']


def checkpoint_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allow-list of MMEngine checkpoints and kent_mm's files.

    Returns:
        list: Classes and functions, in the form taken by
        ``torch.serialization.safe_globals``.
    """
    return [HistoryBuffer, bytes, (_restricted_getattr, 'builtins.getattr')
            ] + _numpy_globals()


@contextlib.contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Allow-list :func:`checkpoint_globals` for ``weights_only`` loads inside
    a ``with`` block (torch's ``torch.serialization.safe_globals``).

    Wrap the MMEngine calls that load a checkpoint, e.g.::

        with checkpoint_safe_globals():
            model = get_model(config, pretrained='epoch_50.pth')

    Blocks nest: only the entries torch does not list yet are added, and
    only those are removed on exit, so an inner block (a text cache read
    during a run) leaves the outer one's allow-list in place. torch < 2.5
    has no ``safe_globals`` and MMEngine's loads there do not use
    ``weights_only``: the block runs as it is.
    """
    if not hasattr(torch.serialization, 'safe_globals'):
        yield
        return
    present = torch.serialization.get_safe_globals()
    missing = [g for g in checkpoint_globals() if g not in present]
    with torch.serialization.safe_globals(missing):
        yield


def safe_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and our allow-list.

    Args:
        path (str): File to load.
        map_location: As in :func:`torch.load`.

    Raises:
        pickle.UnpicklingError: If the file holds anything outside the
            allow-list (e.g. an object whose unpickling would run code).
    """
    with checkpoint_safe_globals():
        return torch.load(path, map_location=map_location, weights_only=True)
