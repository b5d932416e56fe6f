"""Looking through dataset wrappers: objects and configs alike."""
from mmengine.config import ConfigDict
from mmengine.dataset import ClassBalancedDataset
from torch.utils.data import ConcatDataset, DataLoader, Subset

from kent_mm.datasets import RAFDB, inner_datasets, unwrap_dataset

PIPE = [dict(type='LoadFERImage'), dict(type='PackInputs')]


def test_config_wrappers_are_looked_through():
    leaf = dict(type='RAFDB', data_root='data/rafdb', split='test')
    wrapped = ConfigDict(type='ClassBalancedDataset', oversample_thr=0.1,
                         dataset=dict(type='RepeatDataset', times=2,
                                      dataset=leaf))
    assert unwrap_dataset(wrapped) == leaf
    concat = dict(type='ConcatDataset', datasets=[leaf, wrapped])
    assert inner_datasets(concat) == [leaf, leaf]
    assert unwrap_dataset(leaf) is leaf


def test_dataset_wrappers_are_looked_through(rafdb_root):
    train = RAFDB(rafdb_root, split='train', pipeline=PIPE)
    test = RAFDB(rafdb_root, split='test', pipeline=PIPE)
    balanced = ClassBalancedDataset(train, oversample_thr=0.1)
    loader = DataLoader(Subset(ConcatDataset([balanced, test]), [0, 1]))
    assert inner_datasets(loader) == [train, test]
    assert unwrap_dataset(Subset(balanced, [0])) is train
    assert unwrap_dataset(train) is train
