"""Web page for facial expression recognition: upload, see, download.

A local page (Flask) where one uploads photos (several at once), a short
video or a webcam snapshot, picks a model of the kent_mm zoo and sees every
face boxed with its class, a bar chart of the class probabilities per face
and a table of all scores, downloadable as CSV. Offline, CPU. The faces are
found and classified by ``kent_mm.apis.FaceExpressionInferencer``, the same
detect -> align -> classify path as ``tools/demo/fer_demo.py``.

Examples::

    python tools/demo/web_demo.py                 # the best shipped model
    python tools/demo/web_demo.py --model kent_resnet18_fer2013-112px-minilm \\
        --checkpoint my_finetuned.pth
    python tools/demo/web_demo.py --model configs/kent_resnet18_rafdb.py \\
        --checkpoint epoch_50.pth --port 8000

then open http://127.0.0.1:7860 (or the ``--port`` given).

Bad uploads (not an image, an empty file, a picture over ``--max-pixels``,
a request over ``--max-upload-mb``, a picture without faces) get a message
on the page and a log line; each file is handled on its own.
"""
import argparse
import base64
import io
import logging
import os.path as osp
import sys
import tempfile
import threading
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

LOGGER = logging.getLogger('kent_mm.web_demo')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')
DISPLAY_SIDE = 720  # longer side of the pictures shown on the page

ModelSpec = Tuple[str, Union[str, bool]]  # (config or zoo name, pretrained)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model', help='config file or model-zoo name (default: the best '
        'kent_mm FER2013 model whose weights ship with the code)')
    parser.add_argument(
        '--checkpoint', help='checkpoint file (needed with a config file or '
        'a zoo model whose weights do not ship)')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument(
        '--detector', default='auto',
        choices=['auto', 'mtcnn', 'opencv-haar', 'skimage-lbp'])
    parser.add_argument(
        '--max-pixels', type=float, default=50e6,
        help='larger pictures (width x height) are refused')
    parser.add_argument(
        '--max-upload-mb', type=float, default=64,
        help='larger requests are refused')
    parser.add_argument(
        '--max-video-frames', type=int, default=8,
        help='frames classified per video, spread over its length')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


class UploadError(ValueError):
    """An upload that cannot be analysed; the message is shown as is."""


# ---------------------------------------------------------------- models
def zoo_choices(extra: Optional[Dict[str, ModelSpec]] = None
                ) -> 'OrderedDict[str, ModelSpec]':
    """Models offered on the page: ``extra`` first, then the kent_mm zoo
    models that have weights (shipped or downloadable)."""
    from mmpretrain.apis import ModelHub

    from kent_mm.apis import register_kent_model_index
    choices = OrderedDict(extra or {})
    for name in register_kent_model_index():
        if name not in choices and ModelHub.get(name).weights:
            choices[name] = (name, True)
    return choices


class Demo:
    """What the page's handlers share: models, detector and limits.

    Args:
        models (dict): ``{label: (config or zoo name, pretrained)}``.
        default (str): The label selected first.
        detector: A face detector (name or object).
        max_pixels (float): Refuse larger pictures.
        max_video_frames (int): Frames classified per video.
        device (str): Torch device.
        cache_size (int): Models kept loaded.
    """

    def __init__(self, models: Dict[str, ModelSpec], default: str,
                 detector='auto', max_pixels: float = 50e6,
                 max_video_frames: int = 8, device: str = 'cpu',
                 cache_size: int = 2) -> None:
        from kent_mm.apis.face_detection import (BaseFaceDetector,
                                                 build_face_detector)
        if default not in models:
            raise KeyError(f'default model {default!r} not in {list(models)}')
        self.models = OrderedDict(models)
        self.default = default
        self.detector = (detector if isinstance(detector, BaseFaceDetector)
                         else build_face_detector(detector))
        self.max_pixels = max_pixels
        self.max_video_frames = max_video_frames
        self.device = device
        self.cache_size = cache_size
        self._cache: 'OrderedDict[str, object]' = OrderedDict()
        # One request computes at a time: torch already uses every core.
        self.lock = threading.Lock()

    def inferencer(self, label: str):
        """The (cached) FaceExpressionInferencer of a model label."""
        from kent_mm.apis.face_inference import FaceExpressionInferencer
        if label not in self.models:
            raise UploadError(f'Unknown model {label!r}.')
        if label not in self._cache:
            model, pretrained = self.models[label]
            try:
                self._cache[label] = FaceExpressionInferencer(
                    model, pretrained, self.detector, device=self.device)
            except Exception as e:  # noqa: BLE001  shown on the page
                LOGGER.exception('model %s could not be loaded', label)
                first = (str(e).splitlines() or [''])[0][:200]
                raise UploadError(
                    f'Model {label} could not be loaded '
                    f'({type(e).__name__}: {first}).') from None
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(label)
        return self._cache[label]

    # ------------------------------------------------------------ decoding
    def decode_image(self, name: str, data: bytes) -> np.ndarray:
        """BGR pixels of an uploaded picture (EXIF rotation applied).

        Raises:
            UploadError: Empty, not a picture, or over ``max_pixels``.
        """
        from PIL import Image, ImageOps, UnidentifiedImageError
        if not data:
            raise UploadError(f'{name} is empty (0 bytes).')
        try:
            with warnings.catch_warnings():
                # Pixel counts are checked below, against our own limit.
                warnings.simplefilter('ignore', Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data))
            with im:
                w, h = im.size  # the header only: nothing decoded yet
                self._check_pixels(name, w, h)
                im = ImageOps.exif_transpose(im)
                rgb = np.asarray(im.convert('RGB'))
        except UploadError:
            raise
        except Image.DecompressionBombError:
            raise UploadError(
                f'{name} has more pixels than the '
                f'{self.max_pixels / 1e6:g} megapixel limit.') from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise UploadError(
                f'{name} is not a picture that can be read (JPEG, PNG, '
                'BMP, WebP, TIFF, ...) nor a video.') from None
        return np.ascontiguousarray(rgb[..., ::-1])

    def _check_pixels(self, name: str, w: int, h: int) -> None:
        if w * h > self.max_pixels:
            raise UploadError(
                f'{name} is {w} x {h} pixels ({w * h / 1e6:.0f} MP): over '
                f'the {self.max_pixels / 1e6:g} megapixel limit. Scale it '
                'down and upload it again.')

    def video_frames(self, name: str,
                     data: bytes) -> List[Tuple[int, np.ndarray]]:
        """Up to ``max_video_frames`` frames spread over a video.

        Raises:
            UploadError: Empty, unreadable, or frames over ``max_pixels``.
        """
        if not data:
            raise UploadError(f'{name} is empty (0 bytes).')
        suffix = osp.splitext(name)[1].lower() or '.mp4'
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'upload' + suffix)
            with open(path, 'wb') as f:
                f.write(data)
            cap = cv2.VideoCapture(path)
            try:
                if not cap.isOpened():
                    raise UploadError(f'{name}: the video cannot be opened.')
                w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
                h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
                self._check_pixels(name, w, h)
                count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                frames = []
                if count > 0:
                    wanted = np.unique(np.linspace(
                        0, count - 1, min(count, self.max_video_frames)
                    ).round().astype(int))
                    for index in wanted:
                        cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
                        ok, frame = cap.read()
                        if ok:
                            frames.append((int(index), frame))
                else:  # length unknown: the first frames
                    for index in range(self.max_video_frames):
                        ok, frame = cap.read()
                        if not ok:
                            break
                        frames.append((index, frame))
            finally:
                cap.release()
        if not frames:
            raise UploadError(f'{name}: no frame could be read.')
        return frames

    # ------------------------------------------------------------ analysis
    def analyse(self, files: List[Tuple[str, bytes]], label: str) -> Dict:
        """Every upload's faces; what the page shows.

        Returns:
            dict: ``items`` (one per picture or video frame: ``name``,
            ``frame``, ``image`` data URI, ``faces`` and ``note``),
            ``messages`` (problems, one per bad file), ``csv`` (data URI)
            and ``classes``.
        """
        from kent_mm.apis.face_inference import faces_csv
        messages, items, rows = [], [], []
        if not files:
            return dict(items=[], messages=['Choose a picture or a video '
                                            'first.'], csv=None, classes=[])
        try:
            inferencer = self.inferencer(label)
        except UploadError as e:
            return dict(items=[], messages=[str(e)], csv=None, classes=[])
        for name, data in files:
            try:
                if osp.splitext(name)[1].lower() in VIDEO_EXTS:
                    frames = self.video_frames(name, data)
                else:
                    frames = [(None, self.decode_image(name, data))]
                for frame, img in frames:
                    faces = inferencer(img)
                    rows.append((name, frame, faces))
                    items.append(self._item(name, frame, img, faces,
                                            inferencer.classes))
                    LOGGER.info('%s%s: %d face(s)%s', name,
                                '' if frame is None else f' frame {frame}',
                                len(faces), ''.join(
                                    f", {f['label']} {f['score']:.2f}"
                                    for f in faces))
            except UploadError as e:
                LOGGER.warning('upload refused: %s', e)
                messages.append(str(e))
            except Exception as e:  # noqa: BLE001  a message, not a trace
                LOGGER.exception('upload %s failed', name)
                messages.append(f'{name} could not be analysed '
                                f'({type(e).__name__}).')
        csv_uri = None
        if any(faces for _, _, faces in rows):
            text = faces_csv(rows, inferencer.classes)
            csv_uri = 'data:text/csv;base64,' + base64.b64encode(
                text.encode()).decode()
        return dict(items=items, messages=messages, csv=csv_uri,
                    classes=inferencer.classes)

    @staticmethod
    def _item(name, frame, img, faces, classes) -> Dict:
        from kent_mm.apis.face_inference import draw_faces, face_caption
        scale = min(1., DISPLAY_SIDE / max(img.shape[:2]))
        shown = img if scale == 1 else cv2.resize(
            img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        scaled = [
            dict(f, box=[int(round(v * scale)) for v in f['box']])
            for f in faces
        ]
        ok, jpg = cv2.imencode('.jpg', draw_faces(shown, scaled),
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
        uri = 'data:image/jpeg;base64,' + base64.b64encode(
            jpg.tobytes()).decode()
        cards = []
        for i, f in enumerate(faces):
            cards.append(
                dict(caption=face_caption(i, f), face=f,
                     bars=[(c, 100 * f['scores'].get(c, 0.),
                            c == f['label']) for c in classes]))
        note = None if faces else (
            'No face found: nothing to classify. Faces should be at least '
            'about 24 px high in a 640 px picture and not turned too far '
            'from the camera.')
        return dict(name=name, frame=frame, image=uri, faces=cards,
                    note=note)


# -------------------------------------------------------------------- app
def create_app(demo: Demo, max_upload_mb: float = 64):
    """The Flask application of ``demo``.

    Routes: ``GET /`` (the form) and ``POST /`` (form fields ``files``,
    one or more uploads, and ``model``).
    """
    from flask import Flask, render_template, request
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    app = Flask(__name__, template_folder=osp.join(
        osp.dirname(osp.abspath(__file__)), 'templates'))
    app.config['MAX_CONTENT_LENGTH'] = int(max_upload_mb * 1024 * 1024)

    def page(result=None, label=None, status=200):
        return render_template(
            'web_demo.html', models=list(demo.models),
            selected=label or demo.default,
            detector=demo.detector.name, result=result), status

    @app.get('/')
    def index():
        return page()

    @app.post('/')
    def analyse():
        label = request.form.get('model') or demo.default
        files = [(f.filename or 'upload', f.read())
                 for f in request.files.getlist('files')
                 if f.filename or f.content_length]
        with demo.lock:
            result = demo.analyse(files, label)
        return page(result, label)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e):
        msg = (f'The upload is larger than {max_upload_mb:g} MB: send fewer '
               'or smaller files.')
        LOGGER.warning('upload refused: %s', msg)
        return page(dict(items=[], messages=[msg], csv=None), status=413)

    @app.errorhandler(Exception)
    def failure(e):
        if isinstance(e, HTTPException):
            return e
        LOGGER.exception('request failed')
        return page(dict(items=[], messages=[
            f'Something went wrong ({type(e).__name__}); the server log has '
            'the details.'], csv=None), status=500)

    return app


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format='%(asctime)s %(name)s %(levelname)s '
                        '%(message)s')
    from kent_mm.apis.face_inference import resolve_model
    try:
        model, pretrained = resolve_model(args.model, args.checkpoint)
    except (FileNotFoundError, KeyError) as e:
        print(f'No model to serve: {e}')
        return 2
    label = model if pretrained is True else (
        f'{osp.basename(model)} + {osp.basename(str(pretrained))}')
    demo = Demo(zoo_choices({label: (model, pretrained)}), label,
                args.detector, args.max_pixels, args.max_video_frames,
                args.device)
    LOGGER.info('loading %s (face detector: %s)', label, demo.detector.name)
    try:
        demo.inferencer(label)  # load now: the first page answers at once
    except UploadError as e:
        print(f'No model to serve: {e}')
        return 2
    app = create_app(demo, args.max_upload_mb)
    print(f'Open http://{args.host}:{args.port} in a browser '
          '(Ctrl+C stops).', flush=True)
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
