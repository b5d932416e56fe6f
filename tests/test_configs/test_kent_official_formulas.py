"""Every official-recipe KENT config computes the authors' L_s, L_t and L_c.

The reference below is written out by hand from the authors' code
(``swint_raf_main.py`` and ``utils/loss.py`` of KE2NT): logits from
normalised features, L_t on the normalised difference of RAW text features,
L_c as the mean over the whole anchors x samples matrix.
"""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.datasets.emotions import to_canonical
from kent_mm.models.text import save_text_cache
from kent_testing import REPO, cached_config

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'kent_*.py')))


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def authors_losses(v, n, raw, raw_neu, labels, neutral, scale):
    """L_s, L_t, L_c of the authors' code, in float64 numpy."""
    # L_s: scale * normalised v . normalised t, cross-entropy.
    logits = scale * _unit(v) @ _unit(raw).T
    logits = logits - logits.max(1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    ls = -logp[np.arange(len(labels)), labels].mean()
    idx = labels != neutral
    # L_t: delta_f = v - n, delta_t = r_y - r_neu (raw), both normalised.
    delta_f = _unit((v - n)[idx])
    delta_t = _unit((raw[labels] - raw_neu)[idx])
    lt = (1. - (delta_f * delta_t).sum(1)).mean()
    # L_c: SelfConLoss(anchor=r_y, pos=v, neg=n): every anchor with every
    # sample of the non-neutral subset.
    a, p, q = _unit(raw[labels][idx]), _unit(v[idx]), _unit(n[idx])
    lc = (a @ q.T - a @ p.T + 2.).mean()
    return ls, lt, lc


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_official_recipe_matches_authors_formulas(config, tmp_path):
    cfg = cached_config(config)
    head_cfg = cfg.model.head
    names = list(head_cfg.class_names)
    dim = head_cfg.in_channels
    assert cfg.model.neck.out_channels == dim
    canonical = [to_canonical(c) for c in names]
    neutral = canonical.index('neutral') if 'neutral' in canonical else -1
    # Raw text features with very different norms (and the extra neutral
    # prompt last when no class is neutral).
    g = torch.Generator().manual_seed(0)
    num_text = len(names) + (neutral < 0)
    raw = torch.randn(num_text, dim, generator=g, dtype=torch.float64)
    raw = raw * torch.linspace(0.5, 9., num_text,
                               dtype=torch.float64)[:, None]
    text_file = str(tmp_path / 'text.pth')
    save_text_cache(text_file, raw, dict(
        class_names=names + (['neutral'] if neutral < 0 else [])))
    head_cfg = dict(head_cfg, text_embeddings=dict(
        type='PrecomputedTextEmbeddings', file=text_file))
    neck = MODELS.build(cfg.model.neck).double().train()
    head = MODELS.build(head_cfg)
    head.init_weights()
    head.double()

    n_samples = 12
    labels = torch.arange(n_samples) % len(names)
    x = torch.randn(n_samples, cfg.model.neck.in_channels, 2, 2,
                    generator=g, dtype=torch.float64)
    v, n = neck((x, ))
    losses = head.loss((v, n), [DataSample().set_gt_label(int(i))
                                for i in labels])

    raw_np = raw.numpy()
    raw_neu = raw_np[neutral] if neutral >= 0 else raw_np[-1]
    ls, lt, lc = authors_losses(v.detach().numpy(), n.detach().numpy(),
                                raw_np[:len(names)], raw_neu,
                                labels.numpy(), neutral,
                                head_cfg['logit_scale'])
    assert head_cfg['logit_scale'] == 100.  # CLIP's, as the authors
    assert losses['loss_s'].item() == pytest.approx(ls, abs=1e-6)
    assert losses['loss_t'].item() == pytest.approx(lt, abs=1e-6)
    assert losses['loss_c'].item() == pytest.approx(lc, abs=1e-6)
    # The three weights are 1 (λs = λt = λc = 1 in the official code).
    for key in ('loss', 'loss_transform', 'loss_contrast'):
        assert head_cfg[key]['loss_weight'] == 1.0
