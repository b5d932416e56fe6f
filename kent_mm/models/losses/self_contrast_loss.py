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
    no gradient. Means run over the samples that count (``mask``); with none
    the loss is 0 (no margin), still connected to every input.

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
        a = F.normalize(text, dim=1)
        p = F.normalize(visual, dim=1)
        q = F.normalize(neutral, dim=1)
        if mask is None:
            mask = torch.ones(a.size(0), dtype=torch.bool, device=a.device)
        # Masks act as weights (no row selection, no branch on their
        # values): no data-dependent shapes, no host synchronisation, and
        # an empty mask gives 0 with every input still in the graph.
        count = mask.sum().to(a.dtype)
        if self.mode == 'matched':
            diff = (a * q).sum(1) - (a * p).sum(1)
            loss = masked_mean(diff, mask)
        elif self.mode == 'all_pairs':
            # mean_{i,j}(a_i . q_j - a_i . p_j) over the counted samples
            # = (mean_i a_i) . (mean_j (q_j - p_j)): O(N D), not O(N^2 D).
            rows = mask.unsqueeze(1)
            zero = a.new_zeros(())
            denom = count.clamp_min(1)
            mean_a = torch.where(rows, a, zero).sum(0) / denom
            mean_d = torch.where(rows, q - p, zero).sum(0) / denom
            loss = (mean_a * mean_d).sum()
        else:
            if labels is None:
                raise ValueError('SelfContrastLoss(mode="cross_sample") '
                                 'needs `labels`.')
            sim = a @ p.t()  # anchors x all samples
            # Pairs (i counted, j of another class).
            pairs = mask.unsqueeze(1) & (labels.unsqueeze(1) !=
                                         labels.unsqueeze(0))
            neg = torch.where(pairs, sim, sim.new_zeros(())).sum() / \
                pairs.sum().clamp_min(1).to(sim.dtype)
            pos = masked_mean((a * p).sum(1), mask)
            loss = neg - pos
        # The margin only when some sample counts: an empty mask gives 0.
        margin = self.margin * (count > 0).to(loss.dtype)
        return self.loss_weight * (loss + margin)
