"""Test data generators of kent_mm (like ``mmengine.testing``).

Not imported by ``import kent_mm``; import it where synthetic data is
needed::

    from kent_mm.testing import generate_synthetic_rafdb
"""
from .synthetic_faces import render_face
from .synthetic_rafdb import generate_synthetic_rafdb

__all__ = ['generate_synthetic_rafdb', 'render_face']
