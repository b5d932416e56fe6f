"""Every config of the matrix {kent, baseline} x {resnet18, swin-t} x
{rafdb, affectnet7, affectnet8, ferplus, ckplus, fer2013} builds and trains
one iteration on a tiny fixture of its dataset, in-process.

Swin-T cases are the slow ones (~3-6 s each on 2 CPU cores); they carry a
``skipif`` mark: ``KENT_SKIP_SWIN=1`` (or ``-k 'not swin'``) leaves them out.
"""
import glob
import math
import os
import os.path as osp

import pytest

from fer_fixtures import (write_affectnet, write_ckplus, write_fer2013_folders,
                          write_ferplus)
from kent_testing import REPO, build_runner, cached_config, write_text_file

DATASETS = ('rafdb', 'affectnet7', 'affectnet8', 'ferplus', 'ckplus',
            'fer2013')
BACKBONES = ('resnet18', 'swin-t')
KINDS = ('kent', 'baseline')
IMG = 32  # input side for the CPU runs (configs use 112)

SWIN = pytest.mark.skipif(
    os.environ.get('KENT_SKIP_SWIN') == '1',
    reason='KENT_SKIP_SWIN=1: Swin-T matrix cases left out')

MATRIX = [
    pytest.param(f'{kind}_{bb}_{ds}.py', ds, id=f'{kind}_{bb}_{ds}',
                 marks=[SWIN] if bb == 'swin-t' else [])
    for ds in DATASETS for bb in BACKBONES for kind in KINDS
]


@pytest.fixture(scope='module')
def roots(tmp_path_factory, rafdb_root):
    """One tiny dataset per matrix dataset, official layouts."""
    tmp = tmp_path_factory.mktemp('matrix_data')
    affectnet = write_affectnet(tmp / 'affectnet')
    return dict(rafdb=rafdb_root, affectnet7=affectnet, affectnet8=affectnet,
                ferplus=write_ferplus(tmp / 'ferplus'),
                ckplus=write_ckplus(tmp / 'ckplus'),
                fer2013=write_fer2013_folders(tmp / 'fer2013'))


def test_matrix_covers_every_config_file():
    files = {osp.basename(p) for p in glob.glob(osp.join(REPO, 'configs',
                                                         '*.py'))}
    expected = {p.values[0] for p in MATRIX}
    assert expected <= files
    assert not {f for f in files
                if f.startswith(('kent_', 'baseline_'))} - expected


@pytest.mark.parametrize('ds', DATASETS)
def test_config_classes_match_the_dataset_class(ds, roots):
    """``classes`` of the dataset config is the dataset's own label order,
    and head, preprocessor and dataset agree on the class count (the dataset
    file's ``num_classes``; the KENT head takes it from its
    ``class_names``)."""
    from mmpretrain.registry import DATASETS as REGISTRY
    from mmpretrain.registry import MODELS
    cfg = cached_config(osp.join(REPO, 'configs', f'kent_resnet18_{ds}.py'))
    built = REGISTRY.build(
        dict(cfg.train_dataloader.dataset, data_root=roots[ds], pipeline=[]))
    assert tuple(cfg.classes) == built.metainfo['classes']
    assert tuple(cfg.model.head.class_names) == tuple(cfg.classes)
    n = len(cfg.classes)
    assert cfg.num_classes == n
    # Built, not initialised: no text tower is made before init_weights.
    assert MODELS.build(cfg.model.head).num_classes == n
    assert cfg.model.data_preprocessor.num_classes == n
    assert ds in cfg.model.head.text_embeddings.cache_file
    base = cached_config(
        osp.join(REPO, 'configs', f'baseline_swin-t_{ds}.py'))
    assert base.model.head.num_classes == n
    assert base.model.data_preprocessor.num_classes == n


@pytest.mark.parametrize('ds,val,test', [
    ('fer2013', 'val', 'test'),  # official PublicTest / PrivateTest
    ('ferplus', 'val', 'test'),  # FER2013Valid / FER2013Test
    ('ckplus', 'test', 'test'),  # the held-out subject fold
    ('affectnet7', 'test', 'test'),  # validation.csv is the test set
])
def test_evaluation_splits(ds, val, test):
    cfg = cached_config(osp.join(REPO, 'configs', f'kent_swin-t_{ds}.py'))
    assert cfg.val_dataloader.dataset.split == val
    assert cfg.test_dataloader.dataset.split == test
    assert cfg.train_dataloader.dataset.split == 'train'
    if ds == 'ckplus':
        folds = {cfg[k].dataset.fold for k in (
            'train_dataloader', 'val_dataloader', 'test_dataloader')}
        assert folds == {0}


def shrink_pipeline(pipeline, size):
    """The config's own pipeline with 112 replaced by ``size``."""
    for t in pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (size, size)
        if t['type'] == 'RandomApply':
            shrink_pipeline(t['transforms'], size)
        if t['type'] == 'RandomCrop':
            t['crop_size'] = size
    return pipeline


def one_iteration_cfg(name, root, text_dir):
    cfg = cached_config(osp.join(REPO, 'configs', name))
    cfg.model.backbone.init_cfg = None
    if 'swin' in name:
        # At 32 px (patch 2) the last stages are 4 and 2 tokens wide, less
        # than the 7x7 window: pad them (the 112 configs never need it).
        cfg.model.backbone.img_size = IMG
        cfg.model.backbone.pad_small_map = True
    if name.startswith('kent_'):
        from kent_mm.models.heads import KENTHead
        names = KENTHead.text_names(cfg.model.head.class_names)
        text = write_text_file(osp.join(text_dir, f'{name}.pth'), names)
        cfg.model.head.text_embeddings = dict(
            type='PrecomputedTextEmbeddings', file=text)
    loader = cfg.train_dataloader
    loader.batch_size = 2
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.dataset.data_root = root
    loader.dataset.indices = 2  # one epoch = one iteration of 2 samples
    shrink_pipeline(loader.dataset.pipeline, IMG)
    cfg.train_cfg.max_epochs = 1
    for stage in ('val', 'test'):
        cfg[f'{stage}_dataloader'] = None
        cfg[f'{stage}_cfg'] = None
        cfg[f'{stage}_evaluator'] = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.mark.parametrize('name,ds', MATRIX)
def test_config_trains_one_iteration(name, ds, roots, tmp_path, lean_runner):
    cfg = one_iteration_cfg(name, roots[ds], tmp_path)
    runner = build_runner(cfg, tmp_path / 'work')
    runner.train()
    assert runner.iter == 1
    scalars = runner.message_hub.log_scalars
    assert 'train/loss' in scalars
    loss = scalars['train/loss'].current()
    assert math.isfinite(loss) and loss > 0
    if name.startswith('kent_'):
        assert {'train/loss_s', 'train/loss_t', 'train/loss_c'} <= set(
            scalars)
    assert runner.train_dataloader.dataset.metainfo['classes'] == tuple(
        cfg.classes)
