import os
import os.path as osp

import pytest
from PIL import Image

from kent_mm.datasets import RAFDB, AnnotationError, to_canonical

RAF_ORDER = RAFDB.METAINFO['classes']


def write_rafdb(root, lines, image_type='aligned', skip=()):
    """Official layout: EmoLabel/list_patition_label.txt + Image/<type>/."""
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    img_dir = osp.join(root, 'Image', image_type)
    os.makedirs(img_dir, exist_ok=True)
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt'),
              'w') as f:
        f.write('\n'.join(lines) + '\n')
    for line in lines:
        name = line.split()[0]
        if name in skip:
            continue
        stem = osp.splitext(name)[0]
        fname = f'{stem}_aligned.jpg' if image_type == 'aligned' else name
        Image.new('RGB', (8, 8), (120, 90, 60)).save(osp.join(img_dir, fname))
    return str(root)


LINES = ['train_00001.jpg 5', 'train_00002.jpg 1', 'test_00001.jpg 7',
         'train_00003.jpg 4', 'test_00002.jpg 6']


def test_parses_official_labels_in_official_order(tmp_path):
    root = write_rafdb(tmp_path, LINES)
    train = RAFDB(root, split='train')
    test = RAFDB(root, split='test')
    assert train.metainfo['classes'] == RAF_ORDER
    # label 5 = Sadness, 1 = Surprise, 4 = Happiness (1-based official codes)
    assert [train.get_data_info(i)['gt_label'] for i in range(3)] == [4, 0, 3]
    assert [RAF_ORDER[i] for i in train.get_gt_labels()] == [
        'sadness', 'surprise', 'happiness'
    ]
    assert [test.get_data_info(i)['gt_label'] for i in range(2)] == [6, 5]
    assert [RAF_ORDER[i] for i in test.get_gt_labels()] == ['neutral', 'anger']
    assert train.get_data_info(0)['img_path'].endswith(
        osp.join('Image', 'aligned', 'train_00001_aligned.jpg'))
    assert all(to_canonical(c) == c for c in RAF_ORDER)


def test_original_images_use_plain_names(tmp_path):
    root = write_rafdb(tmp_path, LINES, image_type='original')
    ds = RAFDB(root, split='test', image_type='original')
    assert ds.get_data_info(0)['img_path'].endswith(
        osp.join('Image', 'original', 'test_00001.jpg'))


@pytest.mark.parametrize('bad,lineno,message', [
    ('train_00004.jpg', 4, 'expected "<image name> <label>"'),
    ('train_00004.jpg 8', 4, 'outside 1..7'),
    ('train_00004.jpg 0', 4, 'outside 1..7'),
    ('train_00004.jpg five', 4, 'not an integer'),
    ('val_00004.jpg 3', 4, 'neither a train_ nor a test_'),
])
def test_malformed_line_names_file_and_line(tmp_path, bad, lineno, message):
    lines = LINES[:3] + [bad] + LINES[3:]
    root = write_rafdb(tmp_path, lines, skip=(bad.split()[0], ))
    with pytest.raises(AnnotationError, match=message) as info:
        RAFDB(root, split='train')
    ann = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    assert str(info.value).startswith(f'{ann}:{lineno}:')
    assert info.value.line == lineno


def test_missing_image_names_image_and_line(tmp_path):
    root = write_rafdb(tmp_path, LINES, skip=('train_00003.jpg', ))
    with pytest.raises(AnnotationError, match='train_00003_aligned.jpg') as e:
        RAFDB(root, split='train')
    assert e.value.line == 4


def test_unknown_split_is_rejected(tmp_path):
    root = write_rafdb(tmp_path, LINES)
    with pytest.raises(ValueError, match="split 'val'"):
        RAFDB(root, split='val')
