"""DeepFEVER heads: expression + valence/arousal, and the FEC embedding."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..losses.triplet_loss import triplet_correct

#: Data-sample fields holding the regression targets (AffectNet samples;
#: ``PackInputs(algorithm_keys=VA_KEYS)`` carries them).
VA_KEYS = ('valence', 'arousal')


@MODELS.register_module()
class ExpressionVAHead(ClsHead):
    """Multi-task head: expression classes plus valence and arousal.

    Two linear layers on the pooled feature ``x`` ``(N, C)``: class logits
    ``(N, num_classes)`` trained with ``loss`` (cross-entropy), and
    ``tanh(W x)`` ``(N, 2)`` for (valence, arousal) in [-1, 1] trained with
    ``loss_va`` (``CCCLoss``: mean of 1 − CCC over the two)::

        L = loss_weight_ce · CE + loss_weight_va · (1 − CCC_v + 1 − CCC_a)/2

    ``forward`` returns the class logits (the ``ClsHead`` contract, so
    MMPretrain metrics and inferencers work); :meth:`forward_va` the V/A
    predictions. ``predict`` adds ``pred_valence`` / ``pred_arousal`` to
    each ``DataSample``. With ``loss_va=None`` the V/A branch is absent
    (datasets without V/A, e.g. FER2013).

    Targets come from the ``valence`` / ``arousal`` fields of the data
    samples: AffectNet keeps them per row; pack them with
    ``dict(type='PackInputs', algorithm_keys=('valence', 'arousal'))``.

    Args:
        num_classes (int): Number of expression classes.
        in_channels (int): Feature dimension C.
        loss (dict): Classification loss config.
        loss_va (dict, optional): V/A regression loss config; None removes
            the V/A branch.
        topk (int | tuple[int]): Top-k accuracy when ``cal_acc``.
        cal_acc (bool): Log training accuracy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 loss_va: Optional[dict] = dict(type='CCCLoss',
                                                loss_weight=1.0),
                 topk: Union[int, Tuple[int]] = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(loss=loss, topk=topk, cal_acc=cal_acc,
                         init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, num_classes)
        self.with_va = loss_va is not None
        if self.with_va:
            self.fc_va = nn.Linear(in_channels, len(VA_KEYS))
            self.loss_va = MODELS.build(loss_va)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last neck output ``(N, C)``."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Class logits ``(N, num_classes)``."""
        return self.fc(self.pre_logits(feats))

    def forward_va(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Valence and arousal ``(N, 2)`` in [-1, 1]."""
        if not self.with_va:
            raise RuntimeError('ExpressionVAHead built with loss_va=None has '
                               'no valence/arousal branch.')
        return torch.tanh(self.fc_va(self.pre_logits(feats)))

    @staticmethod
    def va_targets(data_samples: Sequence[DataSample]) -> torch.Tensor:
        """``(N, 2)`` float tensor of (valence, arousal) targets."""
        for key in VA_KEYS:
            if key not in data_samples[0]:
                raise KeyError(
                    f'ExpressionVAHead: data samples have no {key!r}; pack '
                    "it with dict(type='PackInputs', algorithm_keys="
                    "('valence', 'arousal')) in the train pipeline (AffectNet "
                    'samples carry it), or set model.heads.<task>.loss_va='
                    'None.')
        return torch.tensor([[float(s.get(k)) for k in VA_KEYS]
                             for s in data_samples])

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Cross-entropy and (if enabled) the V/A loss.

        Args:
            feats (tuple[Tensor]): Neck outputs, last one ``(N, C)``.
            data_samples (list[DataSample]): With ``gt_label`` (and
                ``valence``, ``arousal``).

        Returns:
            dict[str, Tensor]: ``loss_cls`` (and ``loss_va``).
        """
        cls_score = self(feats)
        # ClsHead's helpers for subclasses (MMPretrain's own heads use them;
        # the loss and predict tests of this head fail if they change).
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        losses['loss_cls'] = losses.pop('loss')
        if self.with_va:
            target = self.va_targets(data_samples).to(cls_score.device)
            losses['loss_va'] = self.loss_va(self.forward_va(feats), target)
        return losses

    def predict(self,
                feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None
                ) -> List[DataSample]:
        """Class predictions, plus ``pred_valence``/``pred_arousal``."""
        # ClsHead's helper for subclasses, as in loss().
        results = self._get_predictions(self(feats), data_samples)
        if self.with_va:
            va = self.forward_va(feats).detach()
            for sample, (v, a) in zip(results, va.tolist()):
                sample.set_field(v, 'pred_valence', field_type='data')
                sample.set_field(a, 'pred_arousal', field_type='data')
        return results


def triplet_batch(data_samples: Sequence[DataSample]
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Answers and types of a flat triplet-major batch.

    Args:
        data_samples (Sequence[DataSample]): ``3B`` samples with metainfo
            ``triplet_pos`` 0, 1, 2 repeating (``fer_triplet_collate``).

    Returns:
        tuple[Tensor]: ``answers`` ``(B,)`` (1..3) and ``types`` ``(B,)``.

    Raises:
        ValueError: If the batch is not made of whole, ordered triplets.
    """
    if len(data_samples) % 3:
        raise ValueError(f'A triplet batch needs 3B images, got '
                         f'{len(data_samples)}.')
    for i, s in enumerate(data_samples):
        if s.get('triplet_pos', None) != i % 3:
            raise ValueError(
                'Triplet batches must hold the three images of each triplet '
                'in order (collate_fn=dict(type="fer_triplet_collate")); '
                f'sample {i} has triplet_pos={s.get("triplet_pos", None)}.')
    firsts = data_samples[::3]
    answers = torch.tensor([int(s.triplet_answer) for s in firsts])
    types = torch.tensor([int(s.triplet_type) for s in firsts])
    return answers, types


@MODELS.register_module()
class FECTripletHead(BaseModule):
    """Expression-similarity embedding trained on FEC triplets.

    ``x`` ``(3B, C)`` → Linear(C, mid) → ReLU → Linear(mid, D) → L2
    normalisation: a D-dimensional embedding (16 in the FEC paper) whose
    squared distances compare expressions. Trained with
    :class:`FECTripletLoss` on flat triplet-major batches
    (``fer_triplet_collate``).

    Args:
        in_channels (int): Feature dimension C.
        mid_channels (int): Hidden width.
        embed_dims (int): Embedding dimension D.
        loss (dict): Triplet loss config (``loss_weight`` inside).
        cal_acc (bool): Log the training triplet accuracy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 512,
                 mid_channels: int = 512,
                 embed_dims: int = 16,
                 loss: dict = dict(type='FECTripletLoss', loss_weight=1.0),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, mid_channels), nn.ReLU(inplace=True),
            nn.Linear(mid_channels, embed_dims))
        self.loss_module = MODELS.build(loss)
        self.cal_acc = cal_acc

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Normalised embeddings ``(N, D)``."""
        return F.normalize(self.mlp(feats[-1]), dim=-1)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Triplet loss of a flat triplet batch.

        Args:
            feats (tuple[Tensor]): Neck outputs, last one ``(3B, C)``.
            data_samples (list[DataSample]): ``3B`` samples with triplet
                metainfo.

        Returns:
            dict[str, Tensor]: ``loss_triplet`` (and ``triplet_accuracy``).
        """
        emb = self(feats)
        answers, types = triplet_batch(data_samples)
        answers, types = answers.to(emb.device), types.to(emb.device)
        emb = emb.view(-1, 3, emb.size(-1))
        losses = dict(loss_triplet=self.loss_module(emb, answers, types))
        if self.cal_acc:
            with torch.no_grad():
                losses['triplet_accuracy'] = triplet_correct(
                    emb, answers).float().mean() * 100
        return losses

    def predict(self,
                feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None
                ) -> List[DataSample]:
        """Attach ``pred_embedding`` ``(D,)`` to each sample."""
        emb = self(feats).detach()
        if data_samples is None:
            data_samples = [None] * emb.size(0)
        out = []
        for sample, e in zip(data_samples, emb):
            sample = DataSample() if sample is None else sample
            sample.set_field(e, 'pred_embedding', field_type='data')
            out.append(sample)
        return out
