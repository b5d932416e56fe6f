"""kent_mm models in MMPretrain's model zoo (``list_models``/``get_model``).

``import kent_mm`` registers kent_mm's ``model-index.yml`` with MMPretrain's
public :meth:`ModelHub.register_model_index <mmpretrain.apis.ModelHub>`, so
that::

    import kent_mm
    from mmpretrain import get_model, list_models
    list_models('kent*')
    model = get_model('kent_resnet18_fer2013-112px-minilm', pretrained=True)

work as for MMPretrain's own models (weights that ship with the repository:
:mod:`kent_mm.apis.shipped_weights`). The index and the configs it names are
found in ``kent_mm/.mim/`` (links to the repository's ``model-index.yml`` and
``configs/`` in a checkout or editable install; real files in a wheel, see
``MANIFEST.in``), else next to the package (a source tree on ``PYTHONPATH``).
"""
import fnmatch
import os.path as osp
import warnings
from typing import Dict, List, Optional

from .shipped_weights import (SCHEME, SHA256_FIELD, register_shipped_weights,
                              shipped_file)

_PKG_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def default_model_index() -> str:
    """Path of kent_mm's own ``model-index.yml``.

    Looks in ``kent_mm/.mim`` first (installed package data), then in the
    directory that holds the ``kent_mm`` package (a source checkout).

    Raises:
        FileNotFoundError: If neither place has the index and its configs.
    """
    candidates = [osp.join(_PKG_DIR, '.mim'), osp.dirname(_PKG_DIR)]
    for root in candidates:
        index = osp.join(root, 'model-index.yml')
        if osp.isfile(index) and osp.isdir(osp.join(root, 'configs')):
            return index
    raise FileNotFoundError(
        'kent_mm: no model-index.yml with a configs/ folder in '
        f'{candidates}. Reinstall kent_mm (`pip install .` copies them into '
        'kent_mm/.mim).')


def register_kent_model_index(path: Optional[str] = None) -> List[str]:
    """Register a model index with MMPretrain's ``ModelHub``.

    Config paths in the index are relative to ``model-index.yml``, as in
    MMPretrain's own index; so are ``kent_mm://`` weights, whose files are
    registered with their sha256 (:mod:`kent_mm.apis.shipped_weights`).
    Does nothing for ``ModelHub`` when the models are registered already
    (``ModelHub.register_model_index`` refuses a second time).

    Args:
        path (str, optional): A ``model-index.yml``; default: kent_mm's.

    Returns:
        list[str]: The model names (lower case, as ``list_models`` shows).
    """
    from mmpretrain.apis import ModelHub
    path = path or default_model_index()
    index = _load_index(path)
    names = [model.name.lower() for model in index.models]
    register_shipped_weights(path, _shipped_hashes(index))
    if not all(ModelHub.has(name) for name in names):
        ModelHub.register_model_index(path, config_prefix=osp.dirname(path))
    return names


def _load_index(path: Optional[str] = None):
    """A model index (default: kent_mm's), collection fields merged in."""
    from modelindex.load_model_index import load
    index = load(path or default_model_index())
    index.build_models_with_collections()
    return index


def _shipped_hashes(index) -> Dict[str, str]:
    """``{kent_mm:// uri: sha256}`` of the index's shipped weights."""
    hashes = {}
    for model in index.models:
        if model.weights and model.weights.startswith(SCHEME):
            meta = model.metadata.data if model.metadata else {}
            sha = meta.get(SHA256_FIELD)
            if not sha:
                raise ValueError(
                    f'{model.name}: Weights {model.weights} ship with the '
                    f'repository but Metadata has no `{SHA256_FIELD}`.')
            hashes[model.weights] = str(sha)
    return hashes


def best_shipped_model(pattern: str = '*fer2013*',
                       index: Optional[str] = None) -> str:
    """The zoo model with the best top-1 whose weights ship with the code.

    Such a model loads offline with ``get_model(name, pretrained=True)``.

    Args:
        pattern (str): ``fnmatch`` pattern over the model names.
        index (str, optional): A ``model-index.yml``; default: kent_mm's.

    Returns:
        str: The model name.

    Raises:
        FileNotFoundError: If no model matching ``pattern`` has a shipped
            weight file present in this checkout.
    """
    register_kent_model_index(index)
    best, best_top1 = None, float('-inf')
    for model in _load_index(index).models:
        name, weights = model.name.lower(), model.weights or ''
        if not fnmatch.fnmatch(name, pattern) or \
                not weights.startswith(SCHEME) or \
                not osp.isfile(shipped_file(weights, check=False)):
            continue
        top1 = max((float(r.metrics.get('Top 1 Accuracy', -1.))
                    for r in model.results or []), default=-1.)
        if top1 > best_top1:
            best, best_top1 = name, top1
    if best is None:
        raise FileNotFoundError(
            f'No kent_mm model matching {pattern!r} ships its weights in this '
            'checkout (weights/); pass a config and a checkpoint instead.')
    return best


def _register_on_import() -> None:
    """``import kent_mm`` must not fail on a broken index: warn instead."""
    try:
        register_kent_model_index()
    except Exception as e:  # noqa: BLE001
        warnings.warn(f'kent_mm: model zoo not registered ({e}).')
