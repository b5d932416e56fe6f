"""Configuration mistakes fail before the first training iteration.

Each case builds the runner in-process from a valid tiny config with one
mistake, calls ``runner.train()``, and checks that the error names the
config field and that no iteration started (a probe hook counts
``before_train_iter``; nothing was saved).
"""
import glob
import os.path as osp

import pytest
from mmengine.hooks import Hook

from kent_mm.models.text import save_text_cache
from kent_testing import (RAFDB_CLASSES, build_runner, cached_config,
                          write_text_file, write_tiny_config)


class IterProbe(Hook):
    """Counts the training iterations that started."""

    def __init__(self):
        self.started = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.started += 1


@pytest.fixture
def make_cfg(rafdb_root, tmp_path, lean_runner):
    def make(base='kent_resnet18_rafdb.py', **text_kwargs):
        text = None
        if base.startswith('kent_'):
            text = write_text_file(tmp_path / 'text.pth', **text_kwargs)
        cfg = cached_config(
            write_tiny_config(tmp_path / 'cfg.py', base, rafdb_root, text,
                              batch_size=2, max_epochs=1))
        cfg.work_dir = str(tmp_path / 'work')
        return cfg
    return make


def _train_fails(cfg, match: str) -> str:
    """Run ``cfg``; return the error message (must contain ``match``)."""
    probe = IterProbe()
    with pytest.raises(ValueError) as info:
        runner = build_runner(cfg, cfg.work_dir)
        runner.register_hook(probe)
        runner.train()
    msg = str(info.value)
    assert match in msg, msg
    assert probe.started == 0
    assert not glob.glob(osp.join(cfg.work_dir, '*.pth'))
    return msg


def _text_for(path, names, dim=512):
    import torch
    save_text_cache(path, torch.nn.functional.normalize(
        torch.randn(len(names), dim), dim=1), dict(class_names=list(names)))


def test_head_class_order_differs_from_dataset(make_cfg, tmp_path):
    cfg = make_cfg()
    names = RAFDB_CLASSES[1:] + RAFDB_CLASSES[:1]  # same set, other order
    _text_for(str(tmp_path / 'text.pth'), names)
    cfg.model.head.class_names = names
    msg = _train_fails(cfg, 'model.head.class_names=')
    assert 'train_dataloader.dataset' in msg


def test_head_class_count_differs_from_dataset(make_cfg, tmp_path):
    cfg = make_cfg()
    names = RAFDB_CLASSES[:5] + ('neutral', )  # 6 classes, neutral kept
    _text_for(str(tmp_path / 'text.pth'), names)
    cfg.model.head.num_classes = 6
    cfg.model.head.class_names = names
    cfg.model.data_preprocessor.num_classes = 6
    _train_fails(cfg, 'model.head.num_classes=6')


def test_linear_head_class_count_differs_from_dataset(make_cfg):
    cfg = make_cfg('baseline_resnet18_rafdb.py')
    cfg.model.head.num_classes = 8
    msg = _train_fails(cfg, 'model.head.num_classes=8')
    assert 'has 7 classes' in msg


def test_head_num_classes_differs_from_its_class_names(make_cfg):
    cfg = make_cfg()
    cfg.model.head.num_classes = 8
    _train_fails(cfg, '`model.head.num_classes` / `model.head.class_names`')


def test_text_file_made_for_other_prompts(make_cfg, tmp_path):
    cfg = make_cfg()
    _text_for(str(tmp_path / 'text.pth'),
              ('a', 'b', 'c', 'd', 'e', 'f', 'neutral'))
    _train_fails(cfg, 'field "class_names"')


def test_text_dimension_differs_from_head(make_cfg):
    cfg = make_cfg(dim=256)  # a text encoder with 256-d embeddings
    _train_fails(cfg, '`model.head.in_channels`')


def test_neck_output_differs_from_head_input(make_cfg):
    cfg = make_cfg()
    cfg.model.neck.out_channels = 256
    _train_fails(cfg, 'model.neck.out_channels=256')


def test_unknown_dataset_split(make_cfg):
    cfg = make_cfg()
    cfg.train_dataloader.dataset.split = 'val'  # RAF-DB has train/test
    msg = _train_fails(cfg, "split 'val'")
    assert 'field `split`' in msg
