"""kent_mm models in MMPretrain's model zoo (``list_models``/``get_model``).

``import kent_mm`` registers kent_mm's ``model-index.yml`` with MMPretrain's
public :meth:`ModelHub.register_model_index <mmpretrain.apis.ModelHub>`, so
that::

    import kent_mm
    from mmpretrain import get_model, list_models
    list_models('kent*')
    model = get_model('kent_resnet18_fer2013-quick', pretrained='....pth')

work as for MMPretrain's own models. The index and the configs it names are
found in ``kent_mm/.mim/`` (links to the repository's ``model-index.yml`` and
``configs/`` in a checkout or editable install; real files in a wheel, see
``MANIFEST.in``), else next to the package (a source tree on ``PYTHONPATH``).
"""
import os.path as osp
import warnings
from typing import List

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


def register_kent_model_index() -> List[str]:
    """Register kent_mm's model index with MMPretrain's ``ModelHub``.

    Config paths in the index are relative to ``model-index.yml``, as in
    MMPretrain's own index. Does nothing when the models are registered
    already (``ModelHub.register_model_index`` refuses a second time).

    Returns:
        list[str]: The model names (lower case, as ``list_models`` shows).
    """
    from mmpretrain.apis import ModelHub
    from modelindex.load_model_index import load

    path = default_model_index()
    index = load(path)
    index.build_models_with_collections()
    names = [model.name.lower() for model in index.models]
    if not all(ModelHub.has(name) for name in names):
        ModelHub.register_model_index(path, config_prefix=osp.dirname(path))
    return names


def _register_on_import() -> None:
    """``import kent_mm`` must not fail on a broken index: warn instead."""
    try:
        register_kent_model_index()
    except Exception as e:  # noqa: BLE001
        warnings.warn(f'kent_mm: model zoo not registered ({e}).')
