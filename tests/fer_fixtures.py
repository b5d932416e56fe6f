"""Tiny FER datasets written in the official formats (file names, columns,
codes as the real downloads), with small real JPEG/PNG files: RAF-DB,
AffectNet, FERPlus, FER2013, CK+, FEC, and learnable sets for the DeepFEVER
tests."""
import glob
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence

import numpy as np
from PIL import Image

from kent_mm.datasets import TRIPLET_TYPES

AFFECTNET_HEADER = ('subDirectory_filePath,face_x,face_y,face_width,'
                    'face_height,facial_landmarks,expression,valence,arousal')
FERPLUS_HEADER = ('Usage,Image name,neutral,happiness,surprise,sadness,'
                  'anger,disgust,fear,contempt,unknown,NF')
FER2013_HEADER = 'emotion,pixels,Usage'


def save_image(path: str, size: int = 16, grey: bool = False,
               seed: int = 0) -> str:
    """A small real image (JPEG or PNG from the extension)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size, size) if grey else (size, size, 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def write_lines(path: str, header: Optional[str], lines: Iterable[str]) -> str:
    """A text file: optional header, then one line per entry."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        if header is not None:
            f.write(header + '\n')
        for line in lines:
            f.write(line + '\n')
    return path


# ---------------------------------------------------------------------- RAF-DB
RAFDB_LABELS = 'list_patition_label.txt'


def write_rafdb(root: str, lines: Optional[Sequence[str]] = None,
                num_train: int = 8, num_test: int = 4, size: int = 32,
                image_type: str = 'aligned', skip: Sequence[str] = ()) -> str:
    """``EmoLabel/list_patition_label.txt`` + ``Image/<image_type>/``.

    ``lines`` (``'<name> <code>'``) default to ``num_train`` train then
    ``num_test`` test images with codes cycling 1..7; every listed image
    but those named in ``skip`` is written (random pixels, ``size``).
    """
    root = str(root)
    if lines is None:
        lines = [f'{split}_{i:05d}.jpg {(i - 1) % 7 + 1}'
                 for split, num in (('train', num_train), ('test', num_test))
                 for i in range(1, num + 1)]
    write_lines(osp.join(root, 'EmoLabel', RAFDB_LABELS), None, lines)
    for k, line in enumerate(lines):
        name = line.split()[0] if line.split() else ''
        if not name or name in skip:
            continue
        stem = osp.splitext(name)[0]
        fname = f'{stem}_aligned.jpg' if image_type == 'aligned' else name
        save_image(osp.join(root, 'Image', image_type, fname), size=size,
                   seed=k)
    return root


def rafdb_images(root: str, split: str) -> List[str]:
    """Aligned image paths of a split, in file-name order."""
    return sorted(glob.glob(osp.join(str(root), 'Image', 'aligned',
                                     f'{split}_*_aligned.jpg')))


# ------------------------------------------------------------------ AffectNet
def affectnet_line(name: str, code, valence='0.5', arousal='-0.25',
                   box=(2, 3, 10, 11)) -> str:
    """One row of training.csv / validation.csv."""
    x, y, w, h = box
    landmarks = '3.5;4.5;9.0;4.5;6.0;10.0'
    return f'{name},{x},{y},{w},{h},{landmarks},{code},{valence},{arousal}'


#: (relative path, code) of the default fixture: every code 0..10 in train.
AFFECTNET_TRAIN = [(f'{1 + i % 2}/img{i:03d}.jpg', code)
                   for i, code in enumerate(
                       [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 7])]
AFFECTNET_VAL = [(f'3/val{i:03d}.jpg', code) for i, code in enumerate(
    [0, 1, 2, 3, 4, 5, 6, 7, 9])]


def write_affectnet(root: str,
                    train: Sequence = AFFECTNET_TRAIN,
                    val: Sequence = AFFECTNET_VAL,
                    train_lines: Optional[List[str]] = None,
                    header: str = AFFECTNET_HEADER,
                    skip_images: Sequence[str] = ()) -> str:
    """AffectNet CSV layout; ``train_lines`` replaces the train rows."""
    root = str(root)
    if train_lines is None:
        train_lines = [affectnet_line(n, c, valence=f'{0.1 * c:.2f}',
                                      arousal=f'{-0.05 * c:.2f}')
                       for n, c in train]
    write_lines(osp.join(root, 'training.csv'), header, train_lines)
    write_lines(osp.join(root, 'validation.csv'), AFFECTNET_HEADER,
                [affectnet_line(n, c) for n, c in val])
    for i, (name, _) in enumerate(list(train) + list(val)):
        if name not in skip_images:
            save_image(osp.join(root, 'Manually_Annotated_Images', name),
                       seed=i)
    return root


def write_affectnet_npy(root: str, codes=(0, 1, 2, 3, 4, 5, 6, 7, 8, 0),
                        val_codes=(0, 1, 2, 3, 4, 5, 6, 7)) -> str:
    """Per-image numpy release: ``N_exp.npy`` etc. store strings."""
    root = str(root)
    for folder, split_codes in (('train_set', codes), ('val_set', val_codes)):
        for n, code in enumerate(split_codes):
            save_image(osp.join(root, folder, 'images', f'{n}.jpg'), seed=n)
            ann = osp.join(root, folder, 'annotations')
            os.makedirs(ann, exist_ok=True)
            np.save(osp.join(ann, f'{n}_exp.npy'), np.array(str(code)))
            np.save(osp.join(ann, f'{n}_val.npy'), np.array(f'{0.1 * n:.3f}'))
            np.save(osp.join(ann, f'{n}_aro.npy'), np.array(f'{-0.1 * n:.3f}'))
            np.save(osp.join(ann, f'{n}_lnd.npy'),
                    np.zeros(136, dtype=np.float64))
    return root


# --------------------------------------------------------------------- FERPlus
#: (Usage, image name, 10 votes) of the default fixture.
FERPLUS_ROWS = [
    ('Training', 'fer0000000.png', (4, 0, 0, 1, 3, 2, 0, 0, 0, 0)),  # no maj.
    ('Training', 'fer0000001.png', (6, 0, 1, 1, 0, 0, 0, 0, 2, 0)),  # neutral
    ('Training', 'fer0000002.png', (0, 10, 0, 0, 0, 0, 0, 0, 0, 0)),  # happy
    ('Training', '', (0, 0, 0, 0, 0, 0, 0, 0, 0, 10)),  # not a face
    ('Training', 'fer0000004.png', (0, 0, 6, 0, 0, 0, 4, 0, 0, 0)),  # surpr.
    ('Training', 'fer0000005.png', (1, 0, 0, 0, 0, 0, 0, 0, 9, 0)),  # unknown
    ('Training', 'fer0000006.png', (0, 0, 0, 2, 8, 0, 0, 0, 0, 0)),  # anger
    ('Training', 'fer0000007.png', (0, 0, 0, 0, 0, 1, 0, 9, 0, 0)),  # contem.
    ('Training', 'fer0000008.png', (0, 0, 0, 7, 0, 0, 0, 0, 1, 2)),  # sad
    ('Training', 'fer0000009.png', (1, 0, 0, 0, 0, 8, 1, 0, 0, 0)),  # disgust
    ('Training', 'fer0000010.png', (0, 0, 2, 0, 0, 0, 8, 0, 0, 0)),  # fear
    ('PublicTest', 'fer0000011.png', (10, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    ('PublicTest', 'fer0000012.png', (0, 9, 1, 0, 0, 0, 0, 0, 0, 0)),
    ('PublicTest', '', (0, 0, 0, 0, 0, 0, 0, 0, 0, 10)),
    ('PrivateTest', 'fer0000014.png', (0, 0, 0, 0, 10, 0, 0, 0, 0, 0)),
    ('PrivateTest', 'fer0000015.png', (0, 0, 0, 0, 0, 0, 0, 10, 0, 0)),
    ('PrivateTest', 'fer0000016.png', (2, 0, 0, 0, 0, 0, 0, 0, 0, 8)),  # NF
]
FERPLUS_FOLDERS = {
    'Training': 'FER2013Train',
    'PublicTest': 'FER2013Valid',
    'PrivateTest': 'FER2013Test'
}


def ferplus_line(usage: str, name: str, votes: Sequence) -> str:
    return ','.join([usage, name] + [str(v) for v in votes])


def write_ferplus(root: str, rows: Sequence = FERPLUS_ROWS,
                  lines: Optional[List[str]] = None,
                  header: str = FERPLUS_HEADER,
                  skip_images: Sequence[str] = ()) -> str:
    """fer2013new.csv + FER2013Train|Valid|Test PNGs (48x48 grey)."""
    root = str(root)
    if lines is None:
        lines = [ferplus_line(*r) for r in rows]
    write_lines(osp.join(root, 'fer2013new.csv'), header, lines)
    for i, (usage, name, _) in enumerate(rows):
        if name and name not in skip_images:
            save_image(osp.join(root, FERPLUS_FOLDERS[usage], name), size=48,
                       grey=True, seed=i)
    return root


# --------------------------------------------------------------------- FER2013
def fer2013_pixels(seed: int, count: int = 2304) -> str:
    rng = np.random.default_rng(seed)
    return ' '.join(str(v) for v in rng.integers(0, 256, count))


#: (emotion code, Usage) of the default fer2013.csv fixture.
FER2013_ROWS = [(0, 'Training'), (3, 'Training'), (6, 'Training'),
                (1, 'Training'), (4, 'Training'), (2, 'PublicTest'),
                (5, 'PublicTest'), (3, 'PrivateTest'), (6, 'PrivateTest')]


def write_fer2013_csv(root: str, rows: Sequence = FER2013_ROWS,
                      lines: Optional[List[str]] = None,
                      header: str = FER2013_HEADER) -> str:
    """The original challenge file ``fer2013.csv``."""
    root = str(root)
    if lines is None:
        lines = [f'{code},{fer2013_pixels(i)},{usage}'
                 for i, (code, usage) in enumerate(rows)]
    write_lines(osp.join(root, 'fer2013.csv'), header, lines)
    return root


FER2013_CLASS_FOLDERS = ('angry', 'disgust', 'fear', 'happy', 'sad',
                         'surprise', 'neutral')


def write_fer2013_folders(root: str, per_class=(2, 1, 1),
                          prefix=('Training', 'PublicTest',
                                  'PrivateTest')) -> str:
    """``train|validation|test/<class>/<Usage>_<id>.jpg`` (48x48 grey)."""
    root = str(root)
    for split, n, usage in zip(('train', 'validation', 'test'), per_class,
                               prefix):
        for c, folder in enumerate(FER2013_CLASS_FOLDERS):
            for k in range(n):
                save_image(osp.join(root, split, folder,
                                    f'{usage}_{1000 * c + k}.jpg'), size=48,
                           grey=True, seed=c * 10 + k)
    return root


# ------------------------------------------------------------------------ CK+
def ckplus_subjects(num_subjects: int = 12) -> List[str]:
    return [f'S{5 * (i + 1):03d}' for i in range(num_subjects)]


def write_ckplus(root: str, num_subjects: int = 12, frames: int = 5,
                 label_text: Optional[dict] = None) -> str:
    """CK+ layout: per subject two sequences, the first labelled.

    Codes cycle through 1..7 over subjects; subject i's labelled sequence
    ``001`` has ``frames`` PNG frames, its label file names the last one;
    sequence ``002`` has no emotion file (unlabelled). ``label_text``
    maps ``(subject, sequence)`` to a replacement file content.
    """
    root = str(root)
    label_text = label_text or {}
    for i, subject in enumerate(ckplus_subjects(num_subjects)):
        code = 1 + i % 7
        for seq in ('001', '002'):
            img_dir = osp.join(root, 'cohn-kanade-images', subject, seq)
            for f in range(1, frames + 1):
                save_image(osp.join(img_dir,
                                    f'{subject}_{seq}_{f:08d}.png'),
                           size=8, grey=True, seed=f)
            label_dir = osp.join(root, 'Emotion', subject, seq)
            os.makedirs(label_dir, exist_ok=True)
            if seq == '001':
                text = label_text.get((subject, seq),
                                      f'   {code:.7e}\n')
                with open(osp.join(label_dir, f'{subject}_{seq}_'
                                   f'{frames:08d}_emotion.txt'), 'w') as fh:
                    fh.write(text)
    return root


# ------------------------------------------------------------------------ FEC
FEC_TRAIN = 'faceexp-comparison-data-train-public.csv'
FEC_TEST = 'faceexp-comparison-data-test-public.csv'
DEFAULT_BOX = (0.1, 0.9, 0.2, 0.8)

#: Seven distinct colours: the learnable "expression" of a fixture image.
COLOURS = np.array([[220, 40, 40], [40, 200, 40], [40, 40, 220],
                    [220, 220, 40], [220, 40, 220], [40, 220, 220],
                    [128, 128, 128]], dtype=np.float64)


def fec_line(urls: Sequence[str], answers: Sequence, ttype='ONE_CLASS_TRIPLET',
             boxes: Optional[Sequence] = None, quote: bool = True) -> str:
    """One official FEC row: 3 x (URL, 4 box values), type, (id, answer)*."""
    boxes = boxes or [DEFAULT_BOX] * 3
    fields = []
    for url, box in zip(urls, boxes):
        fields.append(f'"{url}"' if quote else url)
        fields += [str(v) for v in box]
    fields.append(ttype)
    for i, a in enumerate(answers):
        fields += [f'rater{i}', str(a)]
    return ','.join(fields)


def colour_image(path: str, cls: int, size: int = 32, seed: int = 0,
                 noise: float = 20.) -> str:
    """An image of class colour ``cls`` plus noise."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    img = COLOURS[cls] + rng.normal(0, noise, (size, size, 3))
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def pattern_image(path: str, cls: int, size: int = 32, seed: int = 0) -> str:
    """Class ``cls`` = position of a bright square (3x3 grid) on a random
    background colour: colour, which dominates untrained features, says
    nothing about the class."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 160, 3) + rng.normal(0, 10, (size, size, 3))
    cell = size // 3
    r, c = divmod(cls % 9, 3)
    img[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = 255
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def write_fec_crops(root: str, lines: List[str], name: str = FEC_TRAIN,
                    classes: Optional[dict] = None, size: int = 32,
                    painter=colour_image) -> str:
    """Write ``lines`` as an FEC CSV and a crop for every (URL, box) of
    them, where ``prepare_fec.py`` would put it. ``classes`` maps a URL to
    its colour class (default: a hash of the URL)."""
    from kent_mm.datasets.fec import fec_crop_name, load_fec_csv
    root = str(root)
    path = write_lines(osp.join(root, name), None, lines)
    for k, row in enumerate(load_fec_csv(path)):
        for j, (url, box) in enumerate(zip(row.urls, row.boxes)):
            crop = osp.join(root, 'crops', fec_crop_name(url, box))
            if not osp.isfile(crop):
                cls = (classes or {}).get(url, abs(hash(url)) % 7)
                painter(crop, cls, size=size, seed=3 * k + j)
    return path


def learnable_fec(root: str, num: int = 60, seed: int = 0,
                  name: str = FEC_TRAIN) -> str:
    """Triplets of colour images: two of one class, the odd one of another
    (the majority answer, 5 of 6 votes); types cycle. The class is the
    position of a bright square, not the colour (see :func:`pattern_image`),
    so that untrained features do not already solve the triplets."""
    rng = np.random.default_rng(seed)
    lines, classes = [], {}
    for i in range(num):
        c, d = rng.choice(7, size=2, replace=False)
        answer = int(rng.integers(1, 4))
        urls = [f'http://fec.example/{name[:-4]}/{i}_{k}.jpg'
                for k in range(3)]
        for k, url in enumerate(urls):
            classes[url] = int(d) if k + 1 == answer else int(c)
        other = answer % 3 + 1
        lines.append(fec_line(urls, [answer] * 5 + [other],
                              TRIPLET_TYPES[i % 3]))
    return write_fec_crops(root, lines, name=name, classes=classes,
                           painter=pattern_image)


#: Valence / arousal of each colour class (a learnable function of it).
VALENCE = np.linspace(-0.8, 0.8, 7)
AROUSAL = np.array([0.6, -0.4, 0.2, -0.7, 0.5, 0.0, -0.2])


def learnable_affectnet(root: str, per_class: int = 8,
                        val_per_class: int = 2) -> str:
    """AffectNet CSV layout, class = colour, V/A = function of the class."""
    root = str(root)
    for csv_name, n, tag in (('training.csv', per_class, 'tr'),
                             ('validation.csv', val_per_class, 'va')):
        lines = []
        for c in range(7):
            for k in range(n):
                name = f'{c}/{tag}{c}_{k}.jpg'
                colour_image(osp.join(root, 'Manually_Annotated_Images',
                                      name), c, seed=100 * c + k)
                lines.append(
                    affectnet_line(name, c, valence=f'{VALENCE[c]:.3f}',
                                   arousal=f'{AROUSAL[c]:.3f}',
                                   box=(0, 0, 32, 32)))
        write_lines(osp.join(root, csv_name), AFFECTNET_HEADER, lines)
    return root
