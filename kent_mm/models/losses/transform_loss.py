"""L_t: the emotional-to-neutral transformation loss."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def masked_mean(values: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean of ``values`` ``(N,)`` over the samples of ``mask``; 0 if the
    mask is empty.

    The mask is used as 0/1 weights, not to select rows: no shape depends on
    the data and nothing reads a value back to the host (no synchronisation
    on GPUs), and every input stays in the graph with a gradient, zero where
    masked out (no unused parameters under DDP, also for an empty mask).

    Args:
        values (Tensor): Per-sample values ``(N,)``.
        mask (Tensor, optional): ``(N,)`` bool, the samples that count; None
            counts all.

    Returns:
        Tensor: Scalar mean.
    """
    if mask is None:
        return values.mean()
    # where, not a product: a non-finite value of a masked-out sample stays
    # out of the sum.
    total = torch.where(mask, values, values.new_zeros(())).sum()
    return total / mask.sum().clamp_min(1).to(values.dtype)


@MODELS.register_module()
class EmotionalToNeutralLoss(nn.Module):
    """L_t = mean_i (1 - cos(v_i - n_i, r_{y_i} - r_neu)).

    The visual change from the neutral representation ``n`` to the expression
    representation ``v`` should point the way the text changes from the
    neutral prompt to the expression prompt. As in the authors' code, the
    text direction is the difference of the RAW (unnormalised) text features
    ``r``, normalised afterwards; ``normalise(t_y - t_neu)`` of normalised
    features points elsewhere whenever the prompts' norms differ.

    Neutral rule: for a neutral-labelled sample ``r_y - r_neu = 0`` has no
    direction, so such samples are excluded (``mask`` False) and the mean is
    over the remaining samples; a batch without any gives 0, still connected
    to ``visual`` and ``neutral`` (see :func:`masked_mean`).

    Args:
        loss_weight (float): λt.
        eps (float): Numerical floor of the cosine norms.
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1e-8) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self,
                visual: torch.Tensor,
                neutral: torch.Tensor,
                text: torch.Tensor,
                text_neutral: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            visual (Tensor): v, ``(N, D)``.
            neutral (Tensor): n = F_n(v), ``(N, D)``.
            text (Tensor): raw text features r_{y_i} per sample, ``(N, D)``.
            text_neutral (Tensor): raw neutral text feature r_neu, ``(D,)``.
            mask (Tensor, optional): ``(N,)`` bool, samples that count.

        Returns:
            Tensor: Scalar loss.
        """
        delta_v = visual - neutral
        delta_t = text - text_neutral.unsqueeze(0)
        cos = F.cosine_similarity(delta_v, delta_t, dim=1, eps=self.eps)
        return self.loss_weight * masked_mean(1. - cos, mask)
