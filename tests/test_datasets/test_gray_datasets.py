"""``kent_mm.datasets.GRAY_DATASETS``: the dataset types whose images are
grey, which inference (demo, ONNX metadata) reads from a model's config."""
from mmengine.config import ConfigDict

from kent_mm.apis.deploy import is_grayscale_model
from kent_mm.datasets import GRAY_DATASETS, FERDataset


def test_gray_datasets_are_registered_fer_datasets():
    from mmpretrain.registry import DATASETS
    assert set(GRAY_DATASETS) == {'FER2013', 'FERPlus', 'CKPlus'}
    for name in GRAY_DATASETS:
        assert issubclass(DATASETS.get(name), FERDataset), name


def test_grayscale_model_is_told_by_its_test_dataset():
    def cfg(dataset_type):
        return ConfigDict(test_dataloader=dict(dataset=dict(
            type='ClassBalancedDataset',
            dataset=dict(type=dataset_type))))

    assert all(is_grayscale_model(cfg(name)) for name in GRAY_DATASETS)
    assert not is_grayscale_model(cfg('RAFDB'))
