"""tools/demo/fer_demo.py on scikit-image's astronaut (one face) and on a
face-free gradient, with the session's tiny trained KENT ResNet-18."""
import json
import os.path as osp

import numpy as np
import pytest
from skimage import data as skimage_data

from kent_testing import RAFDB_CLASSES, run_script


@pytest.fixture
def demo_model(kent_checkpoint):
    return kent_checkpoint['config'], kent_checkpoint['checkpoint']


def _demo(inputs, demo_model, out_dir):
    """The demo in-process (its real argument parsing); its stdout."""
    cfg, ckpt = demo_model
    return run_script('demo/fer_demo.py', [inputs, cfg, '--checkpoint',
                                           ckpt, '--out-dir', out_dir])


def test_astronaut_and_gradient_folder(tmp_path, demo_model):
    import cv2
    photos = tmp_path / 'photos'
    photos.mkdir()
    astronaut = skimage_data.astronaut()  # public domain (NASA)
    cv2.imwrite(str(photos / 'astronaut.png'),
                cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None],
                       (240, 1, 3))
    cv2.imwrite(str(photos / 'gradient.png'), gradient)
    out = tmp_path / 'out'
    log = _demo(photos, demo_model, out)

    result = json.loads((out / 'astronaut.json').read_text())
    assert len(result['faces']) == 1, result
    face = result['faces'][0]
    x1, y1, x2, y2 = face['box']
    # Her face: about x 180-280, y 60-165 in the 512x512 photo.
    assert 150 < (x1 + x2) / 2 < 260 and 80 < (y1 + y2) / 2 < 150, face
    assert 60 < x2 - x1 < 160
    assert face['label'] in RAFDB_CLASSES
    assert 0 < face['score'] <= 1
    assert abs(sum(face['scores'].values()) - 1) < 1e-3
    annotated = cv2.imread(str(out / 'astronaut.png'))
    assert annotated.shape == astronaut.shape
    # The box was drawn: the annotated image differs on the box edge.
    orig = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)
    assert (annotated[y2, x1:x2] != orig[y2, x1:x2]).any()

    gradient_result = json.loads((out / 'gradient.json').read_text())
    assert gradient_result['faces'] == []
    assert 'gradient.png: no face found' in log
    assert osp.isfile(out / 'gradient.png')


def test_no_face_message_and_exit_code_zero(tmp_path, demo_model):
    import cv2
    img = tmp_path / 'plain.jpg'
    cv2.imwrite(str(img), np.full((200, 300, 3), 128, np.uint8))
    log = _demo(img, demo_model, tmp_path / 'out')
    assert 'No faces found' in log
    assert json.loads((tmp_path / 'out' / 'plain.json').read_text()
                      )['faces'] == []


def test_video_in_video_and_json_out(tmp_path, demo_model):
    import cv2
    frame = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (512, 512))
    for _ in range(3):
        writer.write(frame)
    writer.release()
    _demo(video, demo_model, tmp_path / 'out')
    result = json.loads((tmp_path / 'out' / 'clip.json').read_text())
    assert [f['frame'] for f in result['frames']] == [0, 1, 2]
    assert all(len(f['faces']) == 1 for f in result['frames'])
    cap = cv2.VideoCapture(str(tmp_path / 'out' / 'clip.mp4'))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
