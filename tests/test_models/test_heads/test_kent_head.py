import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead
from kent_mm.models.text import save_text_cache

CLASSES = ('happiness', 'sadness', 'neutral')
# Unit text embeddings: happiness e1, sadness e2, neutral e3.
TEXT = torch.eye(3)


@pytest.fixture
def text_file(tmp_path):
    path = str(tmp_path / 'text.pth')
    save_text_cache(path, TEXT, dict(class_names=list(CLASSES)))
    return path


def make_head(text_file, **kwargs):
    cfg = dict(type='KENTHead', num_classes=3, class_names=CLASSES,
               in_channels=3, logit_scale=10.,
               text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                    file=text_file))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def test_loss_s_is_cross_entropy_over_scaled_cosines(text_file):
    head = make_head(text_file, loss_transform=None, loss_contrast=None)
    v = torch.tensor([[2., 0., 0.], [1., 1., 0.]])
    n = torch.zeros(2, 3)
    losses = head.loss((n, v), samples([0, 1]))
    # sample 0: logits (10, 0, 0), label 0; sample 1: (7.07, 7.07, 0), label 1
    s = 10 / math.sqrt(2)
    ce0 = -math.log(math.exp(10) / (math.exp(10) + 2))
    ce1 = -math.log(math.exp(s) / (2 * math.exp(s) + 1))
    assert losses['loss_s'].item() == pytest.approx((ce0 + ce1) / 2, rel=1e-5)
    assert set(losses) == {'loss_s'}


def test_logits_are_scaled_cosines_with_their_gradient(text_file):
    # forward() divides the logits by |v| instead of normalising v first:
    # same values and gradients as the textbook form, and a zero feature
    # gives zero logits (the eps clamp of F.normalize), not NaN.
    head = make_head(text_file)
    torch.manual_seed(0)
    v = torch.randn(5, 3)
    v[4] = 0.
    v.requires_grad_(True)
    ref_v = v.detach().clone().requires_grad_(True)
    logits = head((v, ))
    ref = F.linear(F.normalize(ref_v, dim=-1), head.text_embeds) * 10.
    torch.testing.assert_close(logits, ref)
    assert torch.equal(logits[4], torch.zeros(3))
    weights = torch.randn(5, 3)
    (logits * weights).sum().backward()
    (ref * weights).sum().backward()
    torch.testing.assert_close(v.grad, ref_v.grad)


def test_all_three_losses_and_neutral_rule(text_file):
    head = make_head(text_file)
    v = torch.tensor([[1., 0., 0.], [0., 0., 1.]])
    n = torch.tensor([[0., 0., 1.], [1., 0., 0.]])
    losses = head.loss((n, v), samples([0, 2]))  # sample 1 is neutral
    # Only sample 0 counts in L_t and L_c: Δv = e1 - e3 = Δt -> L_t = 0;
    # L_c = cos(t, n) - cos(t, v) + 2 = 0 - 1 + 2 = 1.
    assert losses['loss_t'].item() == pytest.approx(0., abs=1e-6)
    assert losses['loss_c'].item() == pytest.approx(1., abs=1e-6)
    for value in losses.values():
        assert torch.isfinite(value)


def test_all_neutral_batch_gives_zero_not_nan(text_file):
    head = make_head(text_file)
    v = torch.randn(4, 3, requires_grad=True)
    n = torch.randn(4, 3)
    losses = head.loss((n, v), samples([2, 2, 2, 2]))
    assert losses['loss_t'].item() == 0. and losses['loss_c'].item() == 0.
    sum(losses.values()).backward()
    assert torch.isfinite(v.grad).all()


def test_neutral_prompt_added_when_dataset_has_no_neutral(tmp_path):
    path = str(tmp_path / 'text.pth')
    save_text_cache(path, torch.eye(3),
                    dict(class_names=['happiness', 'sadness', 'neutral']))
    head = MODELS.build(
        dict(type='KENTHead', num_classes=2,
             class_names=('happiness', 'sadness'), in_channels=3,
             text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                  file=path)))
    head.init_weights()
    assert head.text_embeds.shape == (2, 3)
    assert torch.equal(head.neutral_feat, torch.tensor([0., 0., 1.]))
    assert head.neutral_index == -1


def test_predict_returns_scores_and_labels(text_file):
    head = make_head(text_file)
    head.eval()
    v = torch.tensor([[0., 3., 0.], [0., 0., 1.]])
    out = head.predict((v, ))
    assert [int(s.pred_label) for s in out] == [1, 2]
    assert torch.allclose(out[0].pred_score,
                          F.softmax(torch.tensor([0., 10., 0.]), 0))
    assert out[0].pred_score.sum().item() == pytest.approx(1.)


def test_text_embeddings_get_no_gradient_and_are_not_parameters(text_file):
    head = make_head(text_file)
    names = [n for n, _ in head.named_parameters()]
    assert not any('text' in n or 'neutral' in n for n in names)
    assert not head.text_embeds.requires_grad


def test_uninitialised_head_refuses_to_predict(text_file):
    head = MODELS.build(
        dict(type='KENTHead', num_classes=3, class_names=CLASSES,
             in_channels=3,
             text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                  file=text_file)))
    with pytest.raises(RuntimeError, match='not initialised'):
        head.predict((torch.randn(1, 3), ))
    with pytest.raises(RuntimeError, match='not initialised'):
        head.loss((torch.randn(1, 3), torch.randn(1, 3)), samples([0]))


def test_loading_an_uninitialised_state_resets_the_ready_flag(text_file):
    head = make_head(text_file)
    head.predict((torch.randn(1, 3), ))
    state = head.state_dict()
    state['text_ready'] = torch.tensor(False)
    head.load_state_dict(state)
    with pytest.raises(RuntimeError, match='not initialised'):
        head.predict((torch.randn(1, 3), ))


def test_l_t_uses_the_normalised_difference_of_raw_text_features(tmp_path):
    # Raw features of different norms: normalise(r_y - r_neu) differs from
    # normalise(t_y - t_neu) of the normalised features.
    raw = torch.tensor([[4., 0., 0.], [0., 1., 0.], [0., 0., 1.]])
    path = str(tmp_path / 'text.pth')
    save_text_cache(path, raw, dict(class_names=list(CLASSES)))
    head = make_head(path, loss_contrast=None)
    assert torch.equal(head.text_feats, raw)
    assert torch.equal(head.text_embeds, torch.eye(3))
    # v - n along r_hap - r_neu = (4, 0, -1): L_t = 0. Along the normalised
    # difference (1, 0, -1) it would not be.
    v = torch.tensor([[4., 0., 0.]])
    n = torch.tensor([[0., 0., 1.]])
    assert head.loss((n, v), samples([0]))['loss_t'].item() == \
        pytest.approx(0., abs=1e-6)
    v2 = torch.tensor([[1., 0., 0.]])
    assert head.loss((n, v2), samples([0]))['loss_t'].item() > 0.02


@pytest.mark.parametrize('names, neutral', [
    (('Happy', 'Sad', 'Neutral'), 2),       # folder spellings
    (('neutrality', 'anger', 'fear'), 0),   # alias
    (('surprise', 'fear', 'disgust'), -1),  # no neutral: extra prompt
])
def test_neutral_class_is_found_through_the_emotion_vocabulary(
        tmp_path, names, neutral):
    from kent_mm.models.heads.kent_head import find_neutral
    assert find_neutral(names) == neutral
    text_names = KENTHead.text_names(names)
    assert text_names == list(names) + (['neutral'] if neutral < 0 else [])
    path = str(tmp_path / 'text.pth')
    raw = torch.randn(len(text_names), 3)
    save_text_cache(path, raw, dict(class_names=text_names))
    head = MODELS.build(dict(
        type='KENTHead', class_names=names, num_classes=3, in_channels=3,
        text_embeddings=dict(type='PrecomputedTextEmbeddings', file=path)))
    head.init_weights()
    assert head.neutral_index == neutral
    assert torch.equal(head.neutral_feat, raw[neutral])


def test_misspelt_neutral_is_an_error_not_an_expression(text_file):
    with pytest.raises(ValueError, match="'nuetral'.*neutral_class"):
        KENTHead(num_classes=3, class_names=('happiness', 'sadness',
                                             'nuetral'),
                 text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                      file=text_file))
    # Named explicitly, any spelling is the neutral class.
    head = KENTHead(num_classes=3, class_names=('joy', 'gloom', 'calm'),
                    neutral_class='calm',
                    text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                         file=text_file))
    assert head.neutral_index == 2
    with pytest.raises(ValueError, match='neutral_class'):
        KENTHead(num_classes=2, class_names=('joy', 'gloom'),
                 neutral_class='calm',
                 text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                      file=text_file))


def test_half_model_gives_finite_logits_and_losses_for_tiny_features(
        text_file):
    # An explicit .half() model (no autocast): norms of tiny fp16 features
    # underflow, which must not become NaN.
    head = make_head(text_file).half()
    v = torch.full((2, 3), 1e-5, dtype=torch.float16)
    v[1] = 0.
    n = torch.full((2, 3), -1e-5, dtype=torch.float16)
    logits = head((v, ))
    assert torch.isfinite(logits).all()
    losses = head.loss((n, v), samples([0, 1]))
    for value in losses.values():
        assert torch.isfinite(value)


def test_logits_under_autocast_are_float32_cosines(text_file):
    head = make_head(text_file)
    v = torch.randn(4, 3)
    ref = head((v, ))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = head((v.bfloat16(), ))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, atol=0.1, rtol=0.02)


def test_config_errors_name_the_field(text_file):
    with pytest.raises(ValueError, match='model.head.num_classes'):
        KENTHead(num_classes=4, class_names=CLASSES,
                 text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                      file=text_file))
    head = MODELS.build(
        dict(type='KENTHead', num_classes=3, class_names=CLASSES,
             in_channels=8,
             text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                  file=text_file)))
    with pytest.raises(ValueError, match='model.head.in_channels'):
        head.init_weights()


def test_temperature_scales_eval_logits_but_never_the_losses(text_file):
    """Post-hoc calibration: the scores of a calibrated head are
    ``softmax(logits / T)`` outside training, with the same predictions,
    while training and ``loss()`` (in any mode) use the plain logits."""
    torch.manual_seed(0)
    v = torch.randn(6, 3)
    n = torch.randn(6, 3)
    labels = [0, 1, 2, 0, 1, 0]
    plain = make_head(text_file).eval()
    calibrated = make_head(text_file, temperature=0.5).eval()
    torch.testing.assert_close(calibrated((v, )), plain((v, )) / 0.5)
    preds = calibrated.predict((v, ), samples(labels))
    ref = plain.predict((v, ), samples(labels))
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in preds]),
        (plain((v, )) / 0.5).softmax(-1))
    assert [int(p.pred_label) for p in preds] == \
        [int(p.pred_label) for p in ref]
    for mode in (True, False):
        calibrated.train(mode)
        plain.train(mode)
        a = calibrated.loss((n, v), samples(labels))
        b = plain.loss((n, v), samples(labels))
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key])
    calibrated.train()
    torch.testing.assert_close(calibrated((v, )), plain((v, )))
    with pytest.raises(ValueError, match='model.head.temperature'):
        make_head(text_file, temperature=0.)


def test_soft_labels_from_mixup_are_rejected(text_file):
    head = make_head(text_file)
    sample = DataSample().set_gt_label(0).set_gt_score(torch.tensor(
        [0.5, 0.5, 0.]))
    with pytest.raises(ValueError, match='Mixup'):
        head.loss((torch.randn(1, 3), torch.randn(1, 3)), [sample])


def test_v_only_needs_the_auxiliary_losses_off(text_file):
    v = (torch.randn(2, 3), )
    with pytest.raises(ValueError, match='model.neck.neutral_channels'):
        make_head(text_file).loss(v, samples([0, 1]))
    head = make_head(text_file, loss_transform=None, loss_contrast=None)
    assert set(head.loss(v, samples([0, 1]))) == {'loss_s'}


def test_center_text_removes_the_shared_prompt_component(tmp_path):
    # Three anchors = a common direction + small class offsets (cosine ~0.98).
    common = torch.tensor([0., 0., 0., 1.])
    # Equal-norm offsets at 120 degrees: they sum to zero.
    r = math.sqrt(3) / 2
    offsets = torch.tensor([[1., 0., 0., 0.], [-0.5, r, 0., 0.],
                            [-0.5, -r, 0., 0.]]) * 0.1
    path = str(tmp_path / 'text.pth')
    save_text_cache(path, common + offsets, dict(class_names=list(CLASSES)))
    plain = make_head(path, in_channels=4)
    centred = make_head(path, in_channels=4, center_text=True)
    cos_plain = plain.text_embeds @ plain.text_embeds.t()
    assert cos_plain[0, 1].item() > 0.97
    # Centred anchors = normalised offsets: the common part is gone.
    expected = F.normalize(offsets, dim=-1)
    assert torch.allclose(centred.text_embeds, expected, atol=1e-5)
    # L_t's raw features are not centred (their differences are unchanged).
    assert torch.equal(centred.text_feats, common + offsets)
    # Default (False) keeps the official embeddings untouched.
    assert torch.allclose(plain.text_embeds,
                          F.normalize(common + offsets, dim=-1))


def test_learnable_scale_starts_at_logit_scale_and_trains(text_file):
    head = make_head(text_file, learn_scale=True)
    v = torch.tensor([[2., 0., 0.]])
    torch.testing.assert_close(head((v, )), torch.tensor([[10., 0., 0.]]))
    losses = head.loss((torch.zeros(1, 3), v), samples([0]))
    losses['loss_s'].backward()
    assert head.log_scale.grad is not None and head.log_scale.grad != 0
    with torch.no_grad():
        head.log_scale.fill_(10.)  # capped at 100, as CLIP
    assert head((v, ))[0, 0].item() == pytest.approx(100.)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_learnable_scale_learns_from_the_cap_of_100(text_file, dtype):
    # exp(log(100.)) in float32 is 100.0000076, above the cap: a clamp of
    # the scale would pass no gradient from the first step on.
    head = make_head(text_file, learn_scale=True, logit_scale=100.,
                     loss_transform=None, loss_contrast=None).to(dtype)
    v = torch.eye(3, dtype=dtype)[:2]
    head.loss((v, ), samples([1, 1]))['loss_s'].backward()
    assert head.log_scale.grad.item() != 0
    # A step past the cap is projected back before the next loss (as CLIP
    # clamps after each step), which still has a gradient.
    with torch.no_grad():
        head.log_scale += 1.
    head.log_scale.grad = None
    losses = head.loss((v, ), samples([1, 1]))
    assert head.log_scale.item() == pytest.approx(math.log(100.))
    losses['loss_s'].backward()
    assert head.log_scale.grad.item() != 0
    assert head((v, ))[1, 1].item() == pytest.approx(100.)


def test_learnable_scale_above_the_cap_is_a_config_error(text_file):
    with pytest.raises(ValueError, match='model.head.logit_scale'):
        make_head(text_file, learn_scale=True, logit_scale=200.)


def test_logits_read_v_from_the_last_neck_output(text_file):
    # E2NNeck gives (n, v), as MMPretrain heads read the last output.
    head = make_head(text_file)
    n, v = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(head((n, v)), head((v, )))
    assert head.pre_logits((n, v)) is v


def test_checkpoint_keys_are_unchanged(text_file):
    assert list(make_head(text_file).state_dict()) == [
        'text_embeds', 'text_feats', 'neutral_feat', 'text_ready'
    ]
    assert list(make_head(text_file, learn_scale=True).state_dict()) == [
        'log_scale', 'text_embeds', 'text_feats', 'neutral_feat', 'text_ready'
    ]


class _Model(torch.nn.Module):

    def __init__(self, head):
        super().__init__()
        self.head = head


@pytest.mark.parametrize('loader', ['torch', 'mmengine'])
def test_loading_a_checkpoint_readies_an_uninitialised_head(
        text_file, loader):
    # The ready flag follows the loaded buffer through a public
    # load_state_dict post hook, also when the head is a submodule loaded
    # by MMEngine's own loader (the runner's load_from / resume).
    from mmengine.runner.checkpoint import load_state_dict
    state = _Model(make_head(text_file)).state_dict()
    fresh = _Model(MODELS.build(
        dict(type='KENTHead', num_classes=3, class_names=CLASSES,
             in_channels=3, logit_scale=10.,
             text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                  file=text_file))))
    with pytest.raises(RuntimeError, match='not initialised'):
        fresh.head.predict((torch.randn(1, 3), ))
    if loader == 'torch':
        fresh.load_state_dict(state)
    else:
        load_state_dict(fresh, state, strict=True)
    out = fresh.head.predict((torch.tensor([[0., 2., 0.]]), ))
    assert int(out[0].pred_label) == 1
    fresh.head.loss((torch.randn(1, 3), torch.randn(1, 3)), samples([0]))
