"""Detect -> align -> classify: expressions of every face in a picture.

The one path shared by ``tools/demo/fer_demo.py`` (photos, folders,
videos) and ``tools/demo/web_demo.py`` (the browser page):

1. :mod:`~kent_mm.apis.face_detection` finds the faces (MTCNN with
   landmarks, or a cascade), one box per face;
2. each face is cut out as a square with a margin, rotated upright about
   its centre by the eye-line angle when the detector gives landmarks, and
   turned grey for grey models (FER2013);
3. the model's own test pipeline and MMPretrain's
   ``ImageClassificationInferencer`` classify all crops in one batch.

A face whose box is smaller than the model input is classified from an
upsampled crop and flagged (``upsampled``).
"""
import csv
import io
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from .face_detection import BaseFaceDetector, build_face_detector

#: Colours (BGR) of the boxes and label backgrounds, one per class index.
PALETTE = ((60, 180, 75), (48, 130, 245), (75, 25, 230), (200, 130, 0),
           (180, 30, 145), (25, 225, 255), (240, 240, 70), (128, 128, 128))


# ------------------------------------------------------------------ models
def resolve_model(model: Optional[str] = None,
                  checkpoint: Optional[str] = None,
                  pattern: str = '*fer2013*') -> Tuple[str, Union[str, bool]]:
    """``(model, pretrained)`` for ``mmpretrain.get_model``.

    Args:
        model (str, optional): A config file or a model-zoo name; None for
            the best model whose weights ship with kent_mm
            (``kent_mm.apis.best_shipped_model(pattern)``).
        checkpoint (str, optional): Weights; needed with a config file, and
            with a zoo name whose weights do not ship.
        pattern (str): Zoo names the default model is chosen among.

    Raises:
        FileNotFoundError: No model given and none ships, or a config file
            without a checkpoint, or a zoo model without weights: the
            message says what to pass instead.

    Returns:
        tuple: The config file or zoo name, and the checkpoint (or True for
        the zoo's own weights).
    """
    if checkpoint is not None and not osp.isfile(checkpoint) and \
            '://' not in checkpoint:
        raise FileNotFoundError(f'--checkpoint {checkpoint}: no such file.')
    if model is None:
        if checkpoint is not None:
            raise FileNotFoundError(
                '--checkpoint needs a model: a config file or a zoo name '
                '(--model NAME or the MODEL argument).')
        return best_shipped_model_name(pattern), True
    if model.endswith('.py'):
        if not osp.isfile(model):
            raise FileNotFoundError(f'Model config {model}: no such file.')
        if checkpoint is None:
            raise FileNotFoundError(
                f'Model config {model} needs --checkpoint FILE (a config '
                'alone has random weights).')
        return model, checkpoint
    from mmpretrain.apis import ModelHub
    import kent_mm  # noqa: F401  registers the kent_mm model zoo
    info = ModelHub.get(model)  # KeyError with close names if unknown
    if checkpoint is None:
        if not info.weights:
            raise FileNotFoundError(
                f'Zoo model {model} has no weights that ship with kent_mm: '
                'pass --checkpoint FILE (docs/model_zoo.md says how to '
                'build it).')
        return model, True
    return model, checkpoint


def best_shipped_model_name(pattern: str = '*fer2013*') -> str:
    """``kent_mm.apis.best_shipped_model(pattern)``, or a clear error.

    Raises:
        FileNotFoundError: When no zoo model's weights ship with kent_mm
            (or this kent_mm cannot tell): the message says to pass a model
            and checkpoint instead.
    """
    import kent_mm.apis as apis
    finder = getattr(apis, 'best_shipped_model', None)
    hint = ('give a model and its weights: a zoo name or config file and '
            '--checkpoint FILE (docs/demo.md).')
    if finder is None:
        raise FileNotFoundError(
            'This kent_mm has no model with shipped weights to default to; '
            + hint)
    try:
        return finder(pattern)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{e} For the demo, {hint}') from None


def model_input_size(cfg) -> int:
    """The shorter side of the model's test-pipeline input, in pixels."""
    from .deploy import config_image_size
    return int(min(config_image_size(cfg)))


# --------------------------------------------------------------- cropping
def aligned_crop(img: np.ndarray, box: Sequence[float], margin: float,
                 roll: float = 0.) -> np.ndarray:
    """The face square around ``box``, rotated upright.

    Args:
        img (np.ndarray): ``(H, W[, C])`` image.
        box (Sequence[float]): ``x1, y1, x2, y2`` of the face.
        margin (float): Added on each side, as a fraction of the box's
            longer side.
        roll (float): The face's tilt in degrees (see
            :attr:`DetectedFace.roll`); the crop is turned by ``-roll``.

    Returns:
        np.ndarray: ``(S, S[, C])`` crop, ``S = round(longer side * (1 + 2 *
        margin))``; borders beyond the image repeat its edge pixels.
    """
    x1, y1, x2, y2 = map(float, box)
    side = max(1, int(round(max(x2 - x1, y2 - y1) * (1 + 2 * margin))))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    # Rotate about the face centre, then move that centre to the crop's.
    m = cv2.getRotationMatrix2D((cx, cy), roll, 1.)
    m[:, 2] += (side / 2 - cx, side / 2 - cy)
    return cv2.warpAffine(img, m, (side, side), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


# ------------------------------------------------------------ recognition
class FaceExpressionInferencer:
    """Every face's expression in a picture, with an MMPretrain model.

    Args:
        model (str): A config file or a model-zoo name (see
            :func:`resolve_model`).
        pretrained (str | bool): Checkpoint, or True for the zoo's weights.
        detector (str | dict | BaseFaceDetector): Face detector or its name
            (see :func:`~kent_mm.apis.face_detection.build_face_detector`).
        margin (float): Crop margin around each face box.
        gray (str): ``'auto'`` (grey crops for models trained on a grey
            dataset such as FER2013), ``'on'`` or ``'off'``.
        device (str): Torch device.

    Example:
        >>> inferencer = FaceExpressionInferencer(
        ...     'configs/kent_resnet18_rafdb.py', 'epoch_50.pth')
        >>> faces = inferencer(cv2.imread('group.jpg'))
        >>> faces[0]['label'], faces[0]['score'], faces[0]['box']
    """

    def __init__(self,
                 model: str,
                 pretrained: Union[str, bool],
                 detector: Union[str, dict, BaseFaceDetector] = 'auto',
                 margin: float = 0.2,
                 gray: str = 'auto',
                 device: str = 'cpu') -> None:
        from mmpretrain import ImageClassificationInferencer, get_model

        import kent_mm  # noqa: F401  components and model zoo
        from kent_mm.utils import checkpoint_safe_globals
        from .deploy import is_grayscale_model
        with checkpoint_safe_globals():  # training checkpoints as well
            net = get_model(model, pretrained=pretrained, device=device)
        # The model's own test pipeline (LoadFERImage, Resize, ...) does the
        # preprocessing of each crop.
        self.inferencer = ImageClassificationInferencer(net, device=device)
        self.classes = list(self.inferencer.classes or [])
        # MMPretrain's get_model keeps the config as `model._config` (its own
        # inferencers read it there; no public accessor); the demo tests
        # fail at once if that changes.
        self.gray = (is_grayscale_model(net._config)
                     if gray == 'auto' else gray == 'on')
        self.input_size = model_input_size(net._config)
        self.detector = (detector if isinstance(detector, BaseFaceDetector)
                         else build_face_detector(detector))
        self.margin = margin

    def crops(self, img_bgr: np.ndarray, faces) -> List[np.ndarray]:
        """The aligned (and, for grey models, 2-D grey) crops of ``faces``."""
        out = []
        for face in faces:
            crop = aligned_crop(img_bgr, face.box, self.margin, face.roll)
            if self.gray and crop.ndim == 3:
                # 2-D crops: LoadFERImage repeats them to 3 channels, as it
                # does for the grey training images.
                crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
            out.append(np.ascontiguousarray(crop))
        return out

    def __call__(self, img_bgr: np.ndarray) -> List[Dict]:
        """Faces of a BGR ``(H, W, 3)`` (or grey) uint8 image.

        Returns:
            list[dict]: One dict per face, best detection first: ``box``
            (``[x1, y1, x2, y2]`` int), ``detector_score``, ``roll``
            (degrees the crop was turned), ``upsampled`` (box smaller than
            the model input), ``label``, ``label_index``, ``score`` and
            ``scores`` (class name -> probability).
        """
        if img_bgr.ndim == 2:
            img_bgr = cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR)
        faces = self.detector(img_bgr)
        if not faces:
            return []
        crops = self.crops(img_bgr, faces)
        preds = self.inferencer(crops, batch_size=len(crops))
        out = []
        for face, pred in zip(faces, preds):
            out.append(
                dict(box=[int(round(v)) for v in face.box],
                     detector_score=round(float(face.score), 4),
                     roll=round(face.roll, 1),
                     upsampled=face.size < self.input_size,
                     label=pred['pred_class'],
                     label_index=int(pred['pred_label']),
                     score=float(pred['pred_score']),
                     scores={
                         k: round(float(v), 6)
                         for k, v in zip(self.classes, pred['pred_scores'])
                     }))
        return out


# ----------------------------------------------------------------- output
def face_caption(index: int, face: Dict) -> str:
    """``#1 happy 0.87`` (``*`` marks a face classified from an upsampled
    crop)."""
    star = '*' if face.get('upsampled') else ''
    return f"#{index + 1} {face['label']} {face['score']:.2f}{star}"


def label_rect(box: Sequence[int], text_size: Tuple[int, int],
               image_size: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """Where a label of ``text_size`` goes for ``box``: above the box, else
    inside its top edge, shifted left and down so that all of it lies in
    the picture.

    Args:
        box (Sequence[int]): ``x1, y1, x2, y2``.
        text_size (tuple): Label ``(width, height)`` in pixels.
        image_size (tuple): ``(width, height)`` of the picture.

    Returns:
        tuple: ``(x1, y1, x2, y2)`` of the label background.
    """
    tw, th = text_size
    w, h = image_size
    x = int(min(max(box[0], 0), max(w - tw, 0)))
    y = int(box[1]) - th
    if y < 0:  # no room above the box: inside its top edge
        y = int(max(box[1], 0))
    y = int(min(y, max(h - th, 0)))
    return x, y, x + tw, y + th


def draw_faces(img_bgr: np.ndarray, faces: Sequence[Dict]) -> np.ndarray:
    """A copy of the picture with each face boxed and captioned.

    Each caption (:func:`face_caption`) sits on a filled background in its
    class colour, wholly inside the picture (:func:`label_rect`).
    """
    out = img_bgr.copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    h, w = out.shape[:2]
    thick = max(1, round(max(h, w) / 800))
    font, font_scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick
    for i, face in enumerate(faces):
        colour = PALETTE[face.get('label_index', 0) % len(PALETTE)]
        x1, y1, x2, y2 = face['box']
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick + 1)
        text = face_caption(i, face)
        (tw, th), base = cv2.getTextSize(text, font, font_scale, thick)
        pad = thick + 1
        lx1, ly1, lx2, ly2 = label_rect(
            face['box'], (tw + 2 * pad, th + base + 2 * pad), (w, h))
        cv2.rectangle(out, (lx1, ly1), (lx2 - 1, ly2 - 1), colour, -1)
        # Black or white text, whichever reads better on the colour.
        ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
        cv2.putText(out, text, (lx1 + pad, ly2 - pad - base), font,
                    font_scale, ink, thick, cv2.LINE_AA)
    return out


CSV_FIELDS = ('source', 'frame', 'face', 'x1', 'y1', 'x2', 'y2',
              'detector_score', 'roll', 'upsampled', 'label', 'score')


def faces_csv(rows: Sequence[Tuple[str, Optional[int], Sequence[Dict]]],
              classes: Sequence[str]) -> str:
    """One CSV line per face: where it is, its class and all scores.

    Args:
        rows (Sequence[tuple]): ``(source name, frame index or None,
            faces)`` per picture or video frame.
        classes (Sequence[str]): Class names (one score column each).

    Returns:
        str: The CSV text with a header line.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(list(CSV_FIELDS) + [f'p_{c}' for c in classes])
    for source, frame, faces in rows:
        for i, f in enumerate(faces):
            writer.writerow(
                [source, '' if frame is None else frame, i + 1, *f['box'],
                 f['detector_score'], f['roll'], int(f['upsampled']),
                 f['label'], f"{f['score']:.4f}"] +
                [f"{f['scores'].get(c, math.nan):.4f}" for c in classes])
    return buf.getvalue()
