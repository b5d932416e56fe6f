"""AffectNet: official CSV and numpy layouts, 7/8 classes, drops counted,
malformed input reported with file and line, valence/arousal targets."""
import os
import os.path as osp
from collections import Counter

import pytest
import torch

from fer_fixtures import (AFFECTNET_HEADER, AFFECTNET_TRAIN, affectnet_line,
                          write_affectnet, write_affectnet_npy)
from kent_mm.datasets import AffectNet, AnnotationError, to_canonical

ORDER8 = ('neutral', 'happiness', 'sadness', 'surprise', 'fear', 'disgust',
          'anger', 'contempt')


def test_csv_7_classes_drop_contempt_and_codes_8_to_10_with_counts(tmp_path):
    root = write_affectnet(tmp_path)
    ds = AffectNet(root, split='train', num_classes=7)
    assert ds.metainfo['classes'] == ORDER8[:7]
    kept = [(n, c) for n, c in AFFECTNET_TRAIN if c < 7]
    assert len(ds) == len(kept)
    for i, (name, code) in enumerate(kept):
        info = ds.get_data_info(i)
        assert info['img_path'] == osp.join(root, 'Manually_Annotated_Images',
                                            name)
        assert info['gt_label'] == code and type(info['gt_label']) is int
        assert info['valence'] == pytest.approx(0.1 * code)
        assert info['arousal'] == pytest.approx(-0.05 * code)
        assert info['face_box'] == [2, 3, 10, 11]
    assert ds.num_dropped == {
        'code_10_no-face': 1,
        'code_7_contempt': 2,
        'code_8_none': 1,
        'code_9_uncertain': 1
    }


def test_csv_8_classes_keep_contempt(tmp_path):
    root = write_affectnet(tmp_path)
    ds = AffectNet(root, split='train', num_classes=8)
    assert ds.metainfo['classes'] == ORDER8
    labels = list(ds.get_gt_labels())
    assert labels.count(7) == 2
    assert ORDER8[labels[7]] == 'contempt'
    assert 'code_7_contempt' not in ds.num_dropped
    assert all(to_canonical(c) == c for c in ds.metainfo['classes'])


def test_val_and_test_read_validation_csv(tmp_path):
    root = write_affectnet(tmp_path)
    val = AffectNet(root, split='val', num_classes=8)
    test = AffectNet(root, split='test', num_classes=8)
    assert [int(x) for x in val.get_gt_labels()] == list(range(8))
    assert [i['img_path'] for i in val.load_data_list()] == \
        [i['img_path'] for i in test.load_data_list()]
    assert val.num_dropped == {'code_9_uncertain': 1}


def test_npy_layout_reads_string_arrays(tmp_path):
    root = write_affectnet_npy(tmp_path)
    ds = AffectNet(root, split='train', num_classes=7, layout='npy')
    # codes (0..8, 0): 7 (contempt) and 8 (none) dropped.
    assert [int(x) for x in ds.get_gt_labels()] == [0, 1, 2, 3, 4, 5, 6, 0]
    info = ds.get_data_info(2)
    assert info['img_path'] == osp.join(root, 'train_set', 'images', '2.jpg')
    assert info['valence'] == pytest.approx(0.2)
    assert info['arousal'] == pytest.approx(-0.2)
    assert ds.num_dropped == {'code_7_contempt': 1, 'code_8_none': 1}
    val = AffectNet(root, split='test', num_classes=8, layout='npy')
    assert len(val) == 8


def test_npy_image_without_annotation_is_an_error(tmp_path):
    root = write_affectnet_npy(tmp_path)
    os.remove(osp.join(root, 'train_set', 'annotations', '3_exp.npy'))
    with pytest.raises(AnnotationError, match='3_exp.npy') as e:
        AffectNet(root, split='train', layout='npy')
    assert e.value.file.endswith(osp.join('images', '3.jpg'))


def test_npy_non_numeric_expression_names_file(tmp_path):
    import numpy as np
    root = write_affectnet_npy(tmp_path)
    bad = osp.join(root, 'train_set', 'annotations', '4_exp.npy')
    np.save(bad, np.array('happy'))
    with pytest.raises(AnnotationError, match="expression 'happy'") as e:
        AffectNet(root, split='train', layout='npy')
    assert e.value.file == bad


@pytest.mark.parametrize('mutate,line,message', [
    (lambda ls: ls.__setitem__(2, affectnet_line('1/img002.jpg', 'happy')),
     4, "expression 'happy' is not an integer"),
    (lambda ls: ls.__setitem__(0, affectnet_line('1/img000.jpg', 11)), 2,
     'expression 11 is outside 0..10'),
    (lambda ls: ls.__setitem__(1, affectnet_line('2/img001.jpg', 1,
                                                 valence='high')), 3,
     "valence 'high' is not a number"),
    (lambda ls: ls.__setitem__(3, '1/img003.jpg,2,3,10'), 5,
     'expected 9 fields'),
])
def test_malformed_rows_name_file_and_line(tmp_path, mutate, line, message):
    lines = [affectnet_line(n, c) for n, c in AFFECTNET_TRAIN]
    mutate(lines)
    root = write_affectnet(tmp_path, train_lines=lines)
    with pytest.raises(AnnotationError, match=message) as e:
        AffectNet(root, split='train')
    assert str(e.value).startswith(
        f'{osp.join(root, "training.csv")}:{line}:')


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    header = AFFECTNET_HEADER.replace(',expression', '')
    root = write_affectnet(tmp_path, header=header)
    with pytest.raises(AnnotationError, match=r"missing column\(s\) "
                       r"\['expression'\]") as e:
        AffectNet(root, split='train')
    assert e.value.line == 1


def test_missing_image_is_an_error_or_counted_on_request(tmp_path):
    root = write_affectnet(tmp_path, skip_images=('1/img002.jpg', ))
    with pytest.raises(AnnotationError, match='img002.jpg listed here') as e:
        AffectNet(root, split='train')
    assert e.value.line == 4
    ds = AffectNet(root, split='train', skip_missing_images=True)
    assert ds.num_dropped['missing_image'] == 1
    assert len(ds) == 8


def test_bad_arguments_name_the_field(tmp_path):
    root = write_affectnet(tmp_path)
    with pytest.raises(ValueError, match="split 'validation'"):
        AffectNet(root, split='validation')
    with pytest.raises(ValueError, match='num_classes'):
        AffectNet(root, num_classes=6)
    with pytest.raises(ValueError, match='layout'):
        AffectNet(root, layout='folders')
    # Renaming classes would silently relabel the codes.
    with pytest.raises(ValueError, match='cannot be renamed'):
        AffectNet(root, classes=ORDER8[:7][::-1])


def test_class_balanced_wrapper_from_mmengine_oversamples_rare_classes(
        tmp_path):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS
    root = write_affectnet(tmp_path)
    cfg = dict(type='ClassBalancedDataset', oversample_thr=0.5,
               dataset=dict(type='AffectNet', data_root=root, split='train',
                            num_classes=7))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        balanced = DATASETS.build(cfg)
    base = Counter(int(x) for x in balanced.dataset.get_gt_labels())
    counts = Counter(balanced.get_cat_ids(i)[0] for i in range(len(balanced)))
    # 9 samples: f = 2/9 -> repeat ceil(1.5) = 2, f = 1/9 -> ceil(2.12) = 3.
    assert base == {0: 2, 1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
    assert counts == {0: 4, 1: 4, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3}
    assert balanced.metainfo['classes'] == ORDER8[:7]


def test_valence_arousal_reach_the_head(tmp_path):
    """V/A of each AffectNet row travel through PackInputs to the
    ExpressionVAHead targets."""
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS

    from fer_fixtures import AROUSAL, VALENCE, learnable_affectnet
    from kent_mm.models.heads.deepfever_heads import ExpressionVAHead
    root = learnable_affectnet(tmp_path, per_class=1, val_per_class=1)
    ds = DATASETS.build(dict(
        type='AffectNet', data_root=root,
        pipeline=[dict(type='LoadFERImage'),
                  dict(type='PackInputs',
                       algorithm_keys=('valence', 'arousal'))]))
    batch = pseudo_collate([ds[i] for i in range(len(ds))])
    targets = ExpressionVAHead.va_targets(batch['data_samples'])
    labels = [int(s.gt_label) for s in batch['data_samples']]
    expected = torch.tensor([[VALENCE[c], AROUSAL[c]] for c in labels],
                            dtype=torch.float32)
    assert torch.allclose(targets, expected, atol=1e-3)
