"""Separability of fixed text anchors (kent_mm.evaluation.text_anchors)."""
import json
import math

import pytest
import torch

from kent_mm.evaluation.text_anchors import (anchor_report,
                                             best_case_probability,
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
