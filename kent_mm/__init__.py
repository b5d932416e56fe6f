"""kent_mm: knowledge-enhanced facial expression recognition for MMPretrain.

Importing the package (``custom_imports=dict(imports=['kent_mm'])``)
registers its components in MMPretrain's registries, its ``atomic_local``
file backend in MMEngine's, and its model index in MMPretrain's
``ModelHub``, and allow-lists the MMEngine/NumPy types of MMEngine
checkpoints for torch's ``weights_only`` loading. It changes no behaviour of
MMEngine or MMPretrain: a config opts in to what it uses.
"""
from .utils import register_safe_globals
from .version import __version__

register_safe_globals()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

apis.model_zoo._register_on_import()

__all__ = ['__version__']
