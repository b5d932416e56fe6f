"""The FEC triplet loss with type-dependent margins."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from kent_mm.datasets.fec import TRIPLET_TYPES
#: Margins of the FEC paper (Vemulapalli & Agarwala, 2019).
FEC_MARGINS = dict(ONE_CLASS_TRIPLET=0.1, TWO_CLASS_TRIPLET=0.2,
                   THREE_CLASS_TRIPLET=0.2)


def order_by_answer(embeds: torch.Tensor,
                    answers: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Reorder triplets so that the odd one (the answer) comes last.

    Args:
        embeds (Tensor): ``(B, 3, D)`` embeddings of images 1, 2, 3.
        answers (Tensor): ``(B,)`` long, 1, 2 or 3: the image most
            different in expression.

    Returns:
        tuple[Tensor]: ``(e1, e2, e3)``, each ``(B, D)``; ``e1, e2`` are the
        similar pair in their original order, ``e3`` the odd one.
    """
    # Source image of each position (pair, pair, odd): answer 1 -> images
    # (2, 3, 1), answer 2 -> (1, 3, 2), answer 3 -> (1, 2, 3).
    odd = answers.long() - 1
    order = torch.stack([(odd == 0).long(), 2 - (odd == 2).long(), odd], 1)
    # Selected by 0/1 weights, not gathered: the backward of gather is a
    # scatter-add, nondeterministic on CUDA. x + 0 + 0 is x exactly.
    select = order.unsqueeze(-1) == torch.arange(3, device=embeds.device)
    ordered = (select.unsqueeze(-1).to(embeds.dtype) *
               embeds.unsqueeze(1)).sum(2)
    return ordered[:, 0], ordered[:, 1], ordered[:, 2]


def triplet_distances(embeds: torch.Tensor, answers: torch.Tensor,
                      normalize: bool = True) -> Tuple[torch.Tensor, ...]:
    """Squared L2 distances ``(d12, d13, d23)`` after :func:`order_by_answer`.

    Args:
        embeds (Tensor): ``(B, 3, D)``.
        answers (Tensor): ``(B,)`` with values 1, 2, 3.
        normalize (bool): L2-normalise the embeddings first.

    Returns:
        tuple[Tensor]: Three ``(B,)`` tensors; ``d12`` is the similar pair.
    """
    if normalize:
        embeds = F.normalize(embeds, dim=-1)
    e1, e2, e3 = order_by_answer(embeds, answers)
    return (((e1 - e2)**2).sum(-1), ((e1 - e3)**2).sum(-1),
            ((e2 - e3)**2).sum(-1))


@MODELS.register_module()
class FECTripletLoss(nn.Module):
    """Triplet loss for expression similarity (FEC paper).

    With ``e3`` the image the annotators chose as most different and
    ``L_ij`` the squared L2 distance of the (normalised) embeddings::

        l = relu(δ + L12 − L13) + relu(δ + L12 − L23)

    ``δ`` depends on the triplet type: 0.1 for ``ONE_CLASS_TRIPLET``, 0.2 for
    ``TWO_CLASS_TRIPLET`` and ``THREE_CLASS_TRIPLET`` by default. The loss is
    the mean over triplets, times ``loss_weight``.

    Args:
        margins (dict[str, float]): Margin per triplet type name.
        normalize (bool): L2-normalise embeddings (the FEC embedding lives
            on the unit sphere).
        loss_weight (float): Weight of the loss.
    """

    def __init__(self,
                 margins: Dict[str, float] = FEC_MARGINS,
                 normalize: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        unknown = set(margins) - set(TRIPLET_TYPES)
        missing = set(TRIPLET_TYPES) - set(margins)
        if unknown or missing:
            raise ValueError(
                f'FECTripletLoss margins need exactly the keys '
                f'{TRIPLET_TYPES}; unknown {sorted(unknown)}, missing '
                f'{sorted(missing)} (field `margins`).')
        self.margins = dict(margins)
        self.register_buffer(
            'margin_table',
            torch.tensor([float(margins[t]) for t in TRIPLET_TYPES]),
            persistent=False)
        self.normalize = normalize
        self.loss_weight = loss_weight

    def forward(self,
                embeds: torch.Tensor,
                answers: torch.Tensor,
                triplet_types: torch.Tensor,
                avg_factor: Optional[float] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            embeds (Tensor): ``(B, 3, D)`` embeddings of the three images.
            answers (Tensor): ``(B,)`` majority answers 1, 2, 3.
            triplet_types (Tensor): ``(B,)`` type codes 0, 1, 2 (index into
                ``TRIPLET_TYPES``).
            avg_factor (float, optional): Divisor instead of ``B``.

        Returns:
            Tensor: Scalar loss.
        """
        d12, d13, d23 = triplet_distances(embeds, answers, self.normalize)
        margin = self.margin_table.to(embeds)[triplet_types.long()]
        per_triplet = F.relu(margin + d12 - d13) + F.relu(margin + d12 - d23)
        denom = avg_factor if avg_factor is not None else max(
            per_triplet.numel(), 1)
        return self.loss_weight * per_triplet.sum() / denom

    def extra_repr(self) -> str:
        return f'margins={self.margins}, normalize={self.normalize}'


def triplet_correct(embeds: torch.Tensor, answers: torch.Tensor,
                    normalize: bool = True) -> torch.Tensor:
    """Whether the embedding agrees with the majority: ``L12 < L13`` and
    ``L12 < L23`` (strict; ties count as wrong).

    Args:
        embeds (Tensor): ``(B, 3, D)``.
        answers (Tensor): ``(B,)`` with values 1, 2, 3.
        normalize (bool): L2-normalise first.

    Returns:
        Tensor: ``(B,)`` bool.
    """
    d12, d13, d23 = triplet_distances(embeds, answers, normalize)
    return (d12 < d13) & (d12 < d23)
