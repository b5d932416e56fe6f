"""tools/benchmarks/face_detector_benchmark.py: scene composition, matching
and a small end-to-end run on face crops cut from scikit-image's astronaut
(FER2013 is not needed)."""
import json
import os.path as osp
import runpy

import numpy as np
import pytest
from skimage import data as skimage_data

from kent_testing import REPO


@pytest.fixture(scope='module')
def bench():
    return runpy.run_path(
        osp.join(REPO, 'tools', 'benchmarks', 'face_detector_benchmark.py'),
        run_name='face_detector_benchmark')


@pytest.fixture(scope='module')
def faces_root(tmp_path_factory):
    """A FER2013-like folder: 48x48 grey crops of the astronaut's face."""
    import cv2
    root = tmp_path_factory.mktemp('faces')
    grey = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(grey[60:170, 170:280], (48, 48),
                      interpolation=cv2.INTER_AREA)
    for cls, img in (('happy', face), ('neutral', face[:, ::-1])):
        (root / cls).mkdir()
        cv2.imwrite(str(root / cls / '0.jpg'), img)
    return str(root)


def test_scenes_hold_separate_faces_inside_the_picture(bench, faces_root):
    faces = bench['load_faces'](faces_root)
    backgrounds = bench['load_backgrounds']()
    rng = np.random.default_rng(0)
    for set_name in ('upright', 'small', 'tilted', 'occluded', 'empty',
                     'alone'):
        img, boxes = bench['make_scene'](rng, faces, backgrounds, set_name)
        assert img.shape == (480, 640, 3) and img.dtype == np.uint8
        if set_name == 'empty':
            assert len(boxes) == 0
            continue
        if set_name == 'alone':
            assert len(boxes) == 1 and (img[:20] == 128).all()
            continue
        assert 3 <= len(boxes) <= 5
        sides = boxes[:, 2] - boxes[:, 0]
        lo, hi = bench['SETS'][set_name][:2]
        assert ((sides >= lo) & (sides <= hi)).all(), sides
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 640).all() \
            and (boxes[:, 3] <= 480).all()
        from kent_mm.apis.face_detection import box_iou_and_cover
        iou = box_iou_and_cover(boxes, boxes)[0]
        assert (iou[~np.eye(len(boxes), dtype=bool)] == 0).all()


def test_matching_counts_duplicates_as_false_positives(bench):
    truth = np.array([[0., 0, 100, 100], [200, 0, 300, 100]])
    boxes = np.array([[5., 5, 95, 95],      # face 1
                      [0., 0, 90, 100],     # face 1 again: false positive
                      [400, 400, 450, 450],  # nothing there
                      [210, 10, 310, 110]])  # face 2
    found, false_pos = bench['match'](truth, boxes,
                                      np.array([.9, .8, .99, .7]))
    assert (found, false_pos) == (2, 2)
    assert bench['match'](truth, np.zeros((0, 4)), np.zeros(0)) == (0, 0)
    assert bench['match'](np.zeros((0, 4)), boxes[:1], np.ones(1)) == (0, 1)


def test_run_writes_recall_false_positives_and_time(bench, faces_root,
                                                    tmp_path):
    pytest.importorskip('facenet_pytorch')
    out = tmp_path / 'result.json'
    assert bench['main']([
        '--faces-root', faces_root, '--scenes', '2', '--sets', 'upright',
        'empty', '--detectors', 'mtcnn-1pass', '--out', str(out)
    ]) == 0
    result = json.loads(out.read_text())
    row = result['detectors']['mtcnn-1pass']
    assert row['upright']['faces'] >= 6
    assert row['upright']['recall'] >= 0.5, row
    assert row['empty']['faces'] == 0 and row['empty']['recall'] is None
    assert row['all']['fp_per_image'] <= 1
    assert row['all']['cpu_ms_per_image'] > 0
    table = bench['markdown'](result)
    assert table.splitlines()[2].startswith('| mtcnn-1pass | ')


def test_missing_faces_folder_names_it(bench, tmp_path):
    with pytest.raises(FileNotFoundError, match='--faces-root .*no readable'):
        bench['load_faces'](str(tmp_path))
