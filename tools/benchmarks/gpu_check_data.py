"""Data of ``gpu_check.py``: a FER2013 archive unpacked safely, and
synthetic AffectNet + FEC sets in their official layouts for DeepFEVER
(``affectnet/``: ``training.csv``, ``validation.csv``,
``Manually_Annotated_Images/``; ``fec/``:
``faceexp-comparison-data-train-public.csv``, ``crops/``), drawn by
:func:`kent_mm.testing.render_face`.
"""
import os
import os.path as osp
import shutil
import tarfile
from typing import Dict, List

import numpy as np

AFFECTNET_HEADER = ('subDirectory_filePath,face_x,face_y,face_width,'
                    'face_height,facial_landmarks,expression,valence,arousal')
FEC_TRAIN = 'faceexp-comparison-data-train-public.csv'


class UnsafeArchiveError(ValueError):
    """An archive member that would land outside the destination."""


def safe_extract(archive: str, dest: str) -> int:
    """Unpack the regular files and folders of a tar archive into ``dest``.

    Member by member, without ``TarFile.extractall(filter=...)`` (absent
    from some Python builds): absolute names, ``..`` components, links and
    device files are refused before anything is written. The files go to a
    temporary folder renamed to ``dest`` at the end: an interrupted or
    refused extraction leaves no ``dest``.

    Args:
        archive (str): A ``.tar``, ``.tar.gz``, ... file.
        dest (str): Folder to create (must not exist).

    Returns:
        int: The number of files written.

    Raises:
        UnsafeArchiveError: Naming the archive and the member.
    """
    tmp = dest + '.partial'
    shutil.rmtree(tmp, ignore_errors=True)
    count = 0
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                name = member.name.replace('\\', '/')
                parts = [p for p in name.split('/') if p not in ('', '.')]
                bad = (name.startswith('/') or '..' in parts
                       or not (member.isfile() or member.isdir()))
                if bad:
                    kind = 'link or special file' if not (
                        member.isfile() or member.isdir()) else 'path'
                    raise UnsafeArchiveError(
                        f'{archive}: member {member.name!r} refused (unsafe '
                        f'{kind}: only files and folders inside the archive '
                        'root are extracted)')
                target = osp.join(tmp, *parts) if parts else tmp
                if member.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(osp.dirname(target), exist_ok=True)
                with tar.extractfile(member) as src, open(target, 'wb') as f:
                    shutil.copyfileobj(src, f)
                count += 1
        os.rename(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return count


def find_fer2013(path: str) -> str:
    """The FER2013 folder (``train/`` and ``test/`` inside) at or below
    ``path``."""
    for root, dirs, _ in sorted(os.walk(path)):
        if {'train', 'test'} <= set(dirs):
            return root
    raise FileNotFoundError(f'no FER2013 folder (train/, validation/, '
                            f'test/) in {path}')


def _rafdb_code(name: str) -> int:
    """RAF-DB code (what :func:`render_face` draws) of an emotion name."""
    from kent_mm.datasets.emotions import RAFDB_CODES
    return {v: k for k, v in RAFDB_CODES.items()}[name]


def write_affectnet(root: str, per_class: int, val_per_class: int,
                    size: int = 112, seed: int = 0) -> Dict[str, int]:
    """AffectNet-7 in the CSV layout: rendered faces of every class, the
    face box the whole image, valence/arousal a function of the class.

    Returns:
        dict: Rows written per split.
    """
    from kent_mm.datasets.emotions import AFFECTNET_CODES
    from kent_mm.testing import render_face
    rng = np.random.default_rng(seed)
    valence = np.linspace(-0.8, 0.8, 7)
    arousal = np.array([0.6, -0.4, 0.2, -0.7, 0.5, 0.0, -0.2])
    counts = {}
    for csv_name, n, tag in (('training.csv', per_class, 'tr'),
                             ('validation.csv', val_per_class, 'va')):
        lines: List[str] = []
        for code in range(7):
            label = _rafdb_code(AFFECTNET_CODES[code])
            for k in range(n):
                name = f'{code}/{tag}{code}_{k:04d}.jpg'
                path = osp.join(root, 'Manually_Annotated_Images', name)
                os.makedirs(osp.dirname(path), exist_ok=True)
                render_face(label, np.random.default_rng(rng.integers(2**63)),
                            size).save(path, quality=90)
                lines.append(f'{name},0,0,{size},{size},,{code},'
                             f'{valence[code]:.3f},{arousal[code]:.3f}')
        with open(osp.join(root, csv_name), 'w') as f:
            f.write('\n'.join([AFFECTNET_HEADER] + lines) + '\n')
        counts[csv_name] = len(lines)
    return counts


def write_fec(root: str, triplets: int, size: int = 112,
              seed: int = 1) -> int:
    """FEC train triplets of rendered faces: two of one expression, the
    odd one of another (5 of 6 raters name it), types cycling; each face
    is a crop where ``prepare_fec.py`` puts it.

    Returns:
        int: Triplets written.
    """
    from kent_mm.datasets.fec import TRIPLET_TYPES, fec_crop_name
    from kent_mm.testing import render_face
    rng = np.random.default_rng(seed)
    box = (0.0, 1.0, 0.0, 1.0)  # left, right, top, bottom
    lines = []
    for i in range(triplets):
        same, odd = rng.choice(np.arange(1, 8), size=2, replace=False)
        answer = int(rng.integers(1, 4))
        fields = []
        for k in range(1, 4):
            url = f'http://fec.invalid/train/{i}_{k}.jpg'
            crop = osp.join(root, 'crops', fec_crop_name(url, box))
            os.makedirs(osp.dirname(crop), exist_ok=True)
            label = int(odd if k == answer else same)
            render_face(label, np.random.default_rng(rng.integers(2**63)),
                        size).save(crop, quality=90)
            fields += [f'"{url}"'] + [str(v) for v in box]
        fields.append(TRIPLET_TYPES[i % 3])
        votes = [answer] * 5 + [answer % 3 + 1]
        for r, vote in enumerate(votes):
            fields += [f'rater{r}', str(vote)]
        lines.append(','.join(fields))
    with open(osp.join(root, FEC_TRAIN), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)


def write_affectnet_fec(out_dir: str, per_class: int, val_per_class: int,
                        triplets: int, size: int) -> str:
    """``out_dir/affectnet`` (:func:`write_affectnet`) and ``out_dir/fec``
    (:func:`write_fec`), written beside ``out_dir`` and renamed into place:
    an interrupted run leaves no ``out_dir``."""
    tmp = out_dir + '.partial'
    shutil.rmtree(tmp, ignore_errors=True)
    write_affectnet(osp.join(tmp, 'affectnet'), per_class, val_per_class,
                    size)
    write_fec(osp.join(tmp, 'fec'), triplets, size)
    os.rename(tmp, out_dir)
    return out_dir
