"""L_c: self-contrast between a sample and its own neutral transform."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .transform_loss import masked_mean


@MODELS.register_module()
class SelfContrastLoss(nn.Module):
    """Pull v toward its class text anchor, push n = F_n(v) away.

    With anchor a_i = t_{y_i}, positive p_i = v_i and negative q_i = n_i (all
    L2-normalised) and the samples that count (non-neutral):

    - ``mode='all_pairs'`` (default): the authors' code, ``mean(A Nᵀ - A Pᵀ)
      + margin`` over the whole B x B matrix (every anchor with every
      sample). Since the mean of a bilinear form is the form of the means,
      this pulls the mean of the v's towards the mean anchor and pushes the
      mean of the n's away from it.
    - ``mode='matched'``: ``mean_i(cos(a_i, q_i) - cos(a_i, p_i)) + margin``
      -- each anchor sees only its own positive and negative (the
      per-sample reading of the paper's description).
    - ``mode='cross_sample'``: ordinary contrastive learning (the paper's
      "CL" baseline of Fig. 4): the negatives of anchor i are the
      representations v_j of samples of other classes instead of n_i;
      ``mean_{i,j: y_j != y_i}(cos(a_i, p_j)) - mean_i cos(a_i, p_i) +
      margin``.

    ``margin`` (2, as in the official code) only keeps the loss >= 0; it has
    no gradient.

    Args:
        mode (str): ``'matched'``, ``'all_pairs'`` or ``'cross_sample'``.
        margin (float): Constant added to the loss.
        loss_weight (float): λc.
    """

    MODES = ('matched', 'all_pairs', 'cross_sample')

    def __init__(self,
                 mode: str = 'all_pairs',
                 margin: float = 2.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'SelfContrastLoss: unknown mode {mode!r}; '
                             f'expected one of {self.MODES}')
        self.mode = mode
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(self,
                visual: torch.Tensor,
                neutral: torch.Tensor,
                text: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            visual (Tensor): v (positives), ``(N, D)``.
            neutral (Tensor): n (negatives), ``(N, D)``.
            text (Tensor): anchors t_{y_i}, ``(N, D)``.
            mask (Tensor, optional): ``(N,)`` bool, samples that count.
            labels (Tensor, optional): ``(N,)`` class indices; required by
                ``mode='cross_sample'``.

        Returns:
            Tensor: Scalar loss.
        """
        if mask is not None and not bool(mask.any()):
            return visual.sum() * 0. + neutral.sum() * 0.
        a = F.normalize(text, dim=1)
        p = F.normalize(visual, dim=1)
        q = F.normalize(neutral, dim=1)
        if self.mode == 'matched':
            diff = (a * q).sum(1) - (a * p).sum(1)
            loss = masked_mean(diff, mask, visual)
        elif self.mode == 'all_pairs':
            if mask is not None:
                a, p, q = a[mask], p[mask], q[mask]
            loss = (a @ q.t() - a @ p.t()).mean()
        else:
            if labels is None:
                raise ValueError('SelfContrastLoss(mode="cross_sample") '
                                 'needs `labels`.')
            keep = mask if mask is not None else torch.ones_like(
                labels, dtype=torch.bool)
            sim = a[keep] @ p.t()  # anchors x all samples
            other = labels[keep].unsqueeze(1) != labels.unsqueeze(0)
            pos = (a[keep] * p[keep]).sum(1).mean()
            neg = sim[other].mean() if bool(other.any()) else sim.sum() * 0.
            loss = neg - pos
        return self.loss_weight * (loss + self.margin)
