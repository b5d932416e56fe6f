"""Facial expression recognition on photos, folders and videos.

Every face is found (MTCNN from ``facenet-pytorch``, weights inside its
wheel; a frontal-face cascade bundled with OpenCV 4.x or scikit-image where
it is missing), cut out with a margin, turned upright from its eye landmarks
and classified by the model's own test pipeline (grey models, e.g. FER2013,
get grey crops): ``kent_mm.apis.FaceExpressionInferencer``, the path that
``tools/demo/web_demo.py`` shares. Writes ``<out-dir>/<name>.png`` (or
``.mp4`` for a video) with boxes, ``#n class score`` captions (``*``: a face
smaller than the model input, classified from an upsampled crop) and
``<out-dir>/<name>.json`` per input, and ``<out-dir>/faces.csv`` (one line
per face, all class probabilities).

Examples::

    python tools/demo/fer_demo.py photo.jpg          # best shipped model
    python tools/demo/fer_demo.py photos/ kent_resnet18_fer2013-112px-minilm \\
        --checkpoint my_finetuned.pth
    python tools/demo/fer_demo.py clip.mp4 configs/kent_resnet18_rafdb.py \\
        --checkpoint epoch_50.pth --out-dir demo_out

No face in an input: a message says so, the JSON lists no faces and the
exit code is 0. No model given and none ships with kent_mm: a message says
what to pass, exit code 2.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List

import cv2

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Facial expression recognition demo')
    parser.add_argument('input', help='image, folder of images or video')
    parser.add_argument(
        'model', nargs='?', default=None,
        help='config file or model-zoo name (default: the best kent_mm '
        'FER2013 model whose weights ship with the code)')
    parser.add_argument(
        '--model', dest='model_opt', metavar='NAME',
        help='same as the MODEL argument')
    parser.add_argument(
        '--checkpoint', '--pretrained', dest='checkpoint',
        help='checkpoint file (needed with a config file, or a zoo model '
        'whose weights do not ship)')
    parser.add_argument(
        '--out-dir', default='demo_out', help='where results are written')
    parser.add_argument(
        '--detector',
        choices=['auto', 'mtcnn', 'opencv-haar', 'skimage-lbp'],
        default='auto',
        help='face detector (auto: MTCNN if facenet-pytorch is installed, '
        'else a bundled cascade)')
    parser.add_argument(
        '--margin', type=float, default=0.2,
        help='crop margin, fraction of the face size on each side')
    parser.add_argument(
        '--min-face', type=int, default=24,
        help='smallest face side in pixels (after scaling the picture to '
        '640 px on its longer side)')
    parser.add_argument(
        '--gray', choices=['auto', 'on', 'off'], default='auto',
        help='grey crops (auto: when the model was trained on a grey '
        'dataset such as FER2013)')
    parser.add_argument(
        '--frame-interval', type=int, default=1,
        help='video: detect and classify every N-th frame (boxes are kept '
        'in between)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    return parser.parse_args(argv)


# ------------------------------------------------------------------- io
def _write_json(path: str, obj) -> None:
    from kent_mm.utils import atomic_write
    with atomic_write(path, 'w') as f:
        json.dump(obj, f, indent=2)


def run_image(path: str, recognizer, out_dir: str, rows: list) -> int:
    from kent_mm.apis.face_inference import draw_faces
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        print(f'{path}: not a readable image, skipped.')
        return 0
    faces = recognizer(img)
    stem = osp.splitext(osp.basename(path))[0]
    out_img = osp.join(out_dir, stem + '.png')
    cv2.imwrite(out_img, draw_faces(img, faces))
    _write_json(osp.join(out_dir, stem + '.json'),
                dict(input=path, output=out_img, faces=faces))
    rows.append((osp.basename(path), None, faces))
    if faces:
        summary = ', '.join(f"{f['label']} ({f['score']:.2f})"
                            for f in faces)
        print(f'{path}: {len(faces)} face(s): {summary} -> {out_img}')
    else:
        print(f'{path}: no face found (nothing to classify) -> {out_img}')
    return len(faces)


def run_video(path: str, recognizer, out_dir: str, rows: list,
              frame_interval: int = 1) -> int:
    from kent_mm.apis.face_inference import draw_faces
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        print(f'{path}: cannot open the video, skipped.')
        return 0
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.
    stem = osp.splitext(osp.basename(path))[0]
    out_video = osp.join(out_dir, stem + '.mp4')
    writer = None
    frames, faces, total = [], [], 0
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % max(1, frame_interval) == 0:
            faces = recognizer(frame)
            frames.append(dict(frame=index, faces=faces))
            rows.append((osp.basename(path), index, faces))
            total += len(faces)
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(out_video,
                                     cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                     (w, h))
        writer.write(draw_faces(frame, faces))
        index += 1
    cap.release()
    if writer is not None:
        writer.release()
    _write_json(osp.join(out_dir, stem + '.json'),
                dict(input=path, output=out_video, fps=fps, frames=frames))
    if total:
        print(f'{path}: {index} frames, {total} face detection(s) -> '
              f'{out_video}')
    else:
        print(f'{path}: no face found in {index} frames -> {out_video}')
    return total


def collect_inputs(path: str) -> List[str]:
    if osp.isdir(path):
        return sorted(
            osp.join(path, f) for f in os.listdir(path)
            if f.lower().endswith(IMAGE_EXTS + VIDEO_EXTS))
    if not osp.exists(path):
        raise FileNotFoundError(f'No such file or folder: {path}')
    return [path]


def main(argv=None):
    args = parse_args(argv)
    from kent_mm.apis.face_detection import build_face_detector
    from kent_mm.apis.face_inference import (FaceExpressionInferencer,
                                             faces_csv, resolve_model)
    if args.model and args.model_opt and args.model != args.model_opt:
        print('Give the model once: as MODEL or as --model.')
        return 2
    try:
        model, pretrained = resolve_model(args.model or args.model_opt,
                                          args.checkpoint)
    except FileNotFoundError as e:
        print(f'No model to run: {e}')
        return 2
    inputs = collect_inputs(args.input)
    if not inputs:
        print(f'{args.input}: no images or videos found.')
        return 0
    detector = build_face_detector(args.detector, min_face=args.min_face)
    recognizer = FaceExpressionInferencer(model, pretrained, detector,
                                          args.margin, args.gray, args.device)
    print(f'Model: {model}; face detector: {detector.name}; grey crops: '
          f'{recognizer.gray}')
    os.makedirs(args.out_dir, exist_ok=True)
    total, rows = 0, []
    for path in inputs:
        if path.lower().endswith(VIDEO_EXTS):
            total += run_video(path, recognizer, args.out_dir, rows,
                               args.frame_interval)
        else:
            total += run_image(path, recognizer, args.out_dir, rows)
    from kent_mm.utils import atomic_write
    with atomic_write(osp.join(args.out_dir, 'faces.csv'), 'w') as f:
        f.write(faces_csv(rows, recognizer.classes))
    if total == 0:
        print('No faces found: no expression predicted. Try a larger or '
              'more frontal face, or a lower --min-face.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
