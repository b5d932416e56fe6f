"""Fixtures of the reliability tests (issue 8)."""
import os.path as osp

import pytest
from rel_helpers import output, run_train, write_config, write_text_embeddings

#: Hooks of the runs that must resume exactly.
RESUME_HOOKS = ('ClassConsistencyHook', 'CorruptImageReportHook',
                'RNGStateHook')


@pytest.fixture(scope='session')
def tiny_rafdb(rafdb_root):
    """RAF-DB layout, 14 train / 7 test images at 32x32 (``rafdb_root``)."""
    return rafdb_root


@pytest.fixture(scope='session')
def resume_config(tmp_path_factory, tiny_rafdb):
    """KENT R18 config: 3 epochs x 7 iterations (batch 2), RNGStateHook."""
    tmp = tmp_path_factory.mktemp('rel_cfg')
    text = write_text_embeddings(str(tmp / 'text.pth'))
    return write_config(str(tmp / 'cfg.py'), tiny_rafdb, text, batch_size=2,
                        max_epochs=3, hooks=RESUME_HOOKS)


@pytest.fixture(scope='session')
def uninterrupted_run(tmp_path_factory, resume_config):
    """Work dir of one uninterrupted run of ``resume_config``."""
    work_dir = str(tmp_path_factory.mktemp('rel_full') / 'work')
    proc = run_train(resume_config, work_dir)
    assert proc.returncode == 0, output(proc)[-4000:]
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))
    return work_dir
