"""FEC CSV parsing (majority, ties, malformed rows) and the FEC dataset on
prepared crops."""
import os.path as osp

import pytest

from fer_fixtures import FEC_TRAIN, fec_line, write_fec_crops, write_lines

from kent_mm.datasets import (TRIPLET_TYPES, AnnotationError,
                              fer_triplet_collate)
from kent_mm.datasets.fec import fec_crop_name, load_fec_csv

PIPE = [dict(type='LoadFERImage'), dict(type='PackInputs')]
U = ['http://a.example/1.jpg', 'http://b.example/2.jpg',
     'http://c.example/3.jpg']


def build(root, **kwargs):
    from mmpretrain.registry import DATASETS
    return DATASETS.build(dict(type='FEC', data_root=str(root),
                               pipeline=PIPE, **kwargs))


def test_row_fields_majority_and_votes(tmp_path):
    box = [(0.1, 0.5, 0.2, 0.6), (0.0, 1.0, 0.0, 1.0), (0.25, 0.75, 0.3, 0.9)]
    path = write_lines(str(tmp_path / 'f.csv'), None, [
        fec_line(U, [2, 2, 2, 2, 1, 3], 'TWO_CLASS_TRIPLET', boxes=box),
        fec_line(U, [3, 3, 1, 1, 3, 2], 'THREE_CLASS_TRIPLET', quote=False),
    ])
    rows = load_fec_csv(path)
    assert [r.line for r in rows] == [1, 2]
    r = rows[0]
    assert r.urls == U  # quotes removed
    assert r.boxes == box
    assert r.triplet_type == TRIPLET_TYPES.index('TWO_CLASS_TRIPLET') == 1
    assert r.annotations[0] == ('rater0', 2) and len(r.annotations) == 6
    assert r.votes == (1, 4, 1) and r.majority() == 2
    assert rows[1].votes == (2, 1, 3) and rows[1].majority() == 3


@pytest.mark.parametrize('answers,drop,lowest', [
    ([1, 1, 1, 2, 2, 2], None, 1),  # 3-3 tie
    ([3, 2, 3, 2, 1, 1], None, 1),  # 2-2-2 tie
    ([3, 3, 2, 2, 1], None, 2),  # 2-2 tie between 2 and 3, odd count
    ([3, 3, 3, 1, 1, 2], 3, 3),  # plurality without absolute majority
])
def test_tie_rule(tmp_path, answers, drop, lowest):
    path = write_lines(str(tmp_path / 'f.csv'), None,
                       [fec_line(U, answers)])
    row = load_fec_csv(path)[0]
    assert row.majority('drop') == drop
    assert row.majority('lowest') == lowest


@pytest.mark.parametrize('line,message', [
    (','.join(['u', '0.1', '0.5', '0.1', '0.5'] * 3), 'at least 18 fields'),
    (fec_line(U, [1, 1]) + ',rater9', 'pairs'),
    (fec_line(U, [1, 5]), "answer '5' is not 1, 2 or 3"),
    (fec_line(U, [1]).replace('rater0', ''), 'empty annotator id'),
    (fec_line(U, [1], ttype='FOUR_CLASS_TRIPLET'), 'unknown triplet type'),
    (fec_line(U, [1], boxes=[(0.1, 'x', 0.1, 0.5)] * 3), 'is not a number'),
    (fec_line(U, [1], boxes=[(0.1, 1.5, 0.1, 0.5)] * 3), 'outside [0, 1]'),
    (fec_line(U, [1], boxes=[(0.6, 0.5, 0.1, 0.5)] * 3), 'empty box'),
    (fec_line(['', U[1], U[2]], [1]), 'empty URL'),
])
def test_malformed_row_names_file_and_line(tmp_path, line, message):
    path = write_lines(str(tmp_path / 'bad.csv'), None,
                       [fec_line(U, [1, 1, 1]), '', line])
    with pytest.raises(AnnotationError) as info:
        load_fec_csv(path)
    assert info.value.file == path and info.value.line == 3
    assert str(info.value).startswith(f'{path}:3: ')
    assert message in str(info.value)


def test_empty_file_and_missing_file(tmp_path):
    path = write_lines(str(tmp_path / 'empty.csv'), None, [])
    with pytest.raises(AnnotationError, match='no triplets'):
        load_fec_csv(path)
    with pytest.raises(FileNotFoundError):
        load_fec_csv(str(tmp_path / 'nope.csv'))


def test_crop_name_is_stable_and_distinguishes_boxes():
    a = fec_crop_name(U[0], (0.1, 0.5, 0.2, 0.6))
    assert a == fec_crop_name(U[0], (0.1, 0.50, 0.2, 0.6000))
    assert a != fec_crop_name(U[0], (0.1, 0.5, 0.2, 0.7))
    folder, name = a.split('/')
    assert name.startswith(folder) and name.endswith('.jpg')
    assert len(name) == 24


def fixture_lines():
    other = [u.replace('example', 'example2') for u in U]
    return [
        fec_line(U, [3, 3, 3, 3, 1, 2], 'ONE_CLASS_TRIPLET'),
        fec_line(other, [1, 1, 1, 2, 2, 2], 'TWO_CLASS_TRIPLET'),  # tie
        fec_line(U[::-1], [2, 2, 2, 2, 2, 2], 'THREE_CLASS_TRIPLET'),
    ]


def test_dataset_reads_crops_and_drops_ties(tmp_path):
    write_fec_crops(tmp_path, fixture_lines())
    ds = build(tmp_path)
    assert len(ds) == 2 and ds.num_dropped == {'tie': 1}
    info = ds.get_data_info(1)
    assert info['triplet_answer'] == 2 and info['triplet_type'] == 2
    assert info['img_paths'][0] == osp.join(
        str(tmp_path), 'crops', fec_crop_name(U[2], (0.1, 0.9, 0.2, 0.8)))
    assert len(build(tmp_path, on_tie='lowest')) == 3
    items = ds[0]
    assert len(items) == 3
    batch = fer_triplet_collate([ds[0], ds[1]])
    assert len(batch['inputs']) == 6
    meta = [(s.triplet_idx, s.triplet_pos, s.triplet_answer, s.triplet_type)
            for s in batch['data_samples']]
    assert meta == [(0, 0, 3, 0), (0, 1, 3, 0), (0, 2, 3, 0),
                    (1, 0, 2, 2), (1, 1, 2, 2), (1, 2, 2, 2)]
    assert batch['inputs'][0].shape == (3, 32, 32)


def test_dataset_test_split_and_agreement_filter(tmp_path):
    write_fec_crops(tmp_path, fixture_lines(),
                    name='faceexp-comparison-data-test-public.csv')
    assert len(build(tmp_path, split='test')) == 2
    # 4/6 agreement kept at 0.6, dropped at 0.7 (6/6 always kept).
    assert len(build(tmp_path, split='val', min_agreement=0.6)) == 2
    ds = build(tmp_path, split='test', min_agreement=0.7)
    assert len(ds) == 1 and ds.num_dropped == {'low_agreement': 1, 'tie': 1}


def test_missing_crops_are_dropped_or_raise(tmp_path):
    write_fec_crops(tmp_path, fixture_lines()[:1])
    dead = ['http://dead.example/x.jpg'] + U[1:]
    with open(tmp_path / FEC_TRAIN, 'a') as f:
        f.write(fec_line(dead, [1, 1, 1]) + '\n')
    ds = build(tmp_path)
    assert len(ds) == 1 and ds.num_dropped == {'missing_image': 1}
    with pytest.raises(AnnotationError) as info:
        build(tmp_path, skip_missing_images=False)
    assert info.value.line == 2 and 'prepare_fec.py' in str(info.value)


def test_bad_arguments(tmp_path):
    write_fec_crops(tmp_path, fixture_lines())
    with pytest.raises(ValueError, match='split'):
        build(tmp_path, split='dev')
    with pytest.raises(ValueError, match='on_tie'):
        build(tmp_path, on_tie='random')
