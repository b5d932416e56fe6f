"""The KENT head: classification against frozen text embeddings."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from kent_mm.datasets.emotions import to_canonical

#: Prompt word of the extra neutral text feature of datasets without a
#: neutral class.
NEUTRAL = 'neutral'

#: Largest logit scale of ``learn_scale=True`` (CLIP's cap).
MAX_LOGIT_SCALE = 100.


def _upcast(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32, or float64 if it is float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _sync_text_ready(module: 'KENTHead', incompatible_keys) -> None:
    """Load-state-dict post hook: the Python flag follows the loaded
    ``text_ready`` buffer (read once per load, never per call)."""
    module._text_ready = bool(module.text_ready)


def find_neutral(class_names: Sequence[str],
                 neutral_class: Optional[str] = None) -> int:
    """Index of the neutral class in ``class_names``, or -1 if none.

    Without ``neutral_class`` every class name must be an emotion of the
    canonical vocabulary (any spelling :func:`to_canonical` knows), so that a
    misspelt neutral class ('nuetral') is an error instead of an expression
    class that silently enters L_t and L_c.

    Args:
        class_names (Sequence[str]): Class names in label order.
        neutral_class (str, optional): The neutral class, named as in
            ``class_names``. Given explicitly, class names outside the
            vocabulary are allowed.

    Raises:
        ValueError: If ``neutral_class`` is not a class, or, without it, a
            class name is no known emotion.
    """
    if neutral_class is not None:
        if neutral_class not in class_names:
            raise ValueError(
                f'KENTHead: `model.head.neutral_class`={neutral_class!r} is '
                f'not in `model.head.class_names` {tuple(class_names)}.')
        return list(class_names).index(neutral_class)
    canonical = []
    for name in class_names:
        try:
            canonical.append(to_canonical(name))
        except KeyError as e:
            raise ValueError(
                f'KENTHead: class {name!r} of `model.head.class_names` is no '
                'known emotion, so KENT cannot tell whether it is the neutral '
                'class. Fix its spelling or name the neutral class with '
                f'`model.head.neutral_class`. ({e.args[0]})') from None
    return canonical.index(NEUTRAL) if NEUTRAL in canonical else -1


@MODELS.register_module()
class KENTHead(ClsHead):
    """Knowledge-enhanced head of KENT (Li et al., 2024).

    ``logits_ic = logit_scale · cos(v_i, t_c)`` over the fixed class text
    embeddings ``t_c = normalise(r_c)``, where ``r_c`` are the raw text
    features; there is no learnable classifier. Training adds the
    emotional-to-neutral loss L_t and the self-contrast loss L_c, computed
    from ``(n, v)`` given by :class:`E2NNeck` (v last, as MMPretrain heads
    read it)::

        L = λs·L_s + λt·L_t + λc·L_c

    (each λ is the ``loss_weight`` of its loss config). As in the authors'
    code, L_t compares ``v - n`` with ``normalise(r_y - r_neu)`` of the RAW
    features, while the logits and L_c use the normalised ``t_c``.

    The text features are computed once by ``text_embeddings`` in
    :meth:`init_weights` (which the runner calls before training) and kept as
    buffers: a checkpoint carries them, so loading a trained model for test
    or inference never builds a text encoder.

    Neutral rule: samples labelled with the neutral class have no
    expression direction (``r_y - r_neu = 0``); they count in L_s but are
    left out of L_t and L_c, whose means run over the non-neutral samples
    of the batch (0 when there are none). The neutral class is found
    through the canonical emotion vocabulary (see :func:`find_neutral`); if
    the dataset has none (e.g. CK+ without neutral frames) the neutral
    prompt is encoded as an extra feature that L_t uses.

    A training step has no data-dependent shape and reads nothing back to
    the host (the losses weight samples by the neutral mask instead of
    selecting them), and every parameter of the neck, F_n included, gets a
    gradient (possibly zero) in every step whatever losses are on and
    whatever the batch holds, as MMEngine's DDP wrapper
    (``find_unused_parameters=False``) needs.

    The logits and losses are computed in float32 (float64 for a float64
    model) with autocast off: cosines of fp16/bf16 features lose 2-3 digits,
    and norms of tiny fp16 features underflow to 0 (NaN in a
    normalisation).

    Args:
        num_classes (int, optional): Number of classes; None takes
            ``len(class_names)``.
        class_names (Sequence[str]): Class names in the dataset's label
            order (used for the prompts).
        text_embeddings (dict): Config of a text source, e.g.
            ``dict(type='OpenCLIPTextEmbeddings', ...)``.
        in_channels (int): Dimension D of v and of the text features.
        neutral_class (str, optional): The neutral class, named as in
            ``class_names``. Defaults to the class whose canonical name is
            'neutral'.
        logit_scale (float): Scale (inverse temperature) of the cosine
            logits (CLIP's exp(logit_scale) = 100, as in the official code).
        learn_scale (bool): Learn the scale, as CLIP does, from
            ``logit_scale`` <= 100 (parameter ``log_scale``, its log). As
            CLIP, the parameter is projected to at most log(100) before each
            training step (:meth:`loss`), so the scale never exceeds 100 and
            still learns from 100 downwards. Exclude it from weight decay
            (``paramwise_cfg=dict(custom_keys={'log_scale':
            dict(decay_mult=0.)})``). Defaults to False.
        center_text (bool): Subtract the mean of the normalised class
            embeddings from every one (then re-normalise) before the logits
            and L_c. Not in the paper (default False): it spreads nearly
            parallel anchors (a random text tower, pairwise cosines 0.9-0.99).
            L_t is unaffected (differences of raw features). Check a text
            source with ``tools/analysis_tools/text_anchor_stats.py``.
        temperature (float): Calibration temperature T of a trained model:
            outside training (``model.eval()``: validation, test, inference,
            export) the logits are divided by T, post-hoc temperature
            scaling (Guo et al., 2017) fitted on validation predictions with
            ``tools/analysis_tools/calibrate_temperature.py``. The losses
            never use it, and T > 0 does not change any prediction, only
            the scores. Defaults to 1 (none).
        loss (dict): L_s config (``loss_weight`` = λs).
        loss_transform (dict, optional): L_t config (λt); None disables.
        loss_contrast (dict, optional): L_c config (λc); None disables.
        topk (int | tuple[int]): Top-k accuracy when ``cal_acc``.
        cal_acc (bool): Log training accuracy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: Optional[int],
                 class_names: Sequence[str],
                 text_embeddings: dict,
                 in_channels: int = 512,
                 neutral_class: Optional[str] = None,
                 logit_scale: float = 100.,
                 learn_scale: bool = False,
                 center_text: bool = False,
                 temperature: float = 1.,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 loss_transform: Optional[dict] = dict(
                     type='EmotionalToNeutralLoss', loss_weight=1.0),
                 loss_contrast: Optional[dict] = dict(
                     type='SelfContrastLoss', loss_weight=1.0),
                 topk: Union[int, Tuple[int]] = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(loss=loss, topk=topk, cal_acc=cal_acc,
                         init_cfg=init_cfg)
        if not class_names:
            raise ValueError('KENTHead: `model.head.class_names` is empty; '
                             'set it to the dataset\'s classes.')
        class_names = tuple(class_names)
        if num_classes is None:
            num_classes = len(class_names)
        if num_classes != len(class_names):
            raise ValueError(
                f'KENTHead: num_classes={num_classes} but class_names has '
                f'{len(class_names)} entries {class_names} (fields '
                '`model.head.num_classes` / `model.head.class_names`).')
        if learn_scale and not 0. < logit_scale <= MAX_LOGIT_SCALE:
            raise ValueError(
                'KENTHead: `model.head.learn_scale=True` learns the scale '
                f'in (0, {MAX_LOGIT_SCALE:g}], but `model.head.logit_scale`='
                f'{logit_scale}.')
        if not temperature > 0.:
            raise ValueError('KENTHead: `model.head.temperature` must be '
                             f'positive, got {temperature}.')
        if center_text and num_classes < 2:
            raise ValueError('KENTHead: `model.head.center_text=True` needs '
                             f'at least 2 classes, got {num_classes}.')
        self.num_classes = num_classes
        self.class_names = class_names
        self.in_channels = in_channels
        self.neutral_class = neutral_class
        self.neutral_index = find_neutral(class_names, neutral_class)
        self.logit_scale = float(logit_scale)
        self.log_scale = (nn.Parameter(torch.tensor(math.log(logit_scale)))
                          if learn_scale else None)
        self.center_text = bool(center_text)
        self.temperature = float(temperature)
        self.text_cfg = dict(text_embeddings)
        self.loss_transform = (MODELS.build(loss_transform)
                               if loss_transform is not None else None)
        self.loss_contrast = (MODELS.build(loss_contrast)
                              if loss_contrast is not None else None)
        # Filled by init_weights() or by loading a checkpoint.
        # t_c, normalised (and centred if asked): logits and L_c.
        self.register_buffer('text_embeds',
                             torch.zeros(num_classes, in_channels))
        # r_c and r_neu, raw: L_t.
        self.register_buffer('text_feats',
                             torch.zeros(num_classes, in_channels))
        self.register_buffer('neutral_feat', torch.zeros(in_channels))
        self.register_buffer('text_ready', torch.zeros((), dtype=torch.bool))
        # Python mirror of `text_ready`, set when the buffers are filled
        # (build or load), so that no call reads a buffer's value.
        self._text_ready = False
        self.register_load_state_dict_post_hook(_sync_text_ready)

    # ------------------------------------------------------------------ text
    def init_weights(self) -> None:
        """Initialise as usual, then compute the class text features."""
        super().init_weights()
        self.build_text_embeddings()

    @staticmethod
    def text_names(class_names: Sequence[str],
                   neutral_class: Optional[str] = None) -> List[str]:
        """Names the text source encodes: the classes, then the neutral
        prompt if no class is neutral (tools use this to build caches)."""
        names = list(class_names)
        if find_neutral(class_names, neutral_class) < 0:
            names.append(NEUTRAL)
        return names

    @torch.no_grad()
    def build_text_embeddings(self) -> None:
        """Run the text source once and store ``r_c``, ``r_neu``, ``t_c``."""
        source = MODELS.build(self.text_cfg)
        names = self.text_names(self.class_names, self.neutral_class)
        feats = source(names)
        if feats.shape != (len(names), self.in_channels):
            raise ValueError(
                f'KENTHead: the text source gives features of shape '
                f'{tuple(feats.shape)} for {len(names)} prompts, but the '
                f'head expects ({len(names)}, {self.in_channels}): set '
                '`model.head.in_channels` and `model.neck.out_channels` to '
                'the text dimension.')
        feats = feats.float()
        embeds = F.normalize(feats[:self.num_classes], dim=-1)
        if self.center_text:
            embeds = F.normalize(embeds - embeds.mean(0, keepdim=True),
                                 dim=-1)
        self.text_embeds.copy_(embeds)
        self.text_feats.copy_(feats[:self.num_classes])
        self.neutral_feat.copy_(feats[self.neutral_index])
        self.text_ready.fill_(True)
        self._text_ready = True
        print_log(f'KENTHead: text features ready for {names}',
                  logger='current')

    def _check_text(self) -> None:
        if not self._text_ready:
            raise RuntimeError(
                'KENTHead: text features are not initialised. Call '
                '`model.init_weights()` (the runner does this before '
                'training) or load a KENT checkpoint.')

    # --------------------------------------------------------------- forward
    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The expression representation v ``(N, D)``: the last neck
        output, as for every MMPretrain head."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Cosine logits ``(N, num_classes)``, float32; divided by
        ``temperature`` outside training."""
        logits = self.cosine_logits(feats)
        if not self.training and self.temperature != 1.:
            logits = logits / self.temperature
        return logits

    def cosine_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``scale · cos(v, t_c)`` ``(N, num_classes)``, float32, without
        the calibration temperature (what the losses use)."""
        v = self.pre_logits(feats)
        with torch.autocast(v.device.type, enabled=False):
            v = _upcast(v)
            # s * cos(v, t_c) = s * (v . t_c) / max(|v|, eps): the (N, C)
            # logits are divided, not the (N, D) features.
            norm = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
            if self.log_scale is None:
                scale = self.logit_scale
            else:
                # min(log_scale, log 100) in the parameter's dtype (as the
                # projection in loss()), written so that the gradient still
                # flows AT the cap (clamp passes none there): the scale
                # learns from 100.
                log_scale = self.log_scale
                log_scale = log_scale - (
                    log_scale - math.log(MAX_LOGIT_SCALE)).clamp(min=0.)
                scale = log_scale.to(v.dtype).exp()
            return (F.linear(v, self.text_embeds.to(v.dtype)) /
                    norm.clamp_min(1e-12) * scale)

    def predict(self,
                feats: Tuple[torch.Tensor],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """As :meth:`ClsHead.predict`, refusing empty text buffers."""
        self._check_text()
        return super().predict(feats, data_samples)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """L_s, L_t and L_c for a batch.

        No value is read back to the host and no shape depends on the
        labels: the neutral rule weights samples by a mask.

        Args:
            feats (tuple[Tensor]): ``(n, v)`` from :class:`E2NNeck`, each
                ``(N, D)`` (or ``(v,)`` with L_t and L_c off).
            data_samples (list[DataSample]): With ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_s``, ``loss_t``, ``loss_c``.
        """
        self._check_text()
        if len(feats) < 2 and (self.loss_transform or self.loss_contrast):
            raise ValueError(
                'KENTHead.loss needs (n, v) from the neck (E2NNeck with '
                '`model.neck.neutral_channels` set), or set '
                '`model.head.loss_transform=None` and '
                '`model.head.loss_contrast=None`; got '
                f'{len(feats)} tensor(s).')
        if 'gt_score' in data_samples[0]:
            raise ValueError(
                'KENTHead needs hard labels: L_t and L_c are defined per '
                'expression class, so batch augments that mix labels (Mixup, '
                'CutMix: `model.train_cfg.augments`) are not supported.')
        if self.log_scale is not None:
            # CLIP's projection (it clamps after each optimiser step): the
            # parameter re-enters [.., log 100] before it is used, so a
            # step past the cap never leaves it without a gradient.
            with torch.no_grad():
                self.log_scale.clamp_(max=math.log(MAX_LOGIT_SCALE))
        cls_score = self.cosine_logits(feats)
        target = torch.cat([s.gt_label for s in data_samples])
        losses = dict()
        with torch.autocast(cls_score.device.type, enabled=False):
            loss_s = self.loss_module(
                cls_score, target, avg_factor=cls_score.size(0), **kwargs)
            v = _upcast(feats[-1])
            if len(feats) > 1:
                n = _upcast(feats[0])
                # F_n gets a (zero) gradient even when no loss reads n
                # (L_t and L_c off, or the cross-sample L_c): MMEngine's DDP
                # wrapper does not look for unused parameters.
                loss_s = loss_s + n.sum() * 0.
            losses['loss_s'] = loss_s
            non_neutral = target != self.neutral_index
            if self.loss_transform is not None:
                losses['loss_t'] = self.loss_transform(
                    v, n, self.text_feats.index_select(0, target).to(v.dtype),
                    self.neutral_feat.to(v.dtype), non_neutral)
            if self.loss_contrast is not None:
                losses['loss_c'] = self.loss_contrast(
                    v, n,
                    self.text_embeds.index_select(0, target).to(v.dtype),
                    non_neutral, target)
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a
                 for k, a in zip(self.topk, acc)})
        return losses
