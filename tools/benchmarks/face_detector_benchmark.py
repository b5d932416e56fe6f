"""Face detector benchmark: recall and false positives on composed scenes.

Real faces (FER2013 test images, ``<faces-root>/<class>/*.jpg``, 48x48 grey)
are pasted into 640x480 grey scenes whose backgrounds are scikit-image's
bundled public-domain pictures without people (brick, cat, coffee, coins,
rocket, text, ...), several faces per scene, without overlap. Each face is
scaled from its 48x48 crop with bicubic interpolation and pasted with a
thin feathered border (alpha ramps from 0 to 1 over its outer 4 %: no hard
square edge, the face itself unchanged). FER2013 crops are tight (brow to
chin, sometimes less): a detector sees little context around the face.
Scene sets:

    upright    faces of 48 to 160 px, upright
    small      faces of 24 to 47 px, upright
    tilted     faces of 64 to 160 px rotated by +30 or -30 degrees
    occluded   faces of 64 to 160 px, upright, half covered by a patch of
               another background (the lower, left or right half; the upper
               half, eyes included, is reported apart as ``occluded-eyes``)
    empty      backgrounds only (false positives)
    alone      one face of 120 px on a plain grey scene: how many FER2013
               crops a detector finds at all (the ceiling of the others)

A detection matches a face when their IoU is at least 0.3 (the truth box is
the face's own square, unrotated, about its centre; detectors draw their
boxes a little tighter or looser than FER2013's crop); each face matches
one detection at most, best score first. Every unmatched detection, in any
scene, is a false positive. Time: median CPU milliseconds per 640x480
scene (detection only, ``--threads`` torch/OpenCV threads; CPU time rather
than wall time, which other work on a shared machine inflates; the JSON has
both).

Example::

    python tools/benchmarks/face_detector_benchmark.py \\
        --faces-root data/fer2013/test --scenes 60 \\
        --detectors skimage-lbp mtcnn mtcnn-1pass --out face_detectors.json
"""
import argparse
import glob
import json
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

SCENE_W, SCENE_H = 640, 480
#: scikit-image's bundled pictures without human faces.
BACKGROUNDS = ('brick', 'cat', 'cell', 'clock', 'coffee', 'coins', 'grass',
               'gravel', 'horse', 'hubble_deep_field', 'immunohistochemistry',
               'moon', 'page', 'retina', 'rocket', 'text', 'colorwheel')
#: (min side, max side, angles, occluded halves) of each scene set.
SETS = {
    'upright': (48, 160, (0, ), ()),
    'small': (24, 47, (0, ), ()),
    'tilted': (64, 160, (-30, 30), ()),
    'occluded': (64, 160, (0, ), ('lower', 'left', 'right')),
    'occluded-eyes': (64, 160, (0, ), ('upper', )),
    'empty': (0, 0, (), ()),
    'alone': (120, 120, (0, ), ()),
}
#: Detectors by benchmark name: (registry name, constructor arguments).
DETECTORS = {
    'opencv-haar': ('opencv-haar', {}),
    'skimage-lbp': ('skimage-lbp', {}),
    'mtcnn': ('mtcnn', {}),
    'mtcnn-1pass': ('mtcnn', dict(rotations=())),
}
FEATHER = 0.04
IOU_MATCH = 0.3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--faces-root', default='data/fer2013/test',
        help='folder of face crops (<class>/*.jpg or *.png, any depth)')
    parser.add_argument(
        '--scenes', type=int, default=60,
        help='scenes per set (each with 3 to 5 faces; none for empty, one '
        'for alone)')
    parser.add_argument(
        '--sets', nargs='+', default=list(SETS), choices=list(SETS))
    parser.add_argument(
        '--detectors', nargs='+', default=['skimage-lbp', 'mtcnn'],
        choices=list(DETECTORS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch/OpenCV threads')
    parser.add_argument('--out', help='JSON file of the results')
    return parser.parse_args(argv)


# ------------------------------------------------------------------ scenes
def load_faces(root: str) -> List[np.ndarray]:
    """Grey face crops under ``root``, sorted by path."""
    files = sorted(
        f for ext in ('jpg', 'jpeg', 'png')
        for f in glob.glob(osp.join(root, '**', f'*.{ext}'), recursive=True))
    faces = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
    faces = [f for f in faces if f is not None]
    if not faces:
        raise FileNotFoundError(
            f'--faces-root {root}: no readable .jpg/.png face images.')
    return faces


def load_backgrounds() -> List[np.ndarray]:
    """scikit-image's bundled face-free pictures as grey uint8."""
    from skimage import data
    out = []
    for name in BACKGROUNDS:
        img = np.asarray(getattr(data, name)())
        if img.ndim == 3:
            img = cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
        if img.dtype != np.uint8:
            img = cv2.normalize(img.astype(np.float32), None, 0, 255,
                                cv2.NORM_MINMAX).astype(np.uint8)
        out.append(img)
    return out


def _background(rng: np.random.Generator,
                backgrounds: Sequence[np.ndarray]) -> np.ndarray:
    """A random crop of a random background, resized to the scene."""
    img = backgrounds[rng.integers(len(backgrounds))]
    h, w = img.shape
    aspect = SCENE_W / SCENE_H
    ch = int(h * rng.uniform(0.6, 1.))
    cw = min(w, int(ch * aspect))
    ch = int(cw / aspect)
    y, x = rng.integers(h - ch + 1), rng.integers(w - cw + 1)
    crop = img[y:y + ch, x:x + cw]
    if rng.random() < .5:
        crop = crop[:, ::-1]
    return cv2.resize(crop, (SCENE_W, SCENE_H), interpolation=cv2.INTER_AREA)


def _face_patch(rng, face, side, angle, half, backgrounds):
    """The face at ``side`` px with its alpha, rotated by ``angle``,
    ``half`` of it covered; both on a square canvas of side ``ceil(side *
    sqrt(2))`` centred on the face."""
    img = cv2.resize(face, (side, side),
                     interpolation=cv2.INTER_CUBIC).astype(np.float32)
    ramp = np.clip(
        np.minimum(np.arange(side), np.arange(side)[::-1]) /
        max(1., FEATHER * side), 0, 1)
    alpha = np.minimum(ramp[:, None], ramp[None, :]).astype(np.float32)
    if half:
        cover = _background(rng, backgrounds).astype(np.float32)
        cover = cv2.resize(cover, (side, side))
        s = side // 2
        region = dict(lower=np.s_[s:, :], upper=np.s_[:s, :],
                      left=np.s_[:, :s], right=np.s_[:, s:])[half]
        img[region] = cover[region]
        alpha[region] = 1.  # the occluder has hard edges, as objects do
    canvas = int(np.ceil(side * np.sqrt(2))) + 2
    off = (canvas - side) // 2
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.)
    m[:, 2] += off
    img = cv2.warpAffine(img, m, (canvas, canvas), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(alpha, m, (canvas, canvas),
                           flags=cv2.INTER_LINEAR)
    return img, alpha


def make_scene(rng: np.random.Generator, faces: Sequence[np.ndarray],
               backgrounds: Sequence[np.ndarray],
               set_name: str) -> Tuple[np.ndarray, np.ndarray]:
    """One 640x480 BGR scene of a set and its face boxes.

    Returns:
        tuple: The scene ``(480, 640, 3)`` uint8 and the truth boxes
        ``(N, 4)`` ``x1, y1, x2, y2`` (each face's unrotated square).
    """
    lo, hi, angles, halves = SETS[set_name]
    if set_name == 'alone':
        scene = np.full((SCENE_H, SCENE_W), 128, np.float32)
    else:
        scene = _background(rng, backgrounds).astype(np.float32)
    boxes = []
    if set_name != 'empty':
        n = 1 if set_name == 'alone' else int(rng.integers(3, 6))
        placed = []  # (cx, cy, radius)
        for _ in range(n):
            side = int(rng.integers(lo, hi + 1))
            angle = float(angles[rng.integers(len(angles))])
            half = halves[rng.integers(len(halves))] if halves else None
            img, alpha = _face_patch(
                rng, faces[rng.integers(len(faces))], side, angle, half,
                backgrounds)
            c = img.shape[0]
            for _try in range(50):
                x, y = rng.integers(0, SCENE_W - c), rng.integers(
                    0, SCENE_H - c)
                cx, cy, r = x + c / 2, y + c / 2, c / 2
                if all((cx - px)**2 + (cy - py)**2 > (r + pr)**2
                       for px, py, pr in placed):
                    break
            else:
                continue  # no room left: fewer faces in this scene
            placed.append((cx, cy, r))
            region = scene[y:y + c, x:x + c]
            region[:] = alpha * img + (1 - alpha) * region
            boxes.append((cx - side / 2, cy - side / 2, cx + side / 2,
                          cy + side / 2))
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    return (cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR),
            np.asarray(boxes, np.float64).reshape(-1, 4))


# ---------------------------------------------------------------- scoring
def match(truth: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
          iou_thr: float = IOU_MATCH) -> Tuple[int, int]:
    """Greedy matching, best score first.

    Returns:
        tuple: (truth boxes found, unmatched detections).
    """
    from kent_mm.apis.face_detection import box_iou_and_cover
    if len(boxes) == 0:
        return 0, 0
    if len(truth) == 0:
        return 0, len(boxes)
    iou = box_iou_and_cover(boxes, truth)[0]
    free = np.ones(len(truth), bool)
    found = 0
    for i in np.argsort(-scores, kind='stable'):
        cand = np.where(free & (iou[i] >= iou_thr))[0]
        if len(cand):
            free[cand[np.argmax(iou[i, cand])]] = False
            found += 1
    return found, len(boxes) - found


def run(args) -> Dict:
    import torch

    from kent_mm.apis.face_detection import build_face_detector
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    faces = load_faces(args.faces_root)
    backgrounds = load_backgrounds()
    scenes = {}
    for k, name in enumerate(args.sets):
        rng = np.random.default_rng([args.seed, k])
        scenes[name] = [
            make_scene(rng, faces, backgrounds, name)
            for _ in range(args.scenes)
        ]
    results = dict(faces_root=args.faces_root, num_face_images=len(faces),
                   scenes_per_set=args.scenes, seed=args.seed,
                   threads=args.threads, iou_match=IOU_MATCH, detectors={})
    for det_name in args.detectors:
        reg_name, kwargs = DETECTORS[det_name]
        try:
            detector = build_face_detector(reg_name, **kwargs)
        except RuntimeError as e:
            print(f'{det_name}: skipped ({e})')
            continue
        detector(scenes[args.sets[0]][0][0])  # warm-up
        row, times, cpu, fp, n_img = {}, [], [], 0, 0
        for name, items in scenes.items():
            found = total = set_fp = 0
            for img, truth in items:
                t0, c0 = time.perf_counter(), time.process_time()
                dets = detector(img)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                boxes = np.array([d.box for d in dets]).reshape(-1, 4)
                scores = np.array([d.score for d in dets])
                f, u = match(truth, boxes, scores)
                found, total, set_fp = found + f, total + len(truth), \
                    set_fp + u
            row[name] = dict(
                faces=total, found=found,
                recall=round(found / total, 4) if total else None,
                false_positives=set_fp,
                fp_per_image=round(set_fp / len(items), 4))
            fp, n_img = fp + set_fp, n_img + len(items)
        row['all'] = dict(fp_per_image=round(fp / n_img, 4),
                          ms_per_image=round(statistics.median(times), 1),
                          cpu_ms_per_image=round(statistics.median(cpu), 1))
        results['detectors'][det_name] = row
        print(f'{det_name}: ' + ', '.join(
            f"{k} {v['recall']:.3f}" for k, v in row.items()
            if v.get('recall') is not None) +
              f", FP/image {row['all']['fp_per_image']:.3f}, "
              f"{row['all']['cpu_ms_per_image']:.0f} CPU ms/image",
              flush=True)
    return results


def markdown(results: Dict) -> str:
    """The results as a markdown table (recall in %)."""
    sets = [s for s in SETS if s != 'empty']
    head = ('| detector | ' + ' | '.join(f'recall {s} (%)' for s in sets) +
            ' | FP / image | FP / empty image | CPU ms / image |')
    lines = [head, '|' + ' --- |' + ' ---: |' * (len(sets) + 3)]
    for name, row in results['detectors'].items():
        cells = [
            f"{100 * row[s]['recall']:.1f}" if s in row else '—'
            for s in sets
        ]
        empty = row.get('empty', {}).get('fp_per_image')
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f" | {row['all']['fp_per_image']:.3f} | "
                     f"{'—' if empty is None else f'{empty:.3f}'} | "
                     f"{row['all']['cpu_ms_per_image']:.0f} |")
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    results = run(args)
    print(markdown(results))
    if args.out:
        from kent_mm.utils import atomic_write
        with atomic_write(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
