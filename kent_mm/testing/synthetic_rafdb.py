"""A synthetic facial-expression set in the official RAF-DB "basic" layout.

The files are laid out exactly like the official release, so the same
dataset class and configs work on both::

    out_dir/
        EmoLabel/list_patition_label.txt     # (sic) "train_00001.jpg 5"
        Image/aligned/train_00001_aligned.jpg

The faces come from :func:`kent_mm.testing.render_face`.
"""
import os
from typing import Callable, List, Optional

import numpy as np

from kent_mm.datasets.emotions import RAFDB_CODES
from kent_mm.utils.fileio import atomic_write
from .synthetic_faces import render_face

LABEL_FILE = os.path.join('EmoLabel', 'list_patition_label.txt')
IMAGE_DIR = os.path.join('Image', 'aligned')


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` label codes with counts differing by at most one, shuffled."""
    labels = np.resize(np.array(sorted(RAFDB_CODES)), n)
    rng.shuffle(labels)
    return labels


def generate_synthetic_rafdb(
        out_dir: str,
        num_train: int = 3000,
        num_test: int = 700,
        image_size: int = 100,
        seed: int = 0,
        overwrite: bool = False,
        progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Write a synthetic RAF-DB "basic" dataset to ``out_dir``.

    Images go to ``out_dir/Image/aligned/{split}_{i:05d}_aligned.jpg`` and the
    label file ``out_dir/EmoLabel/list_patition_label.txt`` (official, sic)
    lists ``{split}_{i:05d}.jpg LABEL`` for the train split and then the test
    split. Output is deterministic: the same arguments give byte-identical
    files.

    The label file is written last and atomically, so an interrupted run
    never leaves a label file that points at missing images. With
    ``overwrite=True`` an existing label file is removed *before* any image
    is rewritten, for the same reason.

    Args:
        out_dir: Dataset root to create.
        num_train: Number of training images.
        num_test: Number of test images.
        image_size: Side length of the square images in pixels.
        seed: Seed of :func:`numpy.random.default_rng`.
        overwrite: Replace an existing dataset in ``out_dir``.
        progress: Optional callback ``progress(done, total)`` called after
            each image.

    Returns:
        ``{'train': {'total': N, 'per_label': {1: n1, ..., 7: n7}},
        'test': {...}, 'out_dir': out_dir, 'label_file': path}``.

    Raises:
        FileExistsError: If the label file exists and ``overwrite`` is False.
        ValueError: If a count is negative or ``image_size`` is too small.
    """
    if num_train < 0 or num_test < 0:
        raise ValueError('num_train and num_test must be >= 0')
    if image_size < 16:
        raise ValueError(f'image_size must be >= 16, got {image_size}')
    label_path = os.path.join(out_dir, LABEL_FILE)
    if os.path.exists(label_path):
        if not overwrite:
            raise FileExistsError(
                f'{label_path} already exists; pass overwrite=True '
                '(--overwrite) to regenerate the dataset')
        os.remove(label_path)
    image_dir = os.path.join(out_dir, IMAGE_DIR)
    os.makedirs(image_dir, exist_ok=True)

    rng = np.random.default_rng(seed)
    splits = [('train', _balanced_labels(num_train, rng)),
              ('test', _balanced_labels(num_test, rng))]
    total = num_train + num_test
    # One independent child seed per image: the image content does not depend
    # on how much randomness earlier images consumed.
    image_seeds = rng.integers(0, 2**63, size=max(total, 1))

    lines: List[str] = []
    summary: dict = {'out_dir': out_dir, 'label_file': label_path}
    done = 0
    for split, labels in splits:
        per_label = {k: 0 for k in RAFDB_CODES}
        for i, label in enumerate(labels, start=1):
            label = int(label)
            stem = f'{split}_{i:05d}'
            img = render_face(label, np.random.default_rng(image_seeds[done]),
                              image_size)
            img.save(os.path.join(image_dir, f'{stem}_aligned.jpg'),
                     format='JPEG', quality=90)
            lines.append(f'{stem}.jpg {label}\n')
            per_label[label] += 1
            done += 1
            if progress is not None:
                progress(done, total)
        summary[split] = {'total': len(labels), 'per_label': per_label}

    with atomic_write(label_path, 'w') as f:
        f.writelines(lines)
    # The temporary file was private (0600): give the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(label_path, 0o666 & ~umask)
    return summary
