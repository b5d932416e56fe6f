"""Shared fixtures: tiny datasets in official formats."""
import pytest


@pytest.fixture(scope='session')
def rafdb_root(tmp_path_factory):
    """A tiny synthetic RAF-DB in the official layout (14 train / 7 test)."""
    from kent_mm.testing import generate_synthetic_rafdb
    root = str(tmp_path_factory.mktemp('rafdb'))
    generate_synthetic_rafdb(root, num_train=14, num_test=7, image_size=32,
                             seed=0)
    return root

