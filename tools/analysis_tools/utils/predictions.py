"""Read the predictions file of ``tools/test.py --out FILE.pkl`` safely."""
import io
import pickle
from typing import Dict

import numpy as np
import torch

from kent_mm.utils import checkpoint_safe_globals


def _storage_from_bytes(data: bytes):
    """``torch.storage._load_from_bytes`` with ``weights_only=True``."""
    return torch.load(io.BytesIO(data), weights_only=True)


def _weights_only_unpickle(path: str):
    """Unpickle ``path`` with torch's ``weights_only`` unpickler.

    It admits tensors, NumPy arrays and scalars and plain containers (the
    allow-list of :func:`kent_mm.utils.checkpoint_globals`); tensors pickled
    by ``pickle`` itself carry their storage as ``torch.save`` bytes, which
    are loaded with ``weights_only=True`` as well.
    """
    if not hasattr(torch.serialization, 'safe_globals'):
        raise RuntimeError('reading a predictions file needs torch >= 2.5')
    # Private: torch.load (its public entry) reads torch.save files only.
    from torch._weights_only_unpickler import Unpickler
    # The global a pickled tensor names for its storage bytes.
    storage = [(_storage_from_bytes, 'torch.storage._load_from_bytes')]
    with checkpoint_safe_globals(), torch.serialization.safe_globals(
            storage), open(path, 'rb') as f:
        return Unpickler(f).load()


def load_predictions(path: str) -> Dict[str, np.ndarray]:
    """Read the predictions pickle of ``tools/test.py --out FILE.pkl``.

    The file is a list of data-sample dicts (``pred_label``, ``gt_label``,
    ``pred_score``) written by MMEngine's ``DumpResults``. Anything but
    tensors, arrays and plain containers (an object whose unpickling would
    run code) is refused with ``pickle.UnpicklingError``.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict[str, np.ndarray]: ``pred (N, )``, ``labels (N, )`` and
        ``scores (N, C)`` when every sample has ``pred_score``.
    """
    try:
        results = _weights_only_unpickle(path)
    except pickle.UnpicklingError as e:
        raise pickle.UnpicklingError(
            f'{path}: refusing to load it (only tensors, NumPy arrays and '
            f'plain containers are allowed in a predictions file): {e}'
        ) from None
    if not isinstance(results, list) or not results:
        raise ValueError(f'{path}: expected a non-empty list of samples '
                         '(tools/test.py --out FILE.pkl)')

    def label(x) -> int:
        return int(np.asarray(x).reshape(-1)[0])

    out = dict(pred=np.asarray([label(r['pred_label']) for r in results]),
               labels=np.asarray([label(r['gt_label']) for r in results]))
    if all('pred_score' in r for r in results):
        out['scores'] = np.stack(
            [np.asarray(r['pred_score'], dtype=np.float32) for r in results])
    return out
