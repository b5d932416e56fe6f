"""tools/demo/fer_demo.py and its detect -> align -> classify path
(kent_mm.apis.face_inference) on scikit-image's astronaut (one face) and on
face-free pictures, with the session's tiny trained KENT ResNet-18."""
import json
import os.path as osp

import numpy as np
import pytest
from skimage import data as skimage_data

from kent_testing import RAFDB_CLASSES, REPO, run_script


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


@pytest.mark.runtime(12)
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


# ------------------------------------------------------ model resolution
def _fer_demo():
    """The demo's module (its ``main``), not run."""
    import runpy
    return runpy.run_path(osp.join(REPO, 'tools', 'demo', 'fer_demo.py'),
                          run_name='fer_demo')


def _register_tiny_zoo_model(tmp_path, kent_checkpoint) -> str:
    """A zoo name whose weights are the tiny checkpoint (a local file, as
    shipped weights are), registered with MMPretrain's ModelHub."""
    import uuid

    from mmpretrain.apis import ModelHub
    name = f'tiny_kent_fer2013-{uuid.uuid4().hex[:8]}'
    (tmp_path / 'model-index.yml').write_text(
        f'Models:\n  - Name: {name}\n    Metadata: {{}}\n'
        f"    Weights: {kent_checkpoint['checkpoint']}\n"
        f"    Config: {kent_checkpoint['config']}\n")
    ModelHub.register_model_index(str(tmp_path / 'model-index.yml'))
    return name


def test_photo_alone_uses_the_best_shipped_model(tmp_path, monkeypatch,
                                                 kent_checkpoint):
    import cv2

    import kent_mm.apis
    name = _register_tiny_zoo_model(tmp_path, kent_checkpoint)
    asked = []
    monkeypatch.setattr(kent_mm.apis, 'best_shipped_model',
                        lambda pattern='*fer2013*': asked.append(pattern) or
                        name, raising=False)
    photo = tmp_path / 'astronaut.png'
    cv2.imwrite(str(photo),
                cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    log = run_script('demo/fer_demo.py',
                     [photo, '--out-dir', tmp_path / 'out'])
    assert asked == ['*fer2013*']
    assert f'Model: {name}' in log
    faces = json.loads((tmp_path / 'out' / 'astronaut.json').read_text()
                       )['faces']
    assert len(faces) == 1 and faces[0]['label'] in RAFDB_CLASSES
    csv_lines = (tmp_path / 'out' / 'faces.csv').read_text().splitlines()
    assert len(csv_lines) == 2 and csv_lines[1].startswith('astronaut.png')


@pytest.mark.parametrize('shipped', ['none', 'missing'])
def test_no_shipped_model_says_what_to_pass(tmp_path, monkeypatch, capsys,
                                            shipped):
    import kent_mm.apis
    if shipped == 'none':
        def none_ships(pattern='*fer2013*'):
            raise FileNotFoundError(f'No kent_mm model matching {pattern!r} '
                                    'ships its weights.')
        monkeypatch.setattr(kent_mm.apis, 'best_shipped_model', none_ships,
                            raising=False)
    else:  # a kent_mm without the function
        monkeypatch.delattr(kent_mm.apis, 'best_shipped_model',
                            raising=False)
    photo = tmp_path / 'x.png'
    photo.write_bytes(b'')
    assert _fer_demo()['main']([str(photo)]) == 2
    out = capsys.readouterr().out
    assert 'No model to run' in out and '--checkpoint FILE' in out, out
    if shipped == 'none':
        assert "No kent_mm model matching '*fer2013*'" in out


def test_config_without_checkpoint_is_refused(tmp_path, capsys,
                                              kent_checkpoint):
    main = _fer_demo()['main']
    assert main([str(tmp_path), kent_checkpoint['config']]) == 2
    assert 'needs --checkpoint FILE' in capsys.readouterr().out


# ------------------------------------------------ detect -> crop -> classify
def _astronaut_bgr():
    import cv2
    return cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)


def test_nested_boxes_of_one_face_give_one_box():
    from kent_mm.apis.face_detection import BaseFaceDetector, DetectedFace

    class Nested(BaseFaceDetector):
        """A face found whole, again as its lower half, and a second face
        beside it (a cascade's typical output)."""

        def detect_raw(self, img):
            return [
                DetectedFace(np.array([100., 100, 200, 200]), 0.8),
                DetectedFace(np.array([120., 150, 190, 205]), 0.9),
                DetectedFace(np.array([300., 100, 380, 180]), 0.7),
            ]

    faces = Nested()(np.zeros((400, 500, 3), np.uint8))
    boxes = sorted(f.box.tolist() for f in faces)
    assert len(boxes) == 2, boxes
    assert boxes[1] == [300., 100, 380, 180]


def test_label_at_the_top_right_edge_stays_inside_the_picture():
    import cv2

    from kent_mm.apis.face_inference import PALETTE, draw_faces
    img = np.full((240, 320, 3), 255, np.uint8)
    # A face touching the top and right edges: its label has no room above
    # the box nor to the right of the box's left edge.
    face = dict(box=[250, 0, 319, 70], label='happiness', label_index=0,
                score=0.97, upsampled=False)
    out = draw_faces(img, [face])
    colour = np.array(PALETTE[0])
    fill = np.all(out == colour, axis=2)
    rows, cols = np.where(fill)
    text = '#1 happiness 0.97'
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    # The whole label background is drawn: at least the text's width.
    assert cols.max() - cols.min() + 1 >= tw, (cols.min(), cols.max(), tw)
    assert rows.min() >= 0 and cols.max() <= 319
    # The text is on it: dark or light ink pixels inside the label band.
    band = out[rows.min():rows.min() + th + 4, cols.min():cols.max() + 1]
    assert (np.abs(band.astype(int) - colour).sum(axis=2) > 200).sum() > 30


@pytest.mark.runtime(9)
def test_tilted_face_is_found_and_cropped_upright():
    import cv2

    from kent_mm.apis.face_detection import build_face_detector
    from kent_mm.apis.face_inference import aligned_crop
    pytest.importorskip('facenet_pytorch')
    detector = build_face_detector('mtcnn')
    img = _astronaut_bgr()
    h, w = img.shape[:2]
    # Turn the photo 35 degrees clockwise about her face (x 225, y 115).
    m = cv2.getRotationMatrix2D((225, 115), -35, 1.)
    tilted = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    faces = detector(tilted)
    assert len(faces) == 1, faces
    assert 25 < faces[0].roll < 45, faces[0].roll  # clockwise lean
    crop = aligned_crop(tilted, faces[0].box, 0.4, faces[0].roll)
    again = detector.detect_raw(crop)  # one pass on the crop
    assert again and abs(again[0].roll) < 8, [f.roll for f in again]


def test_face_smaller_than_model_input_is_flagged(kent_checkpoint):
    from kent_mm.apis.face_detection import BaseFaceDetector, DetectedFace
    from kent_mm.apis.face_inference import (FaceExpressionInferencer,
                                             face_caption)

    class TwoFaces(BaseFaceDetector):

        def detect_raw(self, img):
            return [DetectedFace(np.array([10., 10, 30, 30]), 0.99),
                    DetectedFace(np.array([100., 100, 160, 160]), 0.98)]

    inferencer = FaceExpressionInferencer(kent_checkpoint['config'],
                                          kent_checkpoint['checkpoint'],
                                          TwoFaces())
    assert inferencer.input_size == 32  # the tiny config's input
    faces = inferencer(_astronaut_bgr())
    assert [f['upsampled'] for f in faces] == [True, False]
    assert face_caption(0, faces[0]).endswith('*')
    assert not face_caption(1, faces[1]).endswith('*')
