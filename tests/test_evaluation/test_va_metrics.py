"""ValenceArousalMetric (RMSE, CCC) against hand values."""
import math

import pytest

from kent_mm.evaluation.metrics.va_metrics import ValenceArousalMetric


def samples():
    # valence: pred 1, 2, 3 vs target 2, 4, 6; arousal: exact.
    return [
        dict(valence=t, pred_valence=p, arousal=a, pred_arousal=a)
        for p, t, a in ((1., 2., 0.5), (2., 4., -0.5), (3., 6., 0.))
    ]


def test_hand_values():
    metric = ValenceArousalMetric()
    metric.process(None, samples()[:2])
    metric.process(None, samples()[2:])  # CCC over the split, not per batch
    out = metric.compute_metrics(metric.results)
    assert out['valence_rmse'] == pytest.approx(math.sqrt((1 + 4 + 9) / 3))
    assert out['valence_ccc'] == pytest.approx(8 / 22)
    assert out['arousal_rmse'] == pytest.approx(0.0)
    assert out['arousal_ccc'] == pytest.approx(1.0)
    assert out['mean_ccc'] == pytest.approx((8 / 22 + 1) / 2)


def test_evaluate_prefix_and_missing_fields():
    metric = ValenceArousalMetric()
    metric.process(None, samples())
    out = metric.evaluate(3)
    assert set(out) == {'va/valence_rmse', 'va/valence_ccc',
                        'va/arousal_rmse', 'va/arousal_ccc', 'va/mean_ccc'}
    with pytest.raises(KeyError, match='pred_valence'):
        ValenceArousalMetric().process(None, [dict(valence=0.1)])


def test_ccc_of_constant_predictions_is_zero():
    metric = ValenceArousalMetric(keys=('valence', ))
    metric.process(None, [dict(valence=1., pred_valence=1.)] * 2)
    assert metric.compute_metrics(metric.results)['valence_ccc'] == 0.0
