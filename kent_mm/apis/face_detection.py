"""Face detectors whose weights ship inside an installed package.

Two families, registered by name in :data:`FACE_DETECTORS` (an MMEngine
registry, so ``build_face_detector(dict(type='mtcnn'))`` works as for any
OpenMMLab component):

- ``'mtcnn'``: MTCNN (Zhang et al., 2016) from ``facenet-pytorch``, whose
  wheel carries its three small networks (``facenet_pytorch/data/*.pt``,
  2 MB): a box, a score and five landmarks (eyes, nose, mouth corners) per
  face, in plain PyTorch. Faces tilted beyond what MTCNN sees upright are
  found by also running it on the image rotated by ``rotations`` degrees.
- ``'opencv-haar'`` / ``'skimage-lbp'``: the frontal-face cascades bundled
  with OpenCV 4.x (``cv2.data.haarcascades``) and scikit-image: no
  landmarks, upright faces only; the fallback where ``facenet-pytorch`` is
  missing.

``build_face_detector('auto')`` takes MTCNN when it is installed, else the
first cascade available. Every detector returns :class:`DetectedFace`
objects in the input image's pixels, with duplicate and nested boxes of one
face merged by :func:`suppress_duplicates`.
"""
import logging
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np
from mmengine.logging import print_log
from mmengine.registry import Registry

#: Registry of face detectors (``type`` = a name below).
FACE_DETECTORS = Registry('face detector')


@dataclass
class DetectedFace:
    """One face found in an image.

    Attributes:
        box (np.ndarray): ``(4,)`` float ``x1, y1, x2, y2`` in pixels.
        score (float): Detector confidence in [0, 1] (cascades: 1).
        landmarks (np.ndarray, optional): ``(5, 2)`` float ``x, y`` of the
            left eye, right eye, nose, left and right mouth corner (left and
            right as seen in the picture), or None.
    """
    box: np.ndarray
    score: float = 1.
    landmarks: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def size(self) -> float:
        """The longer side of the box, in pixels."""
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))

    @property
    def roll(self) -> float:
        """In-plane tilt in degrees from the eye line (0 without landmarks):
        positive when the face leans clockwise in the picture."""
        if self.landmarks is None:
            return 0.
        (lx, ly), (rx, ry) = self.landmarks[0], self.landmarks[1]
        return math.degrees(math.atan2(ry - ly, rx - lx))


def box_iou_and_cover(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU and coverage between two sets of boxes.

    Args:
        a (np.ndarray): ``(N, 4)`` boxes ``x1, y1, x2, y2``.
        b (np.ndarray): ``(M, 4)`` boxes.

    Returns:
        np.ndarray: ``(2, N, M)``: IoU, and the intersection over the
        smaller of the two areas (1 when one box lies inside the other).
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.stack([inter / np.maximum(union, 1e-9),
                     inter / np.maximum(smaller, 1e-9)])


def suppress_duplicates(faces: Sequence[DetectedFace],
                        iou_thr: float = 0.3,
                        cover_thr: float = 0.6) -> List[DetectedFace]:
    """One box per face: non-maximum suppression plus containment.

    A box is dropped when a better one (higher score, then larger) overlaps
    it by more than ``iou_thr`` IoU, or covers more than ``cover_thr`` of
    the smaller of the two: a face found once whole and once as a nested
    part (an eye region, the lower face) gives one box.

    Args:
        faces (Sequence[DetectedFace]): Raw detections.
        iou_thr (float): IoU above which two boxes are one face.
        cover_thr (float): Intersection over the smaller box above which
            two boxes are one face.

    Returns:
        list[DetectedFace]: The kept faces, best first.
    """
    if len(faces) <= 1:
        return list(faces)
    order = sorted(
        range(len(faces)),
        key=lambda i: (-faces[i].score, -faces[i].size))
    boxes = np.stack([faces[i].box for i in order])
    iou, cover = box_iou_and_cover(boxes, boxes)
    dup = (iou > iou_thr) | (cover > cover_thr)
    keep = []
    alive = np.ones(len(order), bool)
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(faces[order[i]])
        alive &= ~dup[i]
    return keep


def _working_image(img: np.ndarray, size: int):
    """``img`` scaled so that its longer side is at most ``size``.

    Returns:
        tuple: The image and the scale factor applied (<= 1).
    """
    scale = min(1., size / max(img.shape[:2]))
    if scale < 1:
        img = cv2.resize(img, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_AREA)
    return img, scale


class BaseFaceDetector:
    """Common interface: ``detector(img_bgr) -> List[DetectedFace]``.

    Args:
        min_face (int): Smallest face side to report, in pixels of the
            working image.
        max_side (int): Images are scaled down (never up) to this longer
            side before detection: bounded time and memory on any photo.
        iou_thr (float): See :func:`suppress_duplicates`.
        cover_thr (float): See :func:`suppress_duplicates`.
    """
    name = 'base'

    def __init__(self, min_face: int = 24, max_side: int = 640,
                 iou_thr: float = 0.3, cover_thr: float = 0.6) -> None:
        self.min_face = min_face
        self.max_side = max_side
        self.iou_thr = iou_thr
        self.cover_thr = cover_thr

    def detect_raw(self, img_bgr: np.ndarray) -> List[DetectedFace]:
        """Detections in ``img_bgr``'s pixels, duplicates included."""
        raise NotImplementedError

    def __call__(self, img_bgr: np.ndarray) -> List[DetectedFace]:
        """Faces in a BGR (or grey) ``(H, W[, 3])`` uint8 image, best first.

        Boxes and landmarks are in the input's pixels.
        """
        if img_bgr.ndim == 2:
            img_bgr = cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR)
        small, scale = _working_image(img_bgr, self.max_side)
        faces = self.detect_raw(small)
        for face in faces:
            face.box = face.box / scale
            if face.landmarks is not None:
                face.landmarks = face.landmarks / scale
        return suppress_duplicates(faces, self.iou_thr, self.cover_thr)


@FACE_DETECTORS.register_module(name='opencv-haar')
@FACE_DETECTORS.register_module(name='skimage-lbp')
class CascadeFaceDetector(BaseFaceDetector):
    """Frontal-face cascade bundled with OpenCV 4.x or scikit-image.

    Args:
        backend (str): ``'opencv-haar'`` or ``'skimage-lbp'``.
        min_neighbors (int, optional): Raw hits a face needs (default: 4
            Haar, 12 LBP).
        **kwargs: See :class:`BaseFaceDetector`.
    """

    def __init__(self, backend: str = 'opencv-haar',
                 min_neighbors: Optional[int] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if backend == 'opencv-haar':
            haar = haar_cascade_file()
            if haar is None:
                raise RuntimeError(
                    'This OpenCV has no bundled Haar cascades (OpenCV >= 5 '
                    'moved them out); use the skimage-lbp or mtcnn detector.')
            self.cascade = cv2.CascadeClassifier(haar)
            self.min_neighbors = min_neighbors or 4
        elif backend == 'skimage-lbp':
            try:
                from skimage.data import lbp_frontal_face_cascade_filename
                from skimage.feature import Cascade
            except ImportError:
                raise RuntimeError(
                    'The skimage-lbp face detector needs scikit-image '
                    '(pip install "kent_mm[demo]").') from None
            self.cascade = Cascade(lbp_frontal_face_cascade_filename())
            self.min_neighbors = min_neighbors or 12
        else:
            raise ValueError(f'Unknown cascade backend {backend!r}.')
        self.name = self.backend = backend

    def detect_raw(self, img_bgr: np.ndarray) -> List[DetectedFace]:
        gray = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY)
        # Cascades are tuned at this working size: neighbour counts that do
        # not depend on the input resolution (small images are scaled up).
        scale = 640. / max(gray.shape[:2])
        if scale > 1:
            gray = cv2.resize(gray, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_LINEAR)
        else:
            scale = 1.
        short = min(gray.shape[:2])
        min_side = max(24, int(self.min_face * scale))
        if self.backend == 'opencv-haar':
            found, _, weights = self.cascade.detectMultiScale3(
                cv2.equalizeHist(gray), scaleFactor=1.1,
                minNeighbors=self.min_neighbors,
                minSize=(min_side, min_side), outputRejectLevels=True)
            # Stage weights (unbounded) squashed to [0, 1] to rank boxes.
            raw = [((x, y, x + w, y + h), 1 / (1 + math.exp(-float(s))))
                   for (x, y, w, h), s in zip(found, np.ravel(weights))]
        else:
            found = self.cascade.detect_multi_scale(
                img=gray.astype(np.float32) / 255., scale_factor=1.1,
                step_ratio=1, min_size=(min_side, min_side),
                max_size=(short, short),
                min_neighbor_number=self.min_neighbors)
            raw = [((d['c'], d['r'], d['c'] + d['width'],
                     d['r'] + d['height']), 1.) for d in found]
        return [
            DetectedFace(np.asarray(b, np.float64) / scale, s)
            for b, s in raw
        ]


def haar_cascade_file() -> Optional[str]:
    """OpenCV's bundled frontal-face Haar cascade, or None (OpenCV >= 5)."""
    root = getattr(getattr(cv2, 'data', None), 'haarcascades', None)
    if root is None or not hasattr(cv2, 'CascadeClassifier'):
        return None
    path = osp.join(root, 'haarcascade_frontalface_default.xml')
    return path if osp.isfile(path) else None


def _rotate(img: np.ndarray, angle: float):
    """``img`` rotated by ``angle`` degrees (counter-clockwise) about its
    centre on a canvas that holds all of it; the inverse 2x3 map."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw = int(math.ceil(h * sin + w * cos))
    nh = int(math.ceil(h * cos + w * sin))
    m[:, 2] += (nw / 2 - w / 2, nh / 2 - h / 2)
    out = cv2.warpAffine(img, m, (nw, nh), borderMode=cv2.BORDER_REPLICATE)
    return out, cv2.invertAffineTransform(m)


@FACE_DETECTORS.register_module(name='mtcnn')
class MTCNNFaceDetector(BaseFaceDetector):
    """MTCNN from ``facenet-pytorch`` (weights inside its wheel).

    Args:
        min_score (float): Final-stage score a face needs.
        thresholds (Sequence[float]): MTCNN's three stage thresholds.
        rotations (Sequence[float]): Extra passes on the image rotated by
            these angles (degrees, counter-clockwise), for faces tilted
            further than MTCNN finds upright; () for one pass.
        device (str): Torch device.
        **kwargs: See :class:`BaseFaceDetector`.
    """
    name = 'mtcnn'

    def __init__(self,
                 min_score: float = 0.9,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7),
                 rotations: Sequence[float] = (-30., 30.),
                 device: str = 'cpu',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        try:
            from facenet_pytorch import MTCNN
        except ImportError:
            raise RuntimeError(
                'The mtcnn face detector needs facenet-pytorch (pip install '
                '"kent_mm[demo]").') from None
        self.net = MTCNN(keep_all=True, min_face_size=self.min_face,
                         thresholds=list(thresholds), device=device)
        self.min_score = min_score
        self.rotations = tuple(rotations)

    def _detect(self, img_bgr: np.ndarray) -> List[DetectedFace]:
        rgb = np.ascontiguousarray(img_bgr[..., ::-1])
        boxes, probs, points = self.net.detect(rgb, landmarks=True)
        if boxes is None:
            return []
        return [
            DetectedFace(np.asarray(b, np.float64), float(p),
                         np.asarray(lm, np.float64))
            for b, p, lm in zip(boxes, probs, points)
            if p >= self.min_score
        ]

    def detect_raw(self, img_bgr: np.ndarray) -> List[DetectedFace]:
        faces = self._detect(img_bgr)
        for angle in self.rotations:
            rotated, inv = _rotate(img_bgr, angle)
            for face in self._detect(rotated):
                # Back to the input: the landmarks map exactly; the box is
                # the square of the same side around the mapped centre.
                lm = face.landmarks @ inv[:, :2].T + inv[:, 2]
                x1, y1, x2, y2 = face.box
                c = inv[:, :2] @ ((x1 + x2) / 2, (y1 + y2) / 2) + inv[:, 2]
                half = np.array([(x2 - x1) / 2, (y2 - y1) / 2])
                faces.append(DetectedFace(
                    np.concatenate([c - half, c + half]), face.score, lm))
        return faces


def build_face_detector(cfg: Union[str, dict] = 'auto',
                        **kwargs) -> BaseFaceDetector:
    """A face detector by name or config dict.

    Args:
        cfg (str | dict): ``'auto'`` (MTCNN if ``facenet-pytorch`` is
            installed, else OpenCV's Haar cascade if bundled, else
            scikit-image's LBP cascade), a name of :data:`FACE_DETECTORS`,
            or a dict with ``type``.
        **kwargs: Constructor arguments (merged into ``cfg``).

    Returns:
        BaseFaceDetector: The detector; its ``name`` says which one.
    """
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    cfg.update(kwargs)
    if cfg['type'] == 'auto':
        try:
            import facenet_pytorch  # noqa: F401
            cfg['type'] = 'mtcnn'
        except ImportError:
            cfg['type'] = ('opencv-haar'
                           if haar_cascade_file() else 'skimage-lbp')
            print_log(
                'facenet-pytorch is not installed: falling back to the '
                f"{cfg['type']} cascade (upright faces only; pip install "
                '"kent_mm[demo]" for MTCNN).',
                logger='current', level=logging.WARNING)
    if cfg['type'] in ('opencv-haar', 'skimage-lbp'):
        cfg['backend'] = cfg['type']
    else:
        for key in ('min_neighbors', ):
            cfg.pop(key, None)
    if cfg['type'] not in FACE_DETECTORS:
        raise KeyError(f"Unknown face detector {cfg['type']!r}; choose from "
                       f'{sorted(FACE_DETECTORS.module_dict)} or auto.')
    return FACE_DETECTORS.build(cfg)
