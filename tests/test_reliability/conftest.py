"""Fixtures of the resume and determinism tests."""
import os.path as osp

import pytest

from kent_testing import check, run_train, write_tiny_config

#: Hooks of the runs that must resume exactly.
RESUME_HOOKS = ('ClassConsistencyHook', 'CorruptImageReportHook',
                'RNGStateHook')


@pytest.fixture(scope='session')
def resume_config(shared, rafdb_root, rafdb_text):
    """KENT R18 config: 3 epochs x 7 iterations (batch 2), RNGStateHook."""
    return str(shared('resume_cfg', lambda path: write_tiny_config(
        path / 'cfg.py', 'kent_resnet18_rafdb.py', rafdb_root, rafdb_text,
        batch_size=2, max_epochs=3, hooks=RESUME_HOOKS)) / 'cfg.py')


@pytest.fixture(scope='session')
def uninterrupted_run(shared, resume_config):
    """Work dir of one uninterrupted run of ``resume_config``."""

    def build(path):
        check(run_train(resume_config, str(path / 'work')))
        assert osp.isfile(path / 'work' / 'epoch_3.pth')

    return str(shared('resume_full', build) / 'work')
