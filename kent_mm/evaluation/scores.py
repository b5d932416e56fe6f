"""Classification scores from labels: confusion matrix, top-1, mean class
accuracy, macro F1 and per-class numbers.

Conventions:

- Accuracies and F1 are percentages (0-100), as MMPretrain's metrics.
- Confusion matrices are ``(C, C)`` with rows = ground truth, columns =
  prediction.
- *Mean class accuracy* is the mean over the classes that have test samples
  of the per-class accuracy (recall); a class without test samples has no
  accuracy (``nan``) and does not count. *Macro F1* averages the F1 of the
  classes that have test samples or predictions (as scikit-learn does).
"""
import math
from typing import Dict, Optional, Sequence

import numpy as np


def confusion_matrix(pred: Sequence[int], target: Sequence[int],
                     num_classes: int) -> np.ndarray:
    """Count matrix of predictions against ground truth.

    Args:
        pred (Sequence[int]): Predicted labels, shape ``(N, )``.
        target (Sequence[int]): Ground-truth labels, shape ``(N, )``.
        num_classes (int): Number of classes C.

    Returns:
        np.ndarray: ``(C, C)`` int64, ``cm[t, p]`` = number of samples of
        class ``t`` predicted as ``p``.
    """
    pred = np.asarray(pred, dtype=np.int64).reshape(-1)
    target = np.asarray(target, dtype=np.int64).reshape(-1)
    if pred.shape != target.shape:
        raise ValueError(f'pred has {pred.size} labels but target has '
                         f'{target.size}')
    for name, arr in (('pred', pred), ('target', target)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f'{name} labels must lie in [0, {num_classes}), '
                             f'got range [{arr.min()}, {arr.max()}]')
    return np.bincount(target * num_classes + pred,
                       minlength=num_classes**2).reshape(
                           num_classes, num_classes)


def normalize_confusion(cm: np.ndarray) -> np.ndarray:
    """Row-normalise a confusion matrix (each true class sums to 1).

    Rows of classes without samples stay 0.

    Args:
        cm (np.ndarray): Counts ``(C, C)``.

    Returns:
        np.ndarray: ``(C, C)`` float64 fractions.
    """
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, support, out=np.zeros_like(cm), where=support > 0)


def scores_from_confusion(cm: np.ndarray,
                          class_names: Optional[Sequence[str]] = None
                          ) -> Dict:
    """Top-1, mean class accuracy, macro F1 and per-class numbers.

    Args:
        cm (np.ndarray): Counts ``(C, C)``, rows = ground truth.
        class_names (Sequence[str], optional): C names; ``class_<i>`` if
            not given.

    Returns:
        dict: ``num_samples``, ``top1``, ``mean_class_acc``, ``macro_f1``
        (percent; ``nan`` when undefined) and ``per_class``, a list of
        dicts with ``class``, ``support``, ``correct``, ``predicted``,
        ``accuracy`` (recall, ``nan`` without support), ``precision`` and
        ``f1``.
    """
    cm = np.asarray(cm, dtype=np.int64)
    num_classes = cm.shape[0]
    if class_names is None:
        class_names = [f'class_{i}' for i in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names for a '
                         f'{num_classes}-class confusion matrix')
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    total = float(cm.sum())
    with np.errstate(invalid='ignore', divide='ignore'):
        recall = np.where(support > 0, tp / support, np.nan) * 100
        precision = np.where(predicted > 0, tp / predicted, 0.) * 100
        rec0 = np.nan_to_num(recall)
        f1 = np.where(precision + rec0 > 0,
                      2 * precision * rec0 / (precision + rec0), 0.)
    present = (support > 0) | (predicted > 0)
    per_class = [
        dict(
            **{'class': str(name)},
            support=int(support[i]),
            correct=int(tp[i]),
            predicted=int(predicted[i]),
            accuracy=float(recall[i]),
            precision=float(precision[i]),
            f1=float(f1[i])) for i, name in enumerate(class_names)
    ]
    return dict(
        num_samples=int(total),
        top1=float(tp.sum() / total * 100) if total else math.nan,
        mean_class_acc=float(np.nanmean(recall))
        if (support > 0).any() else math.nan,
        macro_f1=float(f1[present].mean()) if present.any() else math.nan,
        per_class=per_class)


def classification_report(pred: Sequence[int], target: Sequence[int],
                          class_names: Sequence[str]) -> Dict:
    """:func:`scores_from_confusion` of labels; adds ``confusion``.

    Args:
        pred (Sequence[int]): Predicted labels ``(N, )``.
        target (Sequence[int]): Ground-truth labels ``(N, )``.
        class_names (Sequence[str]): The C class names in label order.

    Returns:
        dict: See :func:`scores_from_confusion`; ``confusion`` is the
        ``(C, C)`` count matrix.
    """
    cm = confusion_matrix(pred, target, len(class_names))
    report = scores_from_confusion(cm, class_names)
    report['confusion'] = cm
    return report
