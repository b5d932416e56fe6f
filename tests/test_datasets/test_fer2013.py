"""FER2013: original fer2013.csv and the folder layout, malformed input
reported with file and line; the real data set where it is present
(``data/fer2013`` or the archive named by ``KENT_FER2013_TAR``)."""
import os
import os.path as osp
import shutil
import subprocess
import tarfile
from collections import Counter

import numpy as np
import pytest

from fer_fixtures import (FER2013_ROWS, fer2013_pixels, write_fer2013_csv,
                          write_fer2013_folders)
from kent_mm.datasets import FER2013, AnnotationError, LoadFERImage
from kent_testing import REPO

ORDER = ('anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise',
         'neutral')


def test_csv_pixels_become_48x48_uint8_images(tmp_path):
    root = write_fer2013_csv(tmp_path)
    ds = FER2013(root, split='train', layout='csv')
    assert ds.metainfo['classes'] == ORDER
    train_rows = [(i, c) for i, (c, u) in enumerate(FER2013_ROWS)
                  if u == 'Training']
    assert [int(x) for x in ds.get_gt_labels()] == [c for _, c in train_rows]
    info = ds.get_data_info(1)
    assert type(info['gt_label']) is int
    assert info['img'].dtype == np.uint8 and info['img'].shape == (48, 48)
    expected = np.array(fer2013_pixels(train_rows[1][0]).split(),
                        dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(info['img'], expected)
    # Row-major 48x48: the second value is pixel (0, 1).
    assert info['img'][0, 1] == expected.reshape(-1)[1]
    out = LoadFERImage()(dict(info))
    assert out['img'].shape == (48, 48, 3)
    assert [int(x) for x in FER2013(root, split='val',
                                    layout='csv').get_gt_labels()] == [2, 5]
    assert len(FER2013(root, split='test', layout='csv')) == 2


def test_folder_layout_maps_folder_names_to_canonical_classes(tmp_path):
    root = write_fer2013_folders(tmp_path)
    ds = FER2013(root, split='train')
    assert len(ds) == 14
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        folder = osp.basename(osp.dirname(info['img_path']))
        canonical = {'angry': 'anger', 'happy': 'happiness',
                     'sad': 'sadness'}.get(folder, folder)
        assert ORDER[info['gt_label']] == canonical
    val = FER2013(root, split='val')
    assert all('validation' in val.get_data_info(i)['img_path']
               for i in range(len(val)))
    assert len(val) == 7 and len(FER2013(root, split='test')) == 7


def test_folder_layout_counts_non_image_files_and_rejects_unknown_class(
        tmp_path):
    root = write_fer2013_folders(tmp_path)
    with open(osp.join(root, 'train', 'happy', 'notes.txt'), 'w') as f:
        f.write('not an image')
    open(osp.join(root, 'train', 'happy', '.DS_Store'), 'w').close()
    ds = FER2013(root, split='train')
    assert len(ds) == 14 and ds.num_dropped == {'non_image_file': 1}
    os.makedirs(osp.join(root, 'train', 'contempt'))
    with pytest.raises(AnnotationError, match=r"unknown class folder\(s\) "
                       r"\['contempt'\]"):
        FER2013(root, split='train')


@pytest.mark.parametrize('line,message', [
    ('7,{pixels},Training', 'emotion 7 is outside 0..6'),
    ('x,{pixels},Training', "emotion 'x' is not an integer"),
    ('3,{short},Training', 'expected 2304 pixel values'),
    ('3,{word},Training', "pixel value 'abc' is not an integer"),
    ('3,{big},Training', 'must lie in 0..255'),
    ('3,{pixels},Validation', "Usage 'Validation'"),
])
def test_malformed_rows_name_file_and_line(tmp_path, line, message):
    pixels = fer2013_pixels(0)
    values = dict(pixels=pixels, short=fer2013_pixels(0, 2303),
                  word=pixels.replace(pixels.split()[5], 'abc', 1),
                  big=pixels.rsplit(' ', 1)[0] + ' 256')
    lines = [f'{c},{fer2013_pixels(i)},{u}'
             for i, (c, u) in enumerate(FER2013_ROWS)]
    lines.insert(2, line.format(**values))
    root = write_fer2013_csv(tmp_path, lines=lines)
    with pytest.raises(AnnotationError, match=message) as e:
        FER2013(root, split='train', layout='csv')
    assert str(e.value).startswith(f'{osp.join(root, "fer2013.csv")}:4:')


def test_missing_column_is_reported(tmp_path):
    root = write_fer2013_csv(tmp_path, header='emotion,pixels',
                             lines=['0,1 2 3'])
    with pytest.raises(AnnotationError, match=r"missing column.*'Usage'") \
            as e:
        FER2013(root, layout='csv')
    assert e.value.line == 1


def test_bad_arguments_name_the_field(tmp_path):
    root = write_fer2013_folders(tmp_path)
    with pytest.raises(ValueError, match="split 'validation'"):
        FER2013(root, split='validation')
    with pytest.raises(ValueError, match='layout'):
        FER2013(root, layout='folders')


# ------------------------------------------------------------- real data
def _find_archive():
    path = os.environ.get('KENT_FER2013_TAR')
    return path if path and osp.isfile(path) else None


@pytest.fixture(scope='module')
def real_fer2013(tmp_path_factory):
    local = osp.join(REPO, 'data', 'fer2013')
    if osp.isdir(osp.join(local, 'train')):
        return local
    archive = _find_archive()
    if archive is None:
        pytest.skip('FER2013 archive not found (set KENT_FER2013_TAR)')
    out = tmp_path_factory.mktemp('fer2013_real')
    if shutil.which('tar'):  # ~4x faster than tarfile on 35k small files
        subprocess.run(['tar', '-xzf', archive, '-C', str(out)], check=True)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(out, filter='data')
    return str(out / 'fer2013')


def test_real_fer2013_split_sizes_and_train_class_counts(real_fer2013):
    sizes = {s: len(FER2013(real_fer2013, split=s))
             for s in ('train', 'val', 'test')}
    assert sizes == {'train': 28709, 'val': 3589, 'test': 3589}
    train = FER2013(real_fer2013, split='train')
    counts = Counter(ORDER[int(x)] for x in train.get_gt_labels())
    assert counts == {
        'anger': 3995, 'disgust': 436, 'fear': 4097, 'happiness': 7215,
        'neutral': 4965, 'sadness': 4830, 'surprise': 3171
    }
    assert train.num_dropped == {}
