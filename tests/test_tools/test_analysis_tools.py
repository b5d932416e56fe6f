"""The analysis tools on the session's tiny KENT ResNet-18
(``kent_checkpoint``, trained by tools/train.py) and tiny fixture datasets.

``tools/test.py`` ran once as a subprocess (``kent_test_run``: its log and
predictions are the reference); the analysis tools run in-process
(``runpy``) to save the interpreter start-up, with their real argument
parsing. Their helpers (``tools/analysis_tools/utils``) are imported as the
tools import them.
"""
import json
import os.path as osp
import re
import sys

import numpy as np
import pytest
from PIL import Image

from fer_fixtures import write_ckplus
from kent_mm.evaluation.scores import classification_report
from kent_testing import REPO, RAFDB_CLASSES, run_script

sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from utils.predictions import load_predictions  # noqa: E402


def _tool(path, args):
    """Run ``tools/<path>`` in-process with ``args``; return its stdout."""
    return run_script(path, args)


def _png_size(path):
    with Image.open(path) as img:
        img.load()
        assert img.format == 'PNG'
        return img.size


@pytest.fixture(scope='module')
def tiny_model(kent_checkpoint, kent_test_run):
    """(config, checkpoint, test.py predictions and log) of the tiny KENT."""
    return dict(cfg=kent_checkpoint['config'],
                ckpt=kent_checkpoint['checkpoint'],
                preds=kent_test_run['preds'], log=kent_test_run['log'])


def _reference(tiny_model):
    p = load_predictions(tiny_model['preds'])
    return p, classification_report(p['pred'], p['labels'], RAFDB_CLASSES)


def test_test_tool_logs_top1_mean_class_acc_per_class_and_f1(tiny_model):
    log = tiny_model['log']
    _, ref = _reference(tiny_model)
    assert ref['num_samples'] == 7  # the fixture's test split
    found = dict(re.findall(r'(accuracy/top1|single-label/f1-score|'
                            r'class_acc/\w+): (nan|[\d.]+)', log))
    for name in RAFDB_CLASSES:
        assert f'class_acc/{name}' in found
        row = next(c for c in ref['per_class'] if c['class'] == name)
        if row['support']:
            assert float(found[f'class_acc/{name}']) == pytest.approx(
                row['accuracy'], abs=1e-3)
        else:
            assert found[f'class_acc/{name}'] == 'nan'
    assert float(found['accuracy/top1']) == pytest.approx(ref['top1'],
                                                          abs=1e-3)
    assert float(found['class_acc/mean']) == pytest.approx(
        ref['mean_class_acc'], abs=1e-3)
    assert 'single-label/f1-score' in found


def test_confusion_matrix_from_checkpoint_and_from_pickle(
        tiny_model, tmp_path):
    from utils.plotting import default_cm_figsize
    _, ref = _reference(tiny_model)
    out = tmp_path / 'cm.png'
    text = _tool('analysis_tools/plot_confusion_matrix.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--out', out, '--out-json',
        tmp_path / 'cm.json', '--num-workers', 0
    ])
    w, h = default_cm_figsize(7)
    assert _png_size(out) == (round(w * 100), round(h * 100))
    numbers = json.loads((tmp_path / 'cm.json').read_text())
    # The tool's own forward pass gives test.py's predictions.
    assert numbers['confusion'] == ref['confusion'].tolist()
    assert numbers['top1'] == pytest.approx(ref['top1'])
    assert numbers['classes'] == list(RAFDB_CLASSES)
    assert f'{ref["top1"]:.2f}' in text and 'mean class acc' in text

    out2 = tmp_path / 'from_pkl.png'
    _tool('analysis_tools/plot_confusion_matrix.py', [
        tiny_model['cfg'], tiny_model['preds'], '--out', out2, '--out-json',
        tmp_path / 'pkl.json', '--fig-size', 5, 4, '--dpi', 40, '--counts'
    ])
    assert _png_size(out2) == (200, 160)
    assert json.loads((tmp_path / 'pkl.json').read_text())['confusion'] == \
        ref['confusion'].tolist()


@pytest.fixture(scope='module')
def ckplus_root(tmp_path_factory):
    # Fold 1 holds subjects S010 (code 2, contempt) and S060 (code 5,
    # happiness): 3 peak frames each.
    return write_ckplus(tmp_path_factory.mktemp('ckplus') / 'ckplus')


def test_cross_dataset_rafdb_to_ckplus(tiny_model, ckplus_root, tmp_path,
                                       monkeypatch):
    from mmpretrain import get_model

    from utils.configs import load_config
    from utils.inference import collect_outputs
    from utils.loaders import build_eval_dataset, build_loader

    from kent_mm.datasets import class_intersection
    from kent_mm.evaluation.cross_dataset import restrict_to_shared
    from kent_mm.utils import checkpoint_safe_globals
    monkeypatch.chdir(REPO)  # dataset names are configs/_base_/datasets/*
    text = _tool('cross_dataset_test.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--target-dataset', 'ckplus',
        '--target-root', ckplus_root, '--target-cfg-options',
        'test_dataloader.dataset.fold=1', '--num-workers', 0, '--out-json',
        tmp_path / 'x.json'
    ])
    res = json.loads((tmp_path / 'x.json').read_text())
    assert res['shared'] == ['anger', 'disgust', 'fear', 'happiness',
                             'sadness', 'surprise']
    assert res['excluded_target'] == ['contempt']
    assert res['dropped_source'] == ['neutral']
    assert res['excluded_samples'] == {'contempt': 3}
    assert res['total_samples'] == 6 and res['num_samples'] == 3
    assert 'contempt (3 samples)' in text and 'RAFDB -> CKPlus test' in text
    # Hand check: the model's logits on the 3 happiness frames, neutral
    # dropped, argmax over the shared classes.
    cfg = load_config(tiny_model['cfg'])
    with checkpoint_safe_globals():
        model = get_model(cfg, pretrained=tiny_model['ckpt'])
    ds = build_eval_dataset(cfg, 'test', ckplus_root, 'ckplus',
                            {'test_dataloader.dataset.fold': 1})
    out = collect_outputs(model, build_loader(ds, 4, 0), progress=False)
    happy = ds.metainfo['classes'].index('happiness')
    assert (out['labels'] == happy).sum() == 3
    keep = out['labels'] == happy
    rafdb_shared = [RAFDB_CLASSES.index(c) for c in res['shared']]
    pred = out['logits'][keep][:, rafdb_shared].argmax(1)
    right = int((pred == res['shared'].index('happiness')).sum())
    assert res['top1'] == pytest.approx(100 * right / 3)
    inter = class_intersection(RAFDB_CLASSES, ds.metainfo['classes'])
    p, t, _ = restrict_to_shared(out['logits'], out['labels'], inter)
    assert res['confusion'] == classification_report(
        p, t, inter.shared)['confusion'].tolist()


def test_vis_expression_tsne_with_neutral_and_text(tiny_model, tmp_path):
    out = tmp_path / 'tsne.png'
    _tool('visualization/vis_expression_tsne.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--neutral', '--text',
        '--out', out, '--out-npz', tmp_path / 'tsne.npz', '--fig-size', 6,
        5, '--dpi', 50, '--num-workers', 0
    ])
    assert _png_size(out) == (300, 250)
    with np.load(tmp_path / 'tsne.npz') as f:
        kinds = f['kinds'].tolist()
        assert f['coords'].shape == (7 + 7 + 7, 2)  # v, n, 7 text anchors
        assert kinds.count('v') == 7 and kinds.count('n') == 7
        assert kinds.count('text') == 7
        assert sorted(f['labels'][-7:].tolist()) == list(range(7))
        assert np.isfinite(f['coords']).all()


def test_extract_features_and_linear_probe(tiny_model, tmp_path):
    preds, ref = _reference(tiny_model)
    test_npz, train_npz = tmp_path / 'test.npz', tmp_path / 'train.npz'
    _tool('extract_features.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--out', test_npz,
        '--neutral', '--num-workers', 0, '--batch-size', 3
    ])
    with np.load(test_npz) as f:
        assert f['features'].shape == (7, 512)  # v
        assert f['neutral'].shape == (7, 512)
        assert f['labels'].tolist() == preds['labels'].tolist()
        # Same model, same samples: the saved logits give test.py's preds.
        assert f['logits'].argmax(1).tolist() == preds['pred'].tolist()
        assert f['classes'].tolist() == list(RAFDB_CLASSES)
        assert not np.allclose(f['features'], f['neutral'])
        neck_v, neutral = f['features'], f['neutral']
    # The neck feature is v, the head's input (E2NNeck gives (n, v)).
    _tool('extract_features.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--out', train_npz,
        '--feature', 'pre_logits', '--neutral', '--num-workers', 0,
        '--batch-size', 3
    ])
    with np.load(train_npz) as f:
        np.testing.assert_allclose(f['features'], neck_v, atol=1e-6)
        np.testing.assert_allclose(f['neutral'], neutral, atol=1e-6)
    _tool('extract_features.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--out', train_npz,
        '--split', 'train', '--feature', 'backbone', '--num-workers', 0
    ])
    with np.load(train_npz) as f:
        assert f['features'].shape == (14, 512)  # pooled ResNet-18 stage 4
        assert str(f['feature']) == 'backbone'

    # Probe the neck features of the train split, test on the test split.
    _tool('extract_features.py', [
        tiny_model['cfg'], tiny_model['ckpt'], '--out', train_npz,
        '--split', 'train', '--num-workers', 0
    ])
    text = _tool('linear_probe.py', [train_npz, test_npz, '--out-json',
                                     tmp_path / 'probe.json'])
    res = json.loads((tmp_path / 'probe.json').read_text())
    assert res['probe']['num_samples'] == 7
    assert 0 <= res['probe']['top1'] <= 100
    assert res['train_top1'] == pytest.approx(100.)  # 14 points, 512 dims
    assert res['head']['top1'] == pytest.approx(ref['top1'])
    assert res['head']['mean_class_acc'] == pytest.approx(
        ref['mean_class_acc'])
    assert 'linear probe' in text and 'model head' in text


def test_linear_probe_learns_separable_features(tmp_path):
    """A known answer: blobs of 3 classes in A; B has the same blobs for
    two of them and an extra class the probe never saw."""
    rng = np.random.default_rng(0)
    centres = 5 * np.eye(8)[:3]
    a_labels = np.repeat(np.arange(3), 20)
    np.savez(tmp_path / 'a.npz',
             features=centres[a_labels] + rng.normal(size=(60, 8)) * .3,
             labels=a_labels,
             classes=np.asarray(['happy', 'sad', 'neutral']))
    # B: anger 0 (unknown to A), happiness 1, sadness 2
    b_labels = np.array([0, 0, 1, 1, 1, 2, 2])
    b_feats = np.zeros((7, 8))
    b_feats[b_labels == 1] = centres[0]
    b_feats[b_labels == 2] = centres[1]
    np.savez(tmp_path / 'b.npz', features=b_feats, labels=b_labels,
             classes=np.asarray(['anger', 'happiness', 'sadness']))
    text = _tool('linear_probe.py', [tmp_path / 'a.npz', tmp_path / 'b.npz',
                                     '--out-json', tmp_path / 'p.json'])
    res = json.loads((tmp_path / 'p.json').read_text())['probe']
    assert res['num_samples'] == 5
    assert res['top1'] == pytest.approx(100.)
    assert res['mean_class_acc'] == pytest.approx(100.)
    assert 'anger (2)' in text
    # Features of another dimension are refused.
    np.savez(tmp_path / 'c.npz', features=np.zeros((2, 4)),
             labels=np.zeros(2, int), classes=np.asarray(['anger']))
    with pytest.raises(ValueError, match='dimensions differ'):
        _tool('linear_probe.py', [tmp_path / 'a.npz', tmp_path / 'c.npz'])


def test_tools_named_in_setup_py_and_the_analysis_docs_exist():
    named = set()
    for doc in ('setup.py', osp.join('docs', 'analysis.md')):
        with open(osp.join(REPO, doc)) as f:
            named |= set(re.findall(r'\btools/[\w/]+\.py\b', f.read()))
    assert len(named) >= 8, named
    assert sorted(p for p in named if not osp.isfile(osp.join(REPO, p))) == []
