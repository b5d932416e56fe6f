"""kent_mm: knowledge-enhanced facial expression recognition for MMPretrain.

Importing the package (``custom_imports=dict(imports=['kent_mm'])``)
registers its components in MMPretrain's registries, its ``atomic_local``
file backend in MMEngine's, and its model index in MMPretrain's
``ModelHub``. It changes no behaviour of torch, MMEngine or MMPretrain: a
config opts in to what it uses, and torch's ``weights_only`` allow-list is
widened only inside the loads kent_mm makes
(:func:`kent_mm.utils.checkpoint_safe_globals`).
"""
from .version import __version__

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

apis.model_zoo._register_on_import()

__all__ = ['__version__']
