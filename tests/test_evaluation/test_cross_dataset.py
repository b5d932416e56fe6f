"""Cross-dataset evaluation: class intersections of the dataset configs,
dropped logits and excluded samples."""
import os.path as osp

import numpy as np
import pytest
from kent_testing import REPO

from kent_mm.datasets import class_intersection
from kent_mm.evaluation.cross_dataset import (cross_dataset_report,
                                              restrict_to_shared)


def _config_classes(name):
    """``classes`` of configs/_base_/datasets/<name>_bs64_112.py, the
    label order of the dataset as configured (CK+: the 7-class protocol)."""
    from mmengine.config import Config
    return tuple(Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'datasets', f'{name}_bs64_112.py')).classes)


def test_intersection_rafdb_to_ckplus():
    rafdb, ck = _config_classes('rafdb'), _config_classes('ckplus')
    assert len(ck) == 7 and 'contempt' in ck and 'neutral' not in ck
    inter = class_intersection(rafdb, ck)
    assert inter.shared == ('anger', 'disgust', 'fear', 'happiness',
                            'sadness', 'surprise')
    assert inter.excluded_target == ('contempt', )
    assert inter.dropped_source == ('neutral', )
    # RAF-DB codes: surprise 0, fear 1, disgust 2, happiness 3, sadness 4,
    # anger 5, neutral 6; CK+ 7: anger 0, contempt 1, disgust 2, fear 3, ...
    assert inter.source_index == (5, 2, 1, 3, 4, 0)
    assert inter.target_index == (0, 2, 3, 4, 5, 6)
    for k, name in enumerate(inter.shared):
        assert rafdb[inter.source_index[k]] == name
        assert ck[inter.target_index[k]] == name


def test_intersection_fer2013_to_ckplus():
    fer, ck = _config_classes('fer2013'), _config_classes('ckplus')
    inter = class_intersection(fer, ck)
    assert inter.shared == ('anger', 'disgust', 'fear', 'happiness',
                            'sadness', 'surprise')
    # FER2013 codes: anger 0, disgust 1, fear 2, happiness 3, sadness 4,
    # surprise 5, neutral 6.
    assert inter.source_index == (0, 1, 2, 3, 4, 5)
    assert inter.target_index == (0, 2, 3, 4, 5, 6)
    assert inter.excluded_target == ('contempt', )
    assert inter.dropped_source == ('neutral', )


def test_intersection_with_the_8_class_ckplus_keeps_neutral():
    from kent_mm.datasets import CKPlus
    inter = class_intersection(_config_classes('rafdb'),
                               CKPlus.METAINFO['classes'])
    assert 'neutral' in inter.shared and len(inter.shared) == 7
    assert inter.dropped_source == ()
    assert inter.excluded_target == ('contempt', )


def test_intersection_uses_canonical_aliases_and_target_order():
    inter = class_intersection(['Happy', 'Sad', 'Angry'],
                               ['anger', 'contempt', 'happiness'])
    assert inter.shared == ('anger', 'happiness')
    assert inter.source_index == (2, 0)
    assert inter.target_index == (0, 2)


def test_restrict_drops_logits_and_excludes_samples():
    # model classes: neutral, happiness, anger; target: anger, contempt,
    # happiness. Neutral has the largest logit everywhere: it must never
    # be chosen. The contempt sample is left out.
    source = ('neutral', 'happiness', 'anger')
    target = ('anger', 'contempt', 'happiness')
    logits = np.array([[9., 1., 2.],   # anger sample -> anger (right)
                       [9., 3., 2.],   # contempt sample -> excluded
                       [9., 2., 1.],   # happiness -> happiness (right)
                       [9., 0., 1.]])  # happiness -> anger (wrong)
    labels = np.array([0, 1, 2, 2])
    inter = class_intersection(source, target)
    pred, tgt, keep = restrict_to_shared(logits, labels, inter)
    assert keep.tolist() == [True, False, True, True]
    assert tgt.tolist() == [0, 1, 1]  # shared space: anger 0, happiness 1
    assert pred.tolist() == [0, 1, 0]
    report = cross_dataset_report(logits, labels, source, target)
    assert report['excluded_samples'] == {'contempt': 1}
    assert report['total_samples'] == 4 and report['num_samples'] == 3
    assert report['top1'] == pytest.approx(200 / 3)
    assert report['mean_class_acc'] == pytest.approx((100 + 50) / 2)


def test_no_shared_class_is_an_error():
    inter = class_intersection(['neutral'], ['contempt'])
    with pytest.raises(ValueError, match='share no class'):
        restrict_to_shared(np.zeros((1, 1)), [0], inter)


def test_logits_must_match_the_source_classes():
    with pytest.raises(ValueError, match='for logits of shape'):
        cross_dataset_report(np.zeros((2, 3)), [0, 1], ('anger', 'fear'),
                             ('anger', 'fear'))
