"""Scores of the metrics and analysis tools, checked against hand counts on
a small known prediction set."""
import math

import numpy as np
import pytest

from kent_mm.evaluation.scores import (classification_report,
                                       confusion_matrix, normalize_confusion)

# A known prediction set: 3 classes, 10 samples.
#   class a: 4 samples, 3 right, 1 predicted b
#   class b: 2 samples, 1 right, 1 predicted c
#   class c: 4 samples, 2 right, 1 predicted a, 1 predicted b
TARGET = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 2, 2, 2, 0, 1]
NAMES = ('a', 'b', 'c')


def test_confusion_matrix_is_a_hand_count():
    cm = confusion_matrix(PRED, TARGET, 3)
    assert cm.tolist() == [[3, 1, 0], [0, 1, 1], [1, 1, 2]]
    norm = normalize_confusion(cm)
    np.testing.assert_allclose(norm.sum(axis=1), 1.)
    np.testing.assert_allclose(norm[2], [0.25, 0.25, 0.5])


def test_confusion_matrix_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match='labels must lie'):
        confusion_matrix([0, 3], [0, 1], 3)


def test_scores_match_a_hand_count():
    r = classification_report(PRED, TARGET, NAMES)
    assert r['num_samples'] == 10
    assert r['top1'] == pytest.approx(60.)  # 3 + 1 + 2 right of 10
    # per-class accuracy (recall): 3/4, 1/2, 2/4
    acc = [c['accuracy'] for c in r['per_class']]
    assert acc == pytest.approx([75., 50., 50.])
    assert r['mean_class_acc'] == pytest.approx((75 + 50 + 50) / 3)
    # precision: a 3/4, b 1/3, c 2/3 -> F1 = 2PR/(P+R)
    f1 = [2 * .75 * .75 / 1.5, 2 * (1 / 3) * .5 / (1 / 3 + .5),
          2 * (2 / 3) * .5 / (2 / 3 + .5)]
    assert [c['f1'] for c in r['per_class']] == pytest.approx(
        [100 * x for x in f1])
    assert r['macro_f1'] == pytest.approx(100 * sum(f1) / 3)
    assert [c['support'] for c in r['per_class']] == [4, 2, 4]
    assert [c['class'] for c in r['per_class']] == list(NAMES)


def test_scores_agree_with_mmpretrain_where_every_class_has_samples():
    import torch
    from mmpretrain.evaluation import Accuracy, SingleLabelMetric
    r = classification_report(PRED, TARGET, NAMES)
    pred, target = torch.tensor(PRED), torch.tensor(TARGET)
    top1 = float(Accuracy.calculate(pred, target))
    _, recall, f1, _ = SingleLabelMetric.calculate(
        pred, target, average='macro', num_classes=3)
    assert r['top1'] == pytest.approx(top1)
    assert r['mean_class_acc'] == pytest.approx(recall.item())
    assert r['macro_f1'] == pytest.approx(f1.item(), abs=1e-4)


def test_class_without_samples_is_nan_and_left_out_of_the_mean():
    # Class c has no test sample; one sample of a is predicted as c.
    r = classification_report([0, 2, 1], [0, 0, 1], NAMES)
    acc = [c['accuracy'] for c in r['per_class']]
    assert acc[:2] == pytest.approx([50., 100.]) and math.isnan(acc[2])
    assert r['mean_class_acc'] == pytest.approx(75.)
    # F1 averages a, b and c (c was predicted: F1 0): (2/3 + 1 + 0) / 3
    assert r['macro_f1'] == pytest.approx(100 * (2 / 3 + 1) / 3)
