"""tools/demo/web_demo.py through Flask's test client (no browser): the
upload form, results (boxes, probability bars, CSV) and every kind of bad
upload, with the session's tiny trained KENT ResNet-18."""
import base64
import html
import io
import logging
import os.path as osp
import runpy
import time

import numpy as np
import pytest
from skimage import data as skimage_data

from kent_testing import RAFDB_CLASSES, REPO

flask = pytest.importorskip('flask', reason='the web demo needs Flask '
                            '(pip install "kent_mm[demo]")')


@pytest.fixture(scope='module')
def web_demo():
    """The module's namespace (Demo, create_app, main, ...)."""
    return runpy.run_path(osp.join(REPO, 'tools', 'demo', 'web_demo.py'),
                          run_name='web_demo')


@pytest.fixture(scope='module')
def demo(web_demo, kent_checkpoint):
    return web_demo['Demo'](
        {'tiny': (kent_checkpoint['config'], kent_checkpoint['checkpoint'])},
        'tiny', max_pixels=20e6, max_video_frames=3)


@pytest.fixture
def client(web_demo, demo):
    return web_demo['create_app'](demo, max_upload_mb=8).test_client()


def _png(img_rgb) -> bytes:
    import cv2
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(img_rgb[..., ::-1]))
    return buf.tobytes()


def _post(client, files, model='tiny'):
    data = {'model': model,
            'files': [(io.BytesIO(b), name) for name, b in files]}
    return client.post('/', data=data, content_type='multipart/form-data')


def _data_uri(html: str, start: str) -> bytes:
    i = html.index(start) + len(start)
    return base64.b64decode(html[i:html.index('"', i)])


def test_form_lists_the_models(client):
    page = client.get('/').get_data(as_text=True)
    assert '<input id="files" type="file" name="files" multiple' in page
    assert '<option value="tiny" selected>tiny</option>' in page
    assert 'Use the webcam' in page


@pytest.mark.runtime(10)
def test_photos_give_boxed_faces_probability_bars_and_csv(client):
    import cv2
    astronaut = skimage_data.astronaut()
    res = _post(client, [('astronaut.png', _png(astronaut)),
                         ('mirror.png', _png(astronaut[:, ::-1]))])
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert page.count('class="item"') == 2
    assert page.count('class="card"') == 2  # one face in each photo
    # One bar per class per face, the predicted class highlighted.
    assert page.count('class="bar') == 2 * len(RAFDB_CLASSES)
    assert page.count('class="bar top"') == 2
    # The picture shown has the face boxed (differs from the upload).
    shown = cv2.imdecode(
        np.frombuffer(_data_uri(page, 'src="data:image/jpeg;base64,'),
                      np.uint8), cv2.IMREAD_COLOR)
    assert shown.shape == astronaut.shape
    diff = np.abs(shown.astype(int) - astronaut[..., ::-1]).sum(axis=2)
    assert (diff > 150).sum() > 300
    # The CSV: a header and one line per face, every class's probability.
    csv = _data_uri(page, 'href="data:text/csv;base64,').decode()
    lines = csv.strip().splitlines()
    header = lines[0].split(',')
    assert header[:3] == ['source', 'frame', 'face']
    assert header[-len(RAFDB_CLASSES):] == [f'p_{c}' for c in RAFDB_CLASSES]
    assert [line.split(',')[0] for line in lines[1:]] == [
        'astronaut.png', 'mirror.png'
    ]
    probs = [float(v) for v in lines[1].split(',')[-len(RAFDB_CLASSES):]]
    assert abs(sum(probs) - 1) < 1e-2
    assert 'download="faces.csv"' in page


@pytest.mark.runtime(16)
def test_video_frames_are_classified(client, tmp_path):
    import cv2
    frame = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (512, 512))
    for _ in range(5):
        writer.write(frame)
    writer.release()
    with open(video, 'rb') as f:
        page = _post(client, [('clip.avi', f.read())]).get_data(as_text=True)
    # max_video_frames=3: the first, middle and last frames.
    for index in (0, 2, 4):
        assert f'clip.avi · frame {index}' in page
    assert page.count('class="card"') == 3


# ------------------------------------------------------------ bad uploads
def _big_png() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new('L', (10000, 10000), 128).save(buf, 'PNG')
    return buf.getvalue()


BAD = {
    'not an image': ('notes.jpg', lambda: b'these are words, not pixels',
                     'notes.jpg is not a picture that can be read'),
    'empty file': ('empty.png', lambda: b'', 'empty.png is empty (0 bytes)'),
    '10000 x 10000': ('huge.png', _big_png,
                      'huge.png is 10000 x 10000 pixels (100 MP): over the '
                      '20 megapixel limit'),
    'no face': ('wall.png',
                lambda: _png(np.full((240, 320, 3), 128, np.uint8)),
                'No face found: nothing to classify'),
    'empty video': ('clip.mp4', lambda: b'', 'clip.mp4 is empty (0 bytes)'),
    'not a video': ('clip.mp4', lambda: b'\x00' * 2048,
                    'clip.mp4: the video cannot be opened'),
}


@pytest.mark.parametrize('case', list(BAD))
def test_bad_upload_gives_a_message_and_a_log_line(client, caplog, case):
    name, make, message = BAD[case]
    caplog.set_level(logging.INFO, logger='kent_mm.web_demo')
    start = time.time()
    res = _post(client, [(name, make())])
    assert time.time() - start < 60  # answered, not hung
    page = res.get_data(as_text=True)
    assert res.status_code == 200
    assert message in page, page[-2000:]
    assert 'Traceback' not in page
    logged = [r.getMessage() for r in caplog.records
              if r.name == 'kent_mm.web_demo']
    assert any(name in line for line in logged), logged


def test_one_bad_file_does_not_stop_the_others(client):
    page = _post(client, [('empty.png', b''),
                          ('astronaut.png', _png(skimage_data.astronaut()))
                          ]).get_data(as_text=True)
    assert 'empty.png is empty (0 bytes)' in page
    assert page.count('class="card"') == 1


def test_request_over_the_size_limit_gets_a_page(web_demo, demo, caplog):
    client = web_demo['create_app'](demo, max_upload_mb=0.01).test_client()
    caplog.set_level(logging.INFO, logger='kent_mm.web_demo')
    res = _post(client, [('big.png', b'\x89PNG' + b'\x00' * 20000)])
    assert res.status_code == 413
    page = res.get_data(as_text=True)
    assert 'The upload is larger than 0.01 MB' in page
    assert any('larger than' in r.getMessage() for r in caplog.records)


def test_no_file_and_unknown_model_get_messages(client):
    page = _post(client, []).get_data(as_text=True)
    assert 'Choose a picture or a video first.' in page
    page = _post(client, [('a.png', _png(skimage_data.astronaut()))],
                 model='nope').get_data(as_text=True)
    assert "Unknown model 'nope'." in html.unescape(page)


def test_server_without_a_model_says_what_to_pass(web_demo, monkeypatch,
                                                  capsys):
    import kent_mm.apis

    def none_ships(pattern='*fer2013*'):
        raise FileNotFoundError('No kent_mm model matching '
                                f'{pattern!r} ships its weights.')

    monkeypatch.setattr(kent_mm.apis, 'best_shipped_model', none_ships,
                        raising=False)
    assert web_demo['main']([]) == 2
    out = capsys.readouterr().out
    assert 'No model to serve' in out and '--checkpoint FILE' in out


def test_server_with_a_broken_checkpoint_says_so(web_demo, kent_checkpoint,
                                                 tmp_path, capsys):
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(b'not a checkpoint')
    assert web_demo['main'](['--model', kent_checkpoint['config'],
                             '--checkpoint', str(bad)]) == 2
    out = capsys.readouterr().out
    assert 'No model to serve: Model cfg.py + broken.pth could not be ' \
        'loaded' in out, out


def test_model_list_holds_the_given_model_then_zoo_models_with_weights(
        web_demo):
    from mmpretrain.apis import ModelHub

    from kent_mm.apis import register_kent_model_index
    choices = web_demo['zoo_choices']({'mine': ('cfg.py', 'ckpt.pth')})
    assert list(choices)[0] == 'mine'
    zoo = set(register_kent_model_index())
    for name, (model, pretrained) in list(choices.items())[1:]:
        assert name in zoo and model == name and pretrained is True
        assert ModelHub.get(name).weights
    assert set(choices) - {'mine'} == {
        n for n in zoo if ModelHub.get(n).weights}
