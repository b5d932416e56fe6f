"""Helpers of the analysis tools (``tools/analysis_tools/utils``): configs,
pictures, the predictions file of ``tools/test.py``, tables.

They are tool helpers, not part of the kent_mm package: imported here as the
tools import them, with ``tools/analysis_tools`` on ``sys.path``.
"""
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
from PIL import Image

from kent_mm.evaluation.scores import classification_report, confusion_matrix
from kent_testing import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from utils.configs import (dataset_config_names, load_config,  # noqa: E402
                           resolve_dataset_config, split_dataset_cfg)
from utils.plotting import (default_cm_figsize,  # noqa: E402
                            plot_confusion_matrix, plot_embedding,
                            tsne_embed)
from utils.predictions import load_predictions  # noqa: E402
from utils.tables import format_table, report_table  # noqa: E402

TARGET = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 2, 2, 2, 0, 1]
NAMES = ('a', 'b', 'c')
DATASET_NAMES = {'affectnet7', 'affectnet7-fec', 'affectnet8', 'ckplus',
                 'fer2013', 'ferplus', 'rafdb'}


# ------------------------------------------------------------------ configs
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


# ----------------------------------------------------------------- pictures
def _png(path):
    with Image.open(path) as img:
        img.load()
        return img.size, np.asarray(img.convert('RGB'))


def test_confusion_png_decodes_with_the_expected_size(tmp_path):
    cm = confusion_matrix(PRED, TARGET, 3)
    out = plot_confusion_matrix(cm, NAMES, str(tmp_path / 'sub' / 'cm.png'))
    w, h = default_cm_figsize(3)
    size, pixels = _png(out)
    assert size == (round(w * 100), round(h * 100))
    assert pixels.std() > 10  # not a blank picture
    out2 = plot_confusion_matrix(cm, NAMES, str(tmp_path / 'cm2.png'),
                                 normalize=False, figsize=(4, 3), dpi=50)
    assert _png(out2)[0] == (200, 150)


def test_confusion_png_shows_the_matrix(tmp_path):
    # A perfect and a totally wrong classifier must look different.
    right = plot_confusion_matrix(np.eye(3, dtype=int) * 5, NAMES,
                                  str(tmp_path / 'right.png'))
    wrong = plot_confusion_matrix(np.roll(np.eye(3, dtype=int) * 5, 1, 1),
                                  NAMES, str(tmp_path / 'wrong.png'))
    assert np.abs(_png(right)[1].astype(int) -
                  _png(wrong)[1].astype(int)).sum() > 0


def test_tsne_and_embedding_png(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)
    feats = rng.normal(size=(18, 16)) + 10 * np.eye(16)[labels]
    coords = tsne_embed(feats, perplexity=30, seed=0)  # capped to 17/3
    assert coords.shape == (18, 2) and np.isfinite(coords).all()
    kinds = ['v'] * 15 + ['text'] * 3
    out = plot_embedding(coords, np.r_[labels[:15], [0, 1, 2]], NAMES,
                         str(tmp_path / 'tsne.png'), kinds=kinds,
                         figsize=(5, 4), dpi=60)
    size, pixels = _png(out)
    assert size == (300, 240)
    assert pixels.std() > 10


# -------------------------------------------------------- predictions file
def test_predictions_pickle_of_test_tool_is_read(tmp_path):
    """What ``tools/test.py --out`` writes (MMEngine's ``DumpResults``),
    read by torch's private ``weights_only`` unpickler: fails if that
    internal changes."""
    import torch
    from mmengine.evaluator import DumpResults
    from mmpretrain.structures import DataSample

    samples = [
        DataSample().set_gt_label(t).set_pred_label(p).set_pred_score(
            torch.eye(3)[p]).to_dict() for p, t in zip(PRED, TARGET)
    ]
    path = str(tmp_path / 'preds.pkl')
    dump = DumpResults(out_file_path=path)
    dump.process(None, samples)
    dump.compute_metrics(dump.results)
    before = set(torch.serialization.get_safe_globals())  # no set order
    preds = load_predictions(path)
    assert preds['pred'].tolist() == PRED
    assert preds['labels'].tolist() == TARGET
    assert preds['scores'].shape == (10, 3)
    assert set(torch.serialization.get_safe_globals()) == before


class _RunsCode:

    def __reduce__(self):
        return (print, ('this must not run', ))


def test_predictions_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps([_RunsCode()]))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        load_predictions(str(path))


# ------------------------------------------------------------------- tables
def test_report_table_prints_the_numbers():
    table = report_table(classification_report(PRED, TARGET, NAMES))
    lines = table.splitlines()
    assert lines[0].split('|')[1].strip() == 'class'
    assert [c.strip() for c in lines[2].split('|')[1:-1]] == [
        'a', '4', '75.00', '75.00']
    assert 'mean class acc' in table and '58.33' in table
    assert [c.strip() for c in lines[5].split('|')[1:-1]][:3] == [
        'top-1', '10', '60.00']
    assert '| -' in format_table(('x', ), [(float('nan'), )])
