"""Cross-dataset evaluation: scores over the classes two datasets share.

Class lists meet through the canonical vocabulary
(:func:`kent_mm.datasets.class_intersection`).
"""
from typing import Sequence, Tuple

import numpy as np

from kent_mm.datasets.emotions import (ClassIntersection, class_intersection,
                                       to_canonical)
from .scores import classification_report


def restrict_to_shared(logits: np.ndarray, target_labels: Sequence[int],
                       inter: ClassIntersection
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions and labels over the shared classes only.

    The logits of the model's classes that the target lacks are dropped
    (the prediction is the best *shared* class), and samples whose class
    the model lacks are left out.

    Args:
        logits (np.ndarray): Model scores ``(N, C_source)``.
        target_labels (Sequence[int]): Target labels ``(N, )``.
        inter (ClassIntersection): From :func:`class_intersection`.

    Returns:
        tuple[np.ndarray]: ``pred (M, )`` and ``target (M, )`` in the
        shared label space (``0 .. len(inter.shared) - 1``) and ``keep
        (N, )``, the boolean mask of the M samples kept.
    """
    if not inter.shared:
        raise ValueError('the two datasets share no class')
    logits = np.asarray(logits)
    target_labels = np.asarray(target_labels, dtype=np.int64).reshape(-1)
    to_shared = np.full(max(max(inter.target_index),
                            int(target_labels.max(initial=0))) + 1, -1)
    to_shared[list(inter.target_index)] = np.arange(len(inter.shared))
    shared_target = to_shared[target_labels]
    keep = shared_target >= 0
    pred = logits[keep][:, list(inter.source_index)].argmax(axis=1)
    return pred, shared_target[keep], keep


def cross_dataset_report(logits: np.ndarray, labels: np.ndarray,
                         source_classes: Sequence[str],
                         target_classes: Sequence[str]) -> dict:
    """Numbers of a cross-dataset test from logits and target labels.

    Args:
        logits (np.ndarray): ``(N, C_source)`` model scores.
        labels (np.ndarray): ``(N, )`` labels in the target's order.
        source_classes (Sequence[str]): The model's classes.
        target_classes (Sequence[str]): The target's classes.

    Returns:
        dict: :func:`classification_report` over the shared classes, plus
        ``intersection`` (a ``ClassIntersection``), ``excluded_samples``
        (``{class: count}``) and ``total_samples``.

    Raises:
        ValueError: If the logits do not have one column per source class.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != len(source_classes):
        raise ValueError(f'{len(source_classes)} source classes '
                         f'{tuple(source_classes)} for logits of shape '
                         f'{logits.shape}')
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    inter = class_intersection(source_classes, target_classes)
    pred, target, keep = restrict_to_shared(logits, labels, inter)
    report = classification_report(pred, target, inter.shared)
    tgt = [to_canonical(c) for c in target_classes]
    report['excluded_samples'] = {
        c: int((labels[~keep] == tgt.index(c)).sum())
        for c in inter.excluded_target
    }
    report['total_samples'] = int(len(labels))
    report['intersection'] = inter
    return report
