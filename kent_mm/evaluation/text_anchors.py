"""How well a set of fixed class text anchors can separate classes.

KENT classifies by ``scale · cos(v, t_c)`` against frozen text embeddings,
so the anchors bound what any visual feature can reach: if two prompts
embed almost in the same direction, even the best feature for one class
gives the other a logit nearly as high. These helpers measure that bound
before a single training step (``tools/analysis_tools/text_anchor_stats.py``).
"""
from typing import Any, Dict

import torch
import torch.nn.functional as F


def pairwise_cosine(embeds: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between every pair of anchors.

    Args:
        embeds (torch.Tensor): Class embeddings, shape ``(C, D)``.

    Returns:
        torch.Tensor: ``(C, C)`` cosine matrix (ones on the diagonal).
    """
    t = F.normalize(embeds.double(), dim=-1)
    return t @ t.t()


def best_case_probability(embeds: torch.Tensor,
                          scale: float,
                          steps: int = 500,
                          lr: float = 0.05) -> torch.Tensor:
    """Highest softmax probability a unit feature can give each class.

    For each class ``c`` this maximises ``softmax(scale · T v)[c]`` over unit
    vectors ``v`` (projected gradient ascent on ``log p``; the optimum lies
    in the span of the anchors, so the search runs there). ``-log`` of the
    result is the floor of the cross-entropy L_s that a perfect visual
    encoder would reach on that class.

    Args:
        embeds (torch.Tensor): Class embeddings, shape ``(C, D)``.
        scale (float): The logit scale (temperature) of the head.
        steps (int): Optimisation steps. Defaults to 500.
        lr (float): Adam learning rate. Defaults to 0.05.

    Returns:
        torch.Tensor: ``(C, )`` best-case probabilities of the true class.
    """
    t = F.normalize(embeds.double(), dim=-1)
    num_classes = t.shape[0]
    # Orthonormal basis of the anchors' span: coordinates there are exact.
    q, _ = torch.linalg.qr(t.t())  # (D, C)
    coords = t @ q  # (C, C)
    # Start from the centred anchors (optimal when anchors are symmetric).
    init = coords - coords.mean(0, keepdim=True)
    init = init + 1e-6 * torch.eye(num_classes, dtype=init.dtype)
    v = init.clone().requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    target = torch.arange(num_classes)
    for _ in range(steps):
        logits = scale * F.normalize(v, dim=-1) @ coords.t()
        loss = F.cross_entropy(logits, target, reduction='sum')
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        logits = scale * F.normalize(v, dim=-1) @ coords.t()
        return logits.softmax(-1).diagonal().float()


def anchor_report(embeds: torch.Tensor, scale: float) -> Dict[str, Any]:
    """Summary numbers of :func:`pairwise_cosine` and the L_s floor.

    Args:
        embeds (torch.Tensor): Class embeddings, shape ``(C, D)``.
        scale (float): The logit scale of the head.

    Returns:
        dict: ``cos_min``, ``cos_mean``, ``cos_max`` over distinct pairs,
        ``p_best_min`` / ``p_best_mean`` (best-case true-class probability),
        ``ls_floor`` (mean of ``-log p_best``) and ``p_best`` (the per-class
        probabilities, a list in class order).
    """
    cos = pairwise_cosine(embeds)
    off = cos[~torch.eye(cos.shape[0], dtype=torch.bool)]
    p = best_case_probability(embeds, scale).double()
    return dict(
        cos_min=off.min().item(),
        cos_mean=off.mean().item(),
        cos_max=off.max().item(),
        p_best_min=p.min().item(),
        p_best_mean=p.mean().item(),
        ls_floor=(-p.log()).mean().item(),
        p_best=p.tolist())


def feature_alignment(features: torch.Tensor, labels: torch.Tensor,
                      embeds: torch.Tensor,
                      center: bool = False) -> Dict[str, float]:
    """How trained features sit against the anchors that score them.

    The logit range a feature can use is ``scale · cos(v, t_c)``; a feature
    whose length lies mostly outside the span of the anchors has small
    cosines with all of them, whatever its class, and so flat scores.

    Args:
        features (torch.Tensor): Visual features v, shape ``(N, D)``.
        labels (torch.Tensor): Class indices, shape ``(N, )``.
        embeds (torch.Tensor): Class anchors, shape ``(C, D)``.
        center (bool): Remove the anchors' mean first (``KENTHead``'s
            ``center_text``).

    Returns:
        dict: ``cos_true_mean`` (mean cos(v, t_y)), ``cos_top_mean`` (mean
        of the highest cosine of each feature), ``span_share_mean`` (mean
        share of |v|² in the span of the anchors) and ``accuracy``
        (argmax of the cosines).
    """
    t = F.normalize(embeds.double(), dim=-1)
    if center:
        t = F.normalize(t - t.mean(0, keepdim=True), dim=-1)
    v = features.double()
    cos = F.normalize(v, dim=-1) @ t.t()
    labels = labels.long()
    # Orthonormal basis of the span (centred anchors lose one dimension).
    u, sv, _ = torch.linalg.svd(t.t(), full_matrices=False)
    basis = u[:, sv > sv[0] * 1e-8]
    share = (v @ basis).pow(2).sum(1) / v.pow(2).sum(1).clamp_min(1e-30)
    return dict(
        cos_true_mean=cos[torch.arange(len(labels)), labels].mean().item(),
        cos_top_mean=cos.max(1).values.mean().item(),
        span_share_mean=share.mean().item(),
        accuracy=(cos.argmax(1) == labels).double().mean().item())
