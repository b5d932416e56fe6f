"""Configs of the analysis tools: dataset names, wrappers, test pipeline."""
import os.path as osp

import pytest
from kent_testing import REPO

from kent_mm.evaluation.configs import (dataset_config_names, load_config,
                                        resolve_dataset_config,
                                        split_dataset_cfg)

DATASET_NAMES = {'affectnet7', 'affectnet7-fec', 'affectnet8', 'ckplus',
                 'fer2013', 'ferplus', 'rafdb'}


def test_dataset_names_are_looked_up_from_the_current_directory(
        tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    assert set(dataset_config_names()) == DATASET_NAMES
    assert resolve_dataset_config('CK_Plus').test_dataloader.dataset.type \
        == 'CKPlus'
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match='repository root'):
        resolve_dataset_config('ckplus')
    # A config path relative to the current directory, or absolute.
    cfg = osp.join(REPO, 'configs', '_base_', 'datasets', 'ckplus_bs64_112.py')
    assert resolve_dataset_config(cfg).dataset_type == 'CKPlus'


def test_split_dataset_cfg_unwraps_and_uses_the_test_pipeline():
    cfg = load_config(
        osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py'),
        {'train_dataloader.dataset': dict(
            _delete_=True, type='ClassBalancedDataset', oversample_thr=0.1,
            dataset=dict(type='RAFDB', data_root='x', split='train',
                         pipeline=[dict(type='RandomFlip', prob=0.5)]))})
    train = split_dataset_cfg(cfg, 'train', data_root='elsewhere')
    assert train.type == 'RAFDB' and train.split == 'train'
    assert train.data_root == 'elsewhere'
    assert train.pipeline == cfg.test_dataloader.dataset.pipeline
    with pytest.raises(KeyError, match='no extra_dataloader'):
        split_dataset_cfg(cfg, 'extra')
