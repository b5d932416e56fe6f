"""Every official-recipe KENT config computes the authors' L_s, L_t and L_c,
with their gradients, from the authors' prompts.

The reference below is written out by hand from the authors' code
(``swint_raf_main.py`` and ``utils/loss.py`` of KE2NT): logits from
normalised features, L_t on the normalised difference of RAW text features,
L_c as the mean over the whole anchors x samples matrix, all three as
functions of ``v`` and ``n = F_n(v)``. Values alone would not see a model
that detaches the inputs of L_t and L_c (no gradient to the embedding
head): the gradients w.r.t. v and the neck's parameters are compared too.
"""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.datasets.emotions import to_canonical
from kent_mm.models.text import save_text_cache
from kent_testing import REPO, cached_config

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'kent_*.py')))
RAFDB = osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py')


def _unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def authors_losses(v, n, raw, raw_neu, labels, neutral, scale):
    """L_s, L_t, L_c of the authors' code (float64, differentiable)."""
    # L_s: scale * normalised v . normalised t, cross-entropy.
    logits = scale * _unit(v) @ _unit(raw).T
    logp = logits - logits.logsumexp(1, keepdim=True)
    ls = -logp[torch.arange(len(labels)), labels].mean()
    idx = labels != neutral
    # L_t: delta_f = v - n, delta_t = r_y - r_neu (raw), both normalised.
    delta_f = _unit((v - n)[idx])
    delta_t = _unit((raw[labels] - raw_neu)[idx])
    lt = (1. - (delta_f * delta_t).sum(1)).mean()
    # L_c: SelfConLoss(anchor=r_y, pos=v, neg=n): every anchor with every
    # sample of the non-neutral subset.
    a, p, q = _unit(raw[labels][idx]), _unit(v[idx]), _unit(n[idx])
    lc = (a @ q.T - a @ p.T + 2.).mean()
    return dict(loss_s=ls, loss_t=lt, loss_c=lc)


def neutral_of(names):
    canonical = [to_canonical(c) for c in names]
    return canonical.index('neutral') if 'neutral' in canonical else -1


def build(config, tmp_path):
    """Neck and head of a config (float64), with raw text features of very
    different norms (the extra neutral prompt last when no class is
    neutral); and the reference's inputs."""
    cfg = cached_config(config)
    head_cfg = cfg.model.head
    names = list(head_cfg.class_names)
    dim = head_cfg.in_channels
    assert cfg.model.neck.out_channels == dim
    neutral = neutral_of(names)
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
    ref = dict(raw=raw[:len(names)], raw_neu=raw[neutral], neutral=neutral,
               scale=head_cfg['logit_scale'])
    x = torch.randn(12, cfg.model.neck.in_channels, 2, 2, generator=g,
                    dtype=torch.float64)
    labels = torch.arange(12) % len(names)
    return neck, head, ref, x, labels


def check_values_and_gradients(neck, head, ref, x, labels, gradients=True):
    """Compare the model's losses (and, with ``gradients``, their gradients
    w.r.t. v and every neck parameter) with the authors' formulas."""
    feats = neck((x, ))
    n, v = feats
    losses = head.loss(feats, [DataSample().set_gt_label(int(i))
                               for i in labels])
    # The reference recomputes v and n = F_n(v) from the neck's layers.
    v_ref = neck.embed(x.mean((2, 3)))
    n_ref = neck.neutral(v_ref)
    expected = authors_losses(v_ref, n_ref, labels=labels, **ref)
    params = [p for p in neck.parameters() if p.requires_grad]
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value.item(), abs=1e-6)
        if not gradients or key == 'loss_s':
            continue
        got = torch.autograd.grad(losses[key], [v] + params,
                                  retain_graph=True, allow_unused=True)
        want = torch.autograd.grad(value, [v_ref] + params,
                                   retain_graph=True, allow_unused=True)
        for name, a, b in zip(['v'] + [n for n, _ in neck.named_parameters()],
                              got, want):
            a = torch.zeros_like(b) if a is None else a
            b = torch.zeros_like(a) if b is None else b
            torch.testing.assert_close(
                a, b, rtol=1e-6, atol=1e-9,
                msg=lambda m, k=key, p=name: f'd {k} / d {p}: {m}')
    return losses


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_official_recipe_matches_authors_formulas(config, tmp_path):
    neck, head, ref, x, labels = build(config, tmp_path)
    check_values_and_gradients(neck, head, ref, x, labels)
    head_cfg = cached_config(config).model.head
    assert ref['scale'] == 100.  # CLIP's, as the authors
    assert not head_cfg.get('learn_scale') and not head_cfg.get(
        'center_text')
    # The three weights are 1 (λs = λt = λc = 1 in the official code).
    for key in ('loss', 'loss_transform', 'loss_contrast'):
        assert head_cfg[key]['loss_weight'] == 1.0


def test_gradient_check_catches_detached_l_t_and_l_c_inputs(tmp_path):
    """A model whose L_t and L_c see detached v (n = F_n(v.detach())) has
    the authors' loss values but sends the embedding head no gradient
    through them: the check above must fail on it."""
    neck, head, ref, x, labels = build(RAFDB, tmp_path)

    def detached_neck(inputs):
        v = neck.embed(inputs[-1].mean((2, 3)))
        return neck.neutral(v.detach()), v

    def detach_visual(loss):
        forward = loss.forward
        loss.forward = lambda visual, *args: forward(visual.detach(), *args)

    neck.forward = detached_neck
    detach_visual(head.loss_transform)
    detach_visual(head.loss_contrast)
    check_values_and_gradients(neck, head, ref, x, labels, gradients=False)
    with pytest.raises(AssertionError, match=r'd loss_t / d v'):
        check_values_and_gradients(neck, head, ref, x, labels)


def tiny_clip(dim):
    """A randomly initialised open_clip CLIP with a one-layer, 32-wide
    text tower and output dimension ``dim`` (the real tokenizer's
    vocabulary and context length)."""
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
    torch.manual_seed(0)
    return CLIP(embed_dim=dim, quick_gelu=True,
                vision_cfg=CLIPVisionCfg(layers=1, width=32, head_width=16,
                                         patch_size=8, image_size=16),
                text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408,
                                     width=32, heads=2, layers=1)).eval()


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_text_source_encodes_the_authors_prompts(config, monkeypatch):
    """The config's own text source (its model, weights tag, templates,
    prompt words), run with a tiny random text tower in place of CLIP
    ViT-B/16: the head keeps the RAW features of the authors' prompt for
    every class and for the neutral face."""
    import open_clip
    cfg = cached_config(config).model.head
    text_cfg = dict(cfg.text_embeddings, cache_file=None)
    assert text_cfg['type'] == 'OpenCLIPTextEmbeddings'
    tower, requested = tiny_clip(cfg.in_channels), []

    def create_model(model_name, pretrained=None, **kwargs):
        requested.append((model_name, pretrained))
        return tower

    monkeypatch.setattr(open_clip, 'create_model', create_model)
    head = MODELS.build(dict(cfg, text_embeddings=text_cfg))
    head.init_weights()
    # CLIP ViT-B/16 with OpenAI's weights (QuickGELU, as OpenAI trained it).
    assert requested == [('ViT-B-16-quickgelu', 'openai')]

    names = list(cfg.class_names)
    neutral = neutral_of(names)
    words = names + (['neutral'] if neutral < 0 else [])
    prompts = [
        'a photo of a person making {} {} facial expression.'.format(
            'an' if w[0] in 'aeiou' else 'a', w) for w in words
    ]
    tokenizer = open_clip.get_tokenizer('ViT-B-16-quickgelu')
    with torch.no_grad():
        raw = tower.encode_text(tokenizer(prompts)).float()
    torch.testing.assert_close(head.text_feats, raw[:len(names)])
    torch.testing.assert_close(head.neutral_feat, raw[neutral])
    torch.testing.assert_close(head.text_embeds,
                               F.normalize(raw[:len(names)], dim=-1))
