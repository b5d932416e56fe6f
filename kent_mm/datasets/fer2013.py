"""FER2013: the original ``fer2013.csv`` and the common folder layout."""
import os
import os.path as osp
from collections import Counter
from typing import Dict, List

import numpy as np
from mmpretrain.registry import DATASETS

from .base import FERDataset
from .emotions import FER2013_CODES, FER2013_FOLDERS
from .errors import AnnotationError
from .parsing import (IMAGE_EXTENSIONS, check_choice, fixed_classes,
                      log_drops, parse_int, read_csv)

FER2013_SIZE = 48


def decode_fer_pixels(text: str, size: int = FER2013_SIZE) -> np.ndarray:
    """Decode a ``pixels`` field of ``fer2013.csv``.

    Args:
        text (str): ``size * size`` space-separated grey values 0..255.
        size (int): Image side.

    Returns:
        np.ndarray: ``(size, size)`` uint8 image.

    Raises:
        ValueError: Wrong count, non-integer or out-of-range values.
    """
    parts = text.split()
    if len(parts) != size * size:
        raise ValueError(f'expected {size * size} pixel values ({size}x'
                         f'{size}), got {len(parts)}')
    try:
        values = np.array(parts, dtype=np.int32)
    except ValueError:
        bad = next(p for p in parts if not p.lstrip('-').isdigit())
        raise ValueError(f'pixel value {bad!r} is not an integer') from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError('pixel values must lie in 0..255, got '
                         f'{values.min()}..{values.max()}')
    return values.astype(np.uint8).reshape(size, size)


@DATASETS.register_module()
class FER2013(FERDataset):
    """FER2013 (ICML 2013 challenge), 48x48 grey faces.

    ``layout='csv'``: the original challenge file (``data_root``)::

        fer2013.csv     # emotion,pixels,Usage

    Pixels are decoded once into ``img`` (uint8 ``(48, 48)``) in each
    sample; ``LoadFERImage`` uses them as they are (grey -> 3 channels).

    ``layout='folder'``: the widespread folder copy::

        train/<class>/*.jpg         # Usage Training    (28,709)
        validation/<class>/*.jpg    # Usage PublicTest  (3,589)
        test/<class>/*.jpg          # Usage PrivateTest (3,589)

    with class folders angry, disgust, fear, happy, neutral, sad, surprise.

    Classes follow the official code order 0..6 (Angry, Disgust, Fear,
    Happy, Sad, Surprise, Neutral) with canonical names. Nothing is dropped
    (non-image files in class folders are counted and reported).

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` (PublicTest / validation) or
            ``'test'`` (PrivateTest / test).
        layout (str): ``'folder'`` or ``'csv'``.
        ann_file (str): CSV file relative to ``data_root`` (csv layout).
        **kwargs: Passed to :class:`FERDataset`.
    """

    METAINFO = dict(classes=tuple(FER2013_CODES.values()))
    SPLITS = ('train', 'val', 'test')
    LAYOUTS = ('folder', 'csv')
    USAGES = {'train': 'Training', 'val': 'PublicTest', 'test': 'PrivateTest'}
    FOLDERS = {'train': 'train', 'val': 'validation', 'test': 'test'}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 layout: str = 'folder',
                 ann_file: str = 'fer2013.csv',
                 **kwargs) -> None:
        check_choice('FER2013', 'split', split, self.SPLITS)
        check_choice('FER2013', 'layout', layout, self.LAYOUTS)
        self.split = split
        self.layout = layout
        self.num_dropped: Dict[str, int] = {}
        if layout == 'folder':
            ann_file = ''
            kwargs.setdefault('data_prefix', self.FOLDERS[split])
        kwargs = fixed_classes('FER2013', self.METAINFO['classes'], kwargs)
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the split from the CSV or from the class folders."""
        if self.layout == 'csv':
            return self._load_csv()
        return self._load_folders()

    def _load_csv(self) -> List[dict]:
        path = self.ann_file
        usage = self.USAGES[self.split]
        usages = set(self.USAGES.values())
        num_classes = len(FER2013_CODES)
        data_list = []
        for line, row in read_csv(path, ('emotion', 'pixels', 'Usage')):
            code = parse_int(row['emotion'], 'emotion', path, line)
            if not 0 <= code < num_classes:
                raise AnnotationError(
                    f'emotion {code} is outside 0..{num_classes - 1}', path,
                    line)
            if row['Usage'] not in usages:
                raise AnnotationError(
                    f'Usage {row["Usage"]!r} is not one of {sorted(usages)}',
                    path, line)
            # Decoding costs most of the time: only this split's rows.
            if row['Usage'] != usage:
                continue
            try:
                img = decode_fer_pixels(row['pixels'])
            except ValueError as e:
                raise AnnotationError(f'pixels: {e}', path, line) from None
            data_list.append(dict(img=img, gt_label=code))
        if not data_list:
            raise AnnotationError(f'no {self.split!r} ({usage}) samples found',
                                  path)
        self.num_dropped = log_drops('FER2013', self.split, len(data_list),
                                     Counter())
        return data_list

    def _load_folders(self) -> List[dict]:
        split_dir = self.data_prefix['img_path']
        if not osp.isdir(split_dir):
            raise FileNotFoundError(
                f'FER2013 split folder {split_dir} does not exist (layout='
                f'"folder", data_root={self.data_root!r}).')
        classes = self.METAINFO['classes']
        folders = {n for n in os.listdir(split_dir)
                   if osp.isdir(osp.join(split_dir, n))}
        unknown = sorted(folders - set(FER2013_FOLDERS))
        if unknown:
            raise AnnotationError(
                f'unknown class folder(s) {unknown}; expected '
                f'{sorted(FER2013_FOLDERS)}', split_dir)
        missing = sorted(set(FER2013_FOLDERS) - folders)
        if missing:
            raise AnnotationError(f'missing class folder(s) {missing}',
                                  split_dir)
        dropped: Counter = Counter()
        data_list = []
        for folder, name in sorted(FER2013_FOLDERS.items(),
                                   key=lambda kv: classes.index(kv[1])):
            class_dir = osp.join(split_dir, folder)
            for fname in sorted(os.listdir(class_dir)):
                if fname.startswith('.'):
                    continue  # .DS_Store and the like are never samples
                if not fname.lower().endswith(IMAGE_EXTENSIONS):
                    dropped['non_image_file'] += 1
                    continue
                data_list.append(
                    dict(img_path=osp.join(class_dir, fname),
                         gt_label=classes.index(name)))
        if not data_list:
            raise AnnotationError(f'no {self.split!r} images found',
                                  split_dir)
        self.num_dropped = log_drops('FER2013', self.split, len(data_list),
                                     dropped)
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Layout: \t{self.layout}']
