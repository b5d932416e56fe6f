"""AffectNet in its official layouts (CSV release and per-image numpy)."""
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmpretrain.registry import DATASETS

from .base import FERDataset
from .emotions import AFFECTNET_CODES, AFFECTNET_EXCLUDED_CODES
from .errors import AnnotationError
from .parsing import (DirListing, check_choice, fixed_classes, list_images,
                      log_drops, parse_float, parse_int, read_csv)


@DATASETS.register_module()
class AffectNet(FERDataset):
    """AffectNet (manually annotated part), read exactly as distributed.

    ``layout='csv'`` (the original release)::

        training.csv        # subDirectory_filePath,face_x,face_y,face_width,
        validation.csv      # face_height,facial_landmarks,expression,
                            # valence,arousal
        Manually_Annotated_Images/689/737db2...jpg

    ``layout='npy'`` (newer release, faces already cropped)::

        train_set/images/0.jpg
        train_set/annotations/0_exp.npy  0_val.npy  0_aro.npy  (0_lnd.npy)
        val_set/...

    Expression codes 0..7 are Neutral, Happiness, Sadness, Surprise, Fear,
    Disgust, Anger, Contempt and become class indices in that order
    (canonical names). ``num_classes=7`` (AffectNet-7) drops the contempt
    rows, ``num_classes=8`` (AffectNet-8) keeps them. Codes 8 (None),
    9 (Uncertain) and 10 (No-Face) are never classes: those rows are dropped
    and counted in ``num_dropped``.

    Each sample also keeps ``valence`` and ``arousal`` (float) and, in the
    CSV layout, ``face_box`` ``[x, y, width, height]`` (int, pixels of the
    original image).

    Splits: ``'train'`` is training.csv / train_set; ``'val'`` and ``'test'``
    are both validation.csv / val_set, the official *test* set (AffectNet
    publishes no separate validation set).

    Class-balanced sampling: wrap the dataset in MMEngine's
    ``ClassBalancedDataset`` (it uses ``get_cat_ids`` of MMPretrain's
    ``BaseDataset``), see ``docs/datasets.md``.

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        num_classes (int): 7 or 8.
        layout (str): ``'csv'`` or ``'npy'``.
        ann_file (str): CSV file relative to ``data_root``; default from the
            split (csv layout only).
        skip_missing_images (bool): Drop (and count as ``missing_image``)
            rows whose image file is absent instead of raising. Off by
            default: a missing image is an error.
        **kwargs: Passed to :class:`FERDataset`; ``data_prefix`` defaults to
            ``Manually_Annotated_Images`` (csv) or the split folder (npy).
    """

    METAINFO = dict(classes=tuple(AFFECTNET_CODES.values()))
    SPLITS = ('train', 'val', 'test')
    LAYOUTS = ('csv', 'npy')
    CSV_FILES = {
        'train': 'training.csv',
        'val': 'validation.csv',
        'test': 'validation.csv'
    }
    NPY_DIRS = {'train': 'train_set', 'val': 'val_set', 'test': 'val_set'}
    COLUMNS = ('subDirectory_filePath', 'face_x', 'face_y', 'face_width',
               'face_height', 'facial_landmarks', 'expression', 'valence',
               'arousal')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_classes: int = 7,
                 layout: str = 'csv',
                 ann_file: Optional[str] = None,
                 skip_missing_images: bool = False,
                 **kwargs) -> None:
        check_choice('AffectNet', 'split', split, self.SPLITS)
        check_choice('AffectNet', 'num_classes', num_classes, (7, 8))
        check_choice('AffectNet', 'layout', layout, self.LAYOUTS)
        self.split = split
        self.num_classes = num_classes
        self.layout = layout
        self.skip_missing_images = skip_missing_images
        self.num_dropped: Dict[str, int] = {}
        if layout == 'csv':
            ann_file = ann_file or self.CSV_FILES[split]
            kwargs.setdefault('data_prefix', 'Manually_Annotated_Images')
        else:
            ann_file = ''
            kwargs.setdefault('data_prefix', self.NPY_DIRS[split])
        kwargs = fixed_classes('AffectNet',
                               self.METAINFO['classes'][:num_classes],
                               kwargs)
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    # ----------------------------------------------------------------- codes
    def _label(self, code: int, dropped: Counter, path: str,
               line: Optional[int]) -> Optional[int]:
        """Class index of an expression code, or None if dropped."""
        if code in AFFECTNET_EXCLUDED_CODES:
            dropped[f'code_{code}_{AFFECTNET_EXCLUDED_CODES[code]}'] += 1
            return None
        if code not in AFFECTNET_CODES:
            raise AnnotationError(f'expression {code} is outside 0..10',
                                  path, line)
        if code >= self.num_classes:  # contempt in AffectNet-7
            dropped['code_7_contempt'] += 1
            return None
        return code

    def _missing(self, img_path: str, dropped: Counter, path: str,
                 line: Optional[int]) -> bool:
        """True if the image is absent and skipped; raise if not allowed."""
        if self.skip_missing_images:
            dropped['missing_image'] += 1
            return True
        raise AnnotationError(f'image {img_path} listed here does not exist',
                              path, line)

    # ------------------------------------------------------------------ load
    def load_data_list(self) -> List[dict]:
        """Parse the split; rows with codes 8-10 (and 7 for AffectNet-7)
        are dropped and counted, malformed rows raise AnnotationError."""
        dropped: Counter = Counter()
        if self.layout == 'csv':
            data_list = self._load_csv(dropped)
        else:
            data_list = self._load_npy(dropped)
        where = self.ann_file if self.layout == 'csv' else \
            self.data_prefix['img_path']
        if not data_list:
            raise AnnotationError(f'no {self.split!r} samples found', where)
        self.num_dropped = log_drops(f'AffectNet-{self.num_classes}',
                                     self.split, len(data_list), dropped)
        return data_list

    def _load_csv(self, dropped: Counter) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'AffectNet image folder {img_dir} does not exist '
                f'(data_root={self.data_root!r}, layout="csv").')
        listing = DirListing()
        path = self.ann_file
        data_list = []
        for line, row in read_csv(path, self.COLUMNS):
            code = parse_int(row['expression'], 'expression', path, line)
            box = [
                parse_int(row[k], k, path, line)
                for k in ('face_x', 'face_y', 'face_width', 'face_height')
            ]
            valence = parse_float(row['valence'], 'valence', path, line)
            arousal = parse_float(row['arousal'], 'arousal', path, line)
            name = row['subDirectory_filePath']
            if not name:
                raise AnnotationError('empty subDirectory_filePath', path,
                                      line)
            label = self._label(code, dropped, path, line)
            if label is None:
                continue
            img_path = osp.join(img_dir, name)
            if not listing.exists(img_path) and self._missing(
                    img_path, dropped, path, line):
                continue
            data_list.append(
                dict(img_path=img_path, gt_label=label, valence=valence,
                     arousal=arousal, face_box=box))
        return data_list

    @staticmethod
    def _read_npy(path: str, field: str) -> str:
        """The single value stored in a per-image ``.npy`` file, as text
        (the release stores strings such as ``'1'`` or ``'0.785714'``)."""
        try:
            value = np.load(path, allow_pickle=False)
        except Exception as e:  # numpy raises EOFError, SyntaxError, ...
            raise AnnotationError(f'cannot read {field} ({type(e).__name__}: '
                                  f'{e})', path) from None
        if value.size != 1:
            raise AnnotationError(
                f'{field} file holds {value.size} values, expected one', path)
        return str(value.reshape(-1)[0])

    def _load_npy(self, dropped: Counter) -> List[dict]:
        root = self.data_prefix['img_path']
        img_dir = osp.join(root, 'images')
        ann_dir = osp.join(root, 'annotations')
        images = {osp.splitext(n)[0]: n for n in list_images(img_dir)}
        if not osp.isdir(ann_dir):
            raise FileNotFoundError(
                f'AffectNet annotation folder {ann_dir} does not exist.')
        ann_names = set(os.listdir(ann_dir))
        stems = sorted({n[:-len('_exp.npy')]
                        for n in ann_names if n.endswith('_exp.npy')},
                       key=_numeric_key)
        orphans = sorted(set(images) - set(stems), key=_numeric_key)
        if orphans:
            # An image without a label would otherwise vanish silently.
            raise AnnotationError(
                f'image has no {orphans[0]}_exp.npy annotation '
                f'({len(orphans)} such image(s))',
                osp.join(img_dir, images[orphans[0]]))
        data_list = []
        for stem in stems:
            values: Dict[str, str] = {}
            for suffix, field in (('exp', 'expression'), ('val', 'valence'),
                                  ('aro', 'arousal')):
                name = f'{stem}_{suffix}.npy'
                if name not in ann_names:
                    raise AnnotationError(
                        f'{field} file {name} is missing for image {stem}',
                        osp.join(ann_dir, f'{stem}_exp.npy'))
                values[field] = self._read_npy(osp.join(ann_dir, name), field)
            exp_file = osp.join(ann_dir, f'{stem}_exp.npy')
            code = parse_int(values['expression'], 'expression', exp_file,
                             None)
            valence = parse_float(values['valence'], 'valence',
                                  osp.join(ann_dir, f'{stem}_val.npy'), None)
            arousal = parse_float(values['arousal'], 'arousal',
                                  osp.join(ann_dir, f'{stem}_aro.npy'), None)
            label = self._label(code, dropped, exp_file, None)
            if label is None:
                continue
            if stem not in images:
                if self._missing(
                        osp.join(img_dir, f'{stem}.jpg'), dropped, exp_file,
                        None):
                    continue
            data_list.append(
                dict(img_path=osp.join(img_dir, images[stem]),
                     gt_label=label, valence=valence, arousal=arousal))
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split}', f'Layout: \t{self.layout}',
            f'Dropped: \t{self.num_dropped}'
        ]


def _numeric_key(stem: str) -> Tuple[int, object]:
    """Sort ``'2' < '10'`` (numeric stems first), other names by text."""
    return (0, int(stem)) if stem.isdigit() else (1, stem)
