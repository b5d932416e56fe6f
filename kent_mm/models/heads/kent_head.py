"""The KENT head: classification against frozen text embeddings."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@MODELS.register_module()
class KENTHead(ClsHead):
    """Knowledge-enhanced head of KENT (Li et al., 2024).

    ``logits_ic = logit_scale · cos(v_i, t_c)`` over the fixed class text
    embeddings ``t_c``; there is no learnable classifier. Training adds the
    emotional-to-neutral loss L_t and the self-contrast loss L_c, computed
    from ``(v, n)`` given by :class:`E2NNeck`::

        L = λs·L_s + λt·L_t + λc·L_c

    (each λ is the ``loss_weight`` of its loss config).

    The text embeddings are computed once by ``text_embeddings`` in
    :meth:`init_weights` (which the runner calls before training) and kept as
    buffers: a checkpoint carries them, so loading a trained model for test
    or inference never builds a text encoder.

    Neutral rule: samples labelled with the neutral class have no
    expression direction (``t_y - t_neu = 0``); they count in L_s but are
    left out of L_t and L_c, whose means run over the non-neutral samples
    of the batch (0 when there are none). If the dataset has no neutral
    class (e.g. CK+ without neutral frames) the neutral prompt is encoded
    as an extra embedding that is used by L_t only.

    Args:
        num_classes (int): Number of classes.
        class_names (Sequence[str]): Class names in the dataset's label
            order (used for the prompts).
        text_embeddings (dict): Config of a text-embedding source, e.g.
            ``dict(type='OpenCLIPTextEmbeddings', ...)``.
        in_channels (int): Dimension D of v and of the text embeddings.
        neutral_class (str): Name of the neutral class / prompt.
        logit_scale (float): Temperature of the cosine logits (CLIP's
            exp(logit_scale) = 100, as in the official code).
        center_text (bool): Subtract the mean of the class embeddings from
            every text embedding (then re-normalise) before use. Not in the
            paper (default False). Prompts that share a template embed with
            a common component that is the same for all classes; when it
            dominates (a random text tower: pairwise cosine 0.9-0.99) L_c
            pulls every ``v`` towards it and the class directions are tiny.
            Centring removes it: +7.6 points on FER2013 ``quick`` for a
            random tower, -1.7 for MiniLM (BENCHMARKS.md, "Text anchors").
            Check a text source with
            ``tools/analysis_tools/text_anchor_stats.py``.
        loss (dict): L_s config (``loss_weight`` = λs).
        loss_transform (dict, optional): L_t config (λt); None disables.
        loss_contrast (dict, optional): L_c config (λc); None disables.
        topk (int | tuple[int]): Top-k accuracy when ``cal_acc``.
        cal_acc (bool): Log training accuracy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 class_names: Sequence[str],
                 text_embeddings: dict,
                 in_channels: int = 512,
                 neutral_class: str = 'neutral',
                 logit_scale: float = 100.,
                 center_text: bool = False,
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
        class_names = tuple(class_names)
        if num_classes != len(class_names):
            raise ValueError(
                f'KENTHead: num_classes={num_classes} but class_names has '
                f'{len(class_names)} entries {class_names} (fields '
                '`model.head.num_classes` / `model.head.class_names`).')
        self.num_classes = num_classes
        self.class_names = class_names
        self.in_channels = in_channels
        self.neutral_class = neutral_class
        self.neutral_index = (class_names.index(neutral_class)
                              if neutral_class in class_names else -1)
        self.logit_scale = float(logit_scale)
        self.center_text = bool(center_text)
        if self.center_text and num_classes < 2:
            raise ValueError('KENTHead: `model.head.center_text=True` needs '
                             f'at least 2 classes, got {num_classes}.')
        self.text_cfg = dict(text_embeddings)
        self.loss_transform = (MODELS.build(loss_transform)
                               if loss_transform is not None else None)
        self.loss_contrast = (MODELS.build(loss_contrast)
                              if loss_contrast is not None else None)
        # Filled by init_weights() or by loading a checkpoint.
        self.register_buffer('text_embeds',
                             torch.zeros(num_classes, in_channels))
        self.register_buffer('neutral_embed', torch.zeros(in_channels))
        self.register_buffer('text_ready', torch.zeros((), dtype=torch.bool))
        # Python mirror of `text_ready` once it has been seen True: reading
        # the buffer on every call would sync a GPU and stop tracing.
        self._ready = False

    # ------------------------------------------------------------------ text
    def init_weights(self) -> None:
        """Initialise as usual, then compute the class text embeddings."""
        super().init_weights()
        self.build_text_embeddings()

    @staticmethod
    def text_names(class_names: Sequence[str],
                   neutral_class: str = 'neutral') -> List[str]:
        """Names the text source encodes: the classes, then the neutral
        prompt if it is not a class (tools use this to build caches)."""
        names = list(class_names)
        if neutral_class not in names:
            names.append(neutral_class)
        return names

    @torch.no_grad()
    def build_text_embeddings(self) -> None:
        """Run the text source once and store ``t_c`` and ``t_neu``."""
        source = MODELS.build(self.text_cfg)
        names = self.text_names(self.class_names, self.neutral_class)
        embeds = source(names)
        if embeds.shape != (len(names), self.in_channels):
            raise ValueError(
                f'KENTHead: the text source gives embeddings of shape '
                f'{tuple(embeds.shape)} for {len(names)} prompts, but the '
                f'head expects ({len(names)}, {self.in_channels}): set '
                '`model.head.in_channels` and `model.neck.out_channels` to '
                'the text dimension.')
        embeds = F.normalize(embeds.float(), dim=-1)
        if self.center_text:
            # The mean over the classes only; an extra neutral prompt (no
            # neutral class) is shifted by the same vector.
            mean = embeds[:self.num_classes].mean(0, keepdim=True)
            embeds = F.normalize(embeds - mean, dim=-1)
        embeds = embeds.to(self.text_embeds)
        self.text_embeds.copy_(embeds[:self.num_classes])
        self.neutral_embed.copy_(embeds[self.neutral_index])
        self.text_ready.fill_(True)
        self._ready = True
        print_log(f'KENTHead: text embeddings ready for {names}',
                  logger='current')

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self._ready = False  # read the loaded flag on the next call
        super()._load_from_state_dict(*args, **kwargs)

    def _check_ready(self) -> None:
        if self._ready:
            return
        if not bool(self.text_ready):
            raise RuntimeError(
                'KENTHead: text embeddings are not initialised. Call '
                '`model.init_weights()` (the runner does this before '
                'training) or load a KENT checkpoint.')
        self._ready = True

    # --------------------------------------------------------------- forward
    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The expression representation v ``(N, D)`` (first neck output)."""
        return feats[0]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Cosine logits ``(N, num_classes)``."""
        self._check_ready()
        v = self.pre_logits(feats)
        # s * cos(v, t_c) = s * (v . t_c) / max(|v|, eps), as F.normalize
        # computes it, but dividing the (N, C) logits rather than the (N, D)
        # features, and with linalg.vector_norm: Tensor.norm (which
        # F.normalize calls) runs a long Python path that shows at batch 1.
        norm = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
        return (F.linear(v, self.text_embeds) / norm.clamp_min(1e-12) *
                self.logit_scale)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """L_s, L_t and L_c for a batch.

        Args:
            feats (tuple[Tensor]): ``(v, n)`` from :class:`E2NNeck`.
            data_samples (list[DataSample]): With ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_s``, ``loss_t``, ``loss_c``.
        """
        if len(feats) < 2 and (self.loss_transform or self.loss_contrast):
            raise ValueError(
                'KENTHead.loss needs (v, n) from the neck (use E2NNeck); got '
                f'{len(feats)} tensor(s).')
        if 'gt_score' in data_samples[0]:
            raise ValueError(
                'KENTHead needs hard labels: L_t and L_c are defined per '
                'expression class, so batch augments that mix labels (Mixup, '
                'CutMix: `model.train_cfg.augments`) are not supported.')
        cls_score = self(feats)
        target = torch.cat([s.gt_label for s in data_samples])
        losses = dict()
        losses['loss_s'] = self.loss_module(
            cls_score, target, avg_factor=cls_score.size(0), **kwargs)
        v, n = feats[0], feats[-1]
        text = self.text_embeds[target]
        non_neutral = target != self.neutral_index
        if self.loss_transform is not None:
            losses['loss_t'] = self.loss_transform(v, n, text,
                                                   self.neutral_embed,
                                                   non_neutral)
        if self.loss_contrast is not None:
            losses['loss_c'] = self.loss_contrast(v, n, text, non_neutral,
                                                  target)
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a
                 for k, a in zip(self.topk, acc)})
        return losses
