"""Model-zoo weights that ship with the source repository.

A few small release files (half-precision ``state_dict`` + ``meta``) are
committed under ``weights/`` next to ``model-index.yml``. Their metafile
entries name them with the ``kent_mm://`` scheme, registered with MMEngine's
public :meth:`CheckpointLoader.register_scheme
<mmengine.runner.CheckpointLoader.register_scheme>` (as MMEngine resolves
``open-mmlab://`` names), and record each file's sha256::

    - Name: kent_resnet18_fer2013-112px-minilm
      Metadata:
        Weights SHA256: 3b7f7227...
      Weights: kent_mm://weights/<Name>_20261206-3b7f7227.pth

so that, offline, on a fresh clone::

    import kent_mm
    from mmpretrain import get_model
    model = get_model('kent_resnet18_fer2013-112px-minilm', pretrained=True)

loads the file after checking its hash. The files are not in the wheel
(``MANIFEST.in``): an installed package points to the repository.
"""
import hashlib
import os.path as osp
from typing import Dict, Tuple

import torch

#: URI scheme of the weight files that ship with the repository.
SCHEME = 'kent_mm://'
#: Metafile ``Metadata`` field holding the full sha256 of a shipped file.
SHA256_FIELD = 'Weights SHA256'

# {uri: (local path, sha256)} of the registered model indexes.
_SHIPPED: Dict[str, Tuple[str, str]] = {}


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def uri_to_path(uri: str, index_file: str) -> str:
    """Local path of a ``kent_mm://`` URI of the index ``index_file``.

    The path after the scheme is relative to the folder of the real
    ``model-index.yml`` (symlinks followed: the files live in the
    repository, next to the real index).
    """
    if not uri.startswith(SCHEME):
        raise ValueError(f'{uri!r} is not a {SCHEME} URI')
    rel = uri[len(SCHEME):]
    if not rel or osp.isabs(rel) or \
            '..' in rel.replace('\\', '/').split('/'):
        raise ValueError(f'{uri!r}: the path must stay inside the '
                         'repository')
    return osp.join(osp.dirname(osp.realpath(index_file)), rel)


def register_shipped_weights(index_file: str,
                             hashes: Dict[str, str]) -> None:
    """Register the ``kent_mm://`` scheme and the files of an index.

    Args:
        index_file (str): The ``model-index.yml`` the URIs are relative to.
        hashes (dict): ``{uri: sha256}`` from its metafiles.
    """
    from mmengine.runner import CheckpointLoader
    for uri, sha in hashes.items():
        _SHIPPED[uri] = (uri_to_path(uri, index_file), sha)
    CheckpointLoader.register_scheme(
        prefixes=SCHEME, loader=load_from_kent_mm, force=True)


def shipped_file(uri: str, check: bool = True) -> str:
    """Path of a registered shipped file, after its sha256 check.

    Args:
        uri (str): ``kent_mm://...`` as in a metafile's ``Weights``.
        check (bool): Check existence and sha256 (else only look up).

    Raises:
        KeyError: No registered metafile entry names ``uri``.
        FileNotFoundError: The file is not there (e.g. an installed wheel,
            which does not carry the weights).
        RuntimeError: The file's sha256 differs from the recorded one
            (corrupt or truncated file).
    """
    if uri not in _SHIPPED:
        raise KeyError(f'{uri}: no registered model-zoo entry has these '
                       f'Weights (with `{SHA256_FIELD}`); import kent_mm.')
    path, expected = _SHIPPED[uri]
    if not check:
        return path
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} ({uri}) is missing. The model-zoo weights ship with the '
            'kent_mm source repository (weights/), not with the installed '
            'package: use a clone (`pip install -e .`), or pass '
            'pretrained=<path of the file>.')
    actual = sha256_of(path)
    if actual != expected:
        raise RuntimeError(
            f'{path}: sha256 {actual} does not match the model index '
            f'({expected}); the file is corrupt or truncated. Restore it '
            '(e.g. `git checkout -- weights/`).')
    return path


def load_from_kent_mm(filename: str, map_location=None) -> dict:
    """MMEngine checkpoint loader of the ``kent_mm://`` scheme (MMEngine logs
    the name after ``load_from_``: "Loads checkpoint by kent_mm backend").

    Release files hold only tensors and plain Python objects, so torch's
    default ``weights_only=True`` loads them without any allow-list.
    """
    return torch.load(shipped_file(filename), map_location=map_location,
                      weights_only=True)
