import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import kent_mm  # noqa: F401
from kent_mm.evaluation.metrics import expected_calibration_error


def test_ece_hand_value_with_15_bins():
    # Bin (0.6, 0.667]: conf 0.62, 0.64 -> acc 0.5, mean conf 0.63;
    # bin (0.933, 1]: conf 0.95, 0.99 -> acc 1, mean conf 0.97.
    conf = np.array([0.62, 0.64, 0.95, 0.99])
    correct = np.array([1, 0, 1, 1])
    expected = 0.5 * abs(0.5 - 0.63) + 0.5 * abs(1. - 0.97)
    assert expected_calibration_error(conf, correct) == pytest.approx(
        expected)
    # Perfect calibration in a bin gives 0; bin edges are right-closed.
    assert expected_calibration_error(np.array([1 / 15, 1 / 15]),
                                      np.array([0, 0])) == pytest.approx(
                                          1 / 15)


def test_metric_reads_pred_score_and_reports_percent():
    metric = METRICS.build(dict(type='ExpectedCalibrationError'))
    samples = []
    for score, gt in [([0.9, 0.1], 0), ([0.8, 0.2], 1)]:
        s = DataSample().set_gt_label(gt).set_pred_score(torch.tensor(score))
        samples.append(s.to_dict())
    metric.process(None, samples)
    out = metric.evaluate(2)
    # bins: 0.9 -> correct; 0.8 -> wrong: ECE = 0.5*0.1 + 0.5*0.8 = 0.45
    assert out['calibration/ece'] == pytest.approx(45.)
    assert out['calibration/confidence'] == pytest.approx(85.)
