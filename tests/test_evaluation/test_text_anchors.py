"""Separability of fixed text anchors (kent_mm.evaluation.text_anchors)."""
import json
import math

import numpy as np
import pytest
import torch

from kent_mm.evaluation.text_anchors import (anchor_report,
                                             best_case_probability,
                                             feature_alignment,
                                             pairwise_cosine)
from kent_mm.models.text import save_text_cache
from kent_testing import run_script


def test_best_case_probability_matches_closed_form_for_orthonormal_anchors():
    # C orthonormal anchors: the best v for class i is the centred anchor,
    # whose logit gap to every other class is scale * sqrt(C / (C - 1)).
    num_classes, scale = 3, 2.0
    embeds = torch.zeros(num_classes, 8)
    embeds[:, :num_classes] = torch.eye(num_classes)
    gap = scale * math.sqrt(num_classes / (num_classes - 1))
    expected = 1 / (1 + (num_classes - 1) * math.exp(-gap))  # 0.8527
    p = best_case_probability(embeds, scale)
    assert p.shape == (num_classes, )
    assert torch.allclose(p, torch.full_like(p, expected), atol=1e-4)


def test_nearly_parallel_anchors_bound_the_head_below_separable_ones():
    gen = torch.Generator().manual_seed(0)
    common = torch.randn(1, 64, generator=gen)
    spread = torch.randn(5, 64, generator=gen)
    tight = common + 0.05 * spread  # pairwise cosine ~0.998
    loose = common + 1.0 * spread
    rep_tight = anchor_report(tight, scale=20.)
    rep_loose = anchor_report(loose, scale=20.)
    assert rep_tight['cos_min'] > 0.99
    assert rep_tight['p_best_mean'] < 0.6
    assert rep_loose['p_best_min'] > 0.99
    assert rep_tight['ls_floor'] > rep_loose['ls_floor'] + 0.5
    # A higher scale lifts the bound for the same anchors.
    assert anchor_report(tight, scale=200.)['p_best_mean'] > \
        rep_tight['p_best_mean']


def test_pairwise_cosine_is_scale_invariant_and_symmetric():
    embeds = torch.tensor([[1., 0.], [1., 1.], [0., 3.]])
    cos = pairwise_cosine(embeds)
    assert torch.allclose(cos, cos.t())
    assert cos[0, 1].item() == pytest.approx(1 / math.sqrt(2))
    assert cos[0, 2].item() == pytest.approx(0.0)
    assert torch.allclose(cos.diagonal(), torch.ones(3, dtype=cos.dtype))


def test_text_anchor_stats_tool_reports_each_file(tmp_path):
    path = tmp_path / 'anchors.pth'
    save_text_cache(str(path), torch.eye(3, 6),
                    dict(class_names=['neutral', 'happiness', 'anger'],
                         prompts=[['n'], ['h'], ['a']]))
    out = tmp_path / 'stats.json'
    printed = run_script('analysis_tools/text_anchor_stats.py',
                         [path, '--scales', '2', '--out-json', out])
    assert 'happiness' in printed
    stats = json.loads(out.read_text())[str(path)]['2.0']
    assert stats['cos_max'] == pytest.approx(0.0, abs=1e-9)
    assert stats['p_best']['anger'] == pytest.approx(0.8527, abs=1e-3)


def test_feature_alignment_measures_cosines_and_span_share():
    embeds = torch.eye(3, 6)  # anchors: the first three axes
    features = torch.tensor([[2., 0, 0, 0, 0, 0],  # on its anchor
                             [0, 1., 0, 1., 0, 0],  # half outside the span
                             [0, 0, 0, 0, 0, 3.]])  # all outside: cos 0
    rep = feature_alignment(features, torch.tensor([0, 1, 2]), embeds)
    assert rep['cos_true_mean'] == pytest.approx((1 + 0.5**0.5 + 0) / 3)
    assert rep['span_share_mean'] == pytest.approx(0.5)
    assert rep['accuracy'] == pytest.approx(2 / 3)  # all cosines 0: class 0
    # Centred anchors span the plane orthogonal to (1, 1, 1, 0, 0, 0): 2/3
    # of the first feature's length lies in it.
    centred = feature_alignment(features[:1], torch.tensor([0]), embeds,
                                center=True)
    assert centred['span_share_mean'] == pytest.approx(2 / 3)


def test_text_anchor_stats_tool_reads_extracted_features(tmp_path):
    path = tmp_path / 'anchors.pth'
    names = ['neutral', 'happiness', 'anger']
    save_text_cache(str(path), torch.eye(3, 6),
                    dict(class_names=names, prompts=[['n'], ['h'], ['a']]))
    feats = tmp_path / 'val.npz'
    np.savez(feats, features=np.eye(3, 6, dtype=np.float32) * 5,
             labels=np.array([0, 1, 2]), classes=np.array(names))
    out = tmp_path / 'stats.json'
    printed = run_script('analysis_tools/text_anchor_stats.py',
                         [path, '--features', feats, '--out-json', out])
    assert 'cos(v, t_y) mean 1.000' in printed
    rep = json.loads(out.read_text())['features']
    assert rep['span_share_mean'] == pytest.approx(1.0)
    assert rep['accuracy'] == 1.0
    # Features of another class list are refused, naming both files.
    np.savez(feats, features=np.eye(3, 6, dtype=np.float32),
             labels=np.array([0, 1, 2]), classes=np.array(names[::-1]))
    with pytest.raises(ValueError, match='differ'):
        run_script('analysis_tools/text_anchor_stats.py',
                   [path, '--features', feats])
