"""The ClassAccuracy metric and the evaluators every config carries."""
import glob
import math
import os.path as osp

import pytest
import torch

from kent_testing import REPO, cached_config


def _samples(preds, targets, num_classes=3):
    from mmpretrain.structures import DataSample
    return [
        DataSample().set_gt_label(t).set_pred_label(p).set_pred_score(
            torch.eye(num_classes)[p]).to_dict()
        for p, t in zip(preds, targets)
    ]


def _evaluate(preds, targets, classes, metrics):
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope

    import kent_mm  # noqa: F401
    init_default_scope('mmpretrain')
    evaluator = Evaluator(metrics)
    evaluator.dataset_meta = dict(classes=classes)
    # Two batches, as a dataloader would give them.
    samples = _samples(preds, targets, len(classes))
    evaluator.process(samples[:4])
    evaluator.process(samples[4:])
    return evaluator.evaluate(len(samples))


def test_class_accuracy_keys_are_class_names_with_hand_counted_values():
    # surprise: 3/4 right, fear: 1/2, anger: 2/4 (see test_analysis.py)
    targets = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    preds = [0, 0, 0, 1, 1, 2, 2, 2, 0, 1]
    res = _evaluate(preds, targets, ('surprise', 'fear', 'anger'),
                    [dict(type='ClassAccuracy')])
    assert set(res) == {'class_acc/mean', 'class_acc/surprise',
                        'class_acc/fear', 'class_acc/anger'}
    assert res['class_acc/surprise'] == pytest.approx(75.)
    assert res['class_acc/fear'] == pytest.approx(50.)
    assert res['class_acc/anger'] == pytest.approx(50.)
    assert res['class_acc/mean'] == pytest.approx(175 / 3)


def test_mean_class_accuracy_ignores_classes_without_test_samples():
    # No 'anger' sample in the test set. MMPretrain's macro recall counts
    # it as 0; the mean class accuracy leaves it out.
    res = _evaluate([0, 0, 1, 2], [0, 1, 1, 1], ('surprise', 'fear', 'anger'),
                    [dict(type='ClassAccuracy'),
                     dict(type='SingleLabelMetric', items=('recall', ),
                          average='macro')])
    assert res['class_acc/surprise'] == pytest.approx(100.)
    assert res['class_acc/fear'] == pytest.approx(100 / 3)
    assert math.isnan(res['class_acc/anger'])
    assert res['class_acc/mean'] == pytest.approx((100 + 100 / 3) / 2)
    assert res['single-label/recall'] == pytest.approx((100 + 100 / 3) / 3)


def test_class_accuracy_without_class_names():
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope

    import kent_mm  # noqa: F401
    init_default_scope('mmpretrain')
    evaluator = Evaluator([dict(type='ClassAccuracy', num_classes=3)])
    evaluator.process(_samples([0, 1], [0, 0]))
    res = evaluator.evaluate(2)
    assert res['class_acc/class_0'] == pytest.approx(50.)
    assert math.isnan(res['class_acc/class_2'])


CONFIGS = sorted(
    osp.basename(p)
    for p in glob.glob(osp.join(REPO, 'configs', '*.py'))
    if osp.basename(p).startswith(('kent_', 'baseline_')))


@pytest.mark.parametrize('name', CONFIGS)
def test_every_config_evaluates_top1_mean_class_acc_per_class_and_f1(name):
    cfg = cached_config(osp.join(REPO, 'configs', name))
    for field in ('val_evaluator', 'test_evaluator'):
        metrics = cfg[field]
        types = [m['type'] for m in metrics]
        assert 'Accuracy' in types and 'ClassAccuracy' in types
        single = [m for m in metrics if m['type'] == 'SingleLabelMetric']
        assert single and single[0]['average'] == 'macro'
        assert {'recall', 'f1-score'} <= set(single[0]['items'])
        top = [m for m in metrics if m['type'] == 'Accuracy'][0]
        assert 1 in tuple(top['topk'])
