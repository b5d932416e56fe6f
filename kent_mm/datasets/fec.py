"""Google Facial Expression Comparison (FEC) triplets.

FEC (Vemulapalli & Agarwala, CVPR 2019) ships two CSV files without header,
``faceexp-comparison-data-{train,test}-public.csv``. Each row is one
triplet::

    URL1, x1, x2, y1, y2, URL2, x1, x2, y1, y2, URL3, x1, x2, y1, y2,
    TRIPLET_TYPE, annotator_id, answer, annotator_id, answer, ...

with the face box of each image as normalised ``top-left column,
bottom-right column, top-left row, bottom-right row`` (i.e. left, right,
top, bottom, as fractions of width / height), the triplet type
``ONE_CLASS_TRIPLET`` / ``TWO_CLASS_TRIPLET`` / ``THREE_CLASS_TRIPLET``, and
(usually six) pairs of annotator id and answer, the answer ``1``, ``2`` or
``3`` naming the image whose expression is *most different*.

Images are not distributed: ``tools/dataset_converters/prepare_fec.py``
downloads them and writes one face crop per (URL, box) to
``<data_root>/crops/<crop_name(url, box)>`` (see :func:`fec_crop_name`); the
:class:`FEC` dataset reads those crops.
"""
import csv
import hashlib
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mmpretrain.registry import DATASETS

from .base import FERDataset
from .errors import AnnotationError
from .parsing import DirListing, check_choice, log_drops
from .triplets import TRIPLET_TYPES, TripletCompose
#: Official file names per split (FEC has no validation split).
FEC_FILES = {
    'train': 'faceexp-comparison-data-train-public.csv',
    'test': 'faceexp-comparison-data-test-public.csv',
}
#: Accepted values of ``on_tie``.
TIE_RULES = ('drop', 'lowest')

_NUM_FIXED = 16  # 3 x (URL + 4 box values) + triplet type


@dataclass
class FECRow:
    """One parsed row of an FEC CSV file.

    Attributes:
        line (int): 1-based line number in the file.
        urls (list[str]): The three image URLs.
        boxes (list[tuple[float]]): Per image ``(left, right, top, bottom)``,
            normalised to [0, 1].
        triplet_type (int): Index into :data:`TRIPLET_TYPES`.
        annotations (list[tuple[str, int]]): ``(annotator id, answer)``.
        votes (tuple[int]): Votes for image 1, 2 and 3.
    """
    line: int
    urls: List[str]
    boxes: List[Tuple[float, float, float, float]]
    triplet_type: int
    annotations: List[Tuple[str, int]] = field(default_factory=list)
    votes: Tuple[int, int, int] = (0, 0, 0)

    def majority(self, on_tie: str = 'drop') -> Optional[int]:
        """The answer (1, 2 or 3) most annotators gave.

        Tie rule: when several answers share the highest vote count there is
        no majority; ``on_tie='drop'`` returns None (the triplet is not
        used), ``on_tie='lowest'`` returns the lowest of the tied answers.
        """
        top = max(self.votes)
        tied = [k + 1 for k, v in enumerate(self.votes) if v == top]
        if len(tied) == 1 or on_tie == 'lowest':
            return tied[0]
        return None


def fec_crop_name(url: str, box: Sequence[float], ext: str = '.jpg') -> str:
    """File name (relative to the crop folder) of one face crop.

    ``<h[:2]>/<h>.jpg`` with ``h`` the first 20 hex digits of
    ``sha1(url + box)``: one file per distinct face (the same photo can hold
    several boxes), names safe on every file system, 256 sub-folders to keep
    directories small. The converter and the dataset both call this.

    Args:
        url (str): Image URL as in the CSV.
        box (Sequence[float]): ``(left, right, top, bottom)`` normalised.
        ext (str): File extension.

    Returns:
        str: e.g. ``'3f/3f9a...e1.jpg'``.
    """
    key = url + '|' + ','.join(f'{float(v):.6f}' for v in box)
    digest = hashlib.sha1(key.encode('utf-8')).hexdigest()[:20]
    return f'{digest[:2]}/{digest}{ext}'


def parse_fec_row(fields: List[str], path: str, line: int) -> FECRow:
    """Parse the fields of one FEC row; AnnotationError (file, line) if bad.

    Trailing empty fields (a trailing comma) are ignored.
    """
    fields = [f.strip() for f in fields]
    while fields and not fields[-1]:
        fields.pop()
    if len(fields) < _NUM_FIXED + 2:
        raise AnnotationError(
            f'expected at least {_NUM_FIXED + 2} fields (3 x URL + 4 box '
            'values, triplet type, annotator id and answer), got '
            f'{len(fields)}', path, line)
    if (len(fields) - _NUM_FIXED) % 2:
        raise AnnotationError(
            f'annotations must be (annotator id, answer) pairs; got '
            f'{len(fields) - _NUM_FIXED} fields after the triplet type',
            path, line)
    urls, boxes = [], []
    for k in range(3):
        url = fields[5 * k]
        if not url:
            raise AnnotationError(f'image {k + 1}: empty URL', path, line)
        box = []
        for j, name in enumerate(('left', 'right', 'top', 'bottom')):
            raw = fields[5 * k + 1 + j]
            try:
                value = float(raw)
            except ValueError:
                raise AnnotationError(
                    f'image {k + 1}: box {name} {raw!r} is not a number',
                    path, line) from None
            if not 0.0 <= value <= 1.0:
                raise AnnotationError(
                    f'image {k + 1}: box {name} {value} is outside [0, 1] '
                    '(boxes are normalised)', path, line)
            box.append(value)
        if box[0] >= box[1] or box[2] >= box[3]:
            raise AnnotationError(
                f'image {k + 1}: empty box (left {box[0]}, right {box[1]}, '
                f'top {box[2]}, bottom {box[3]})', path, line)
        urls.append(url)
        boxes.append(tuple(box))
    type_name = fields[15]
    if type_name not in TRIPLET_TYPES:
        raise AnnotationError(
            f'unknown triplet type {type_name!r}; expected one of '
            f'{TRIPLET_TYPES}', path, line)
    annotations = []
    votes = [0, 0, 0]
    for i in range(_NUM_FIXED, len(fields), 2):
        rater, raw = fields[i], fields[i + 1]
        if not rater:
            raise AnnotationError(
                f'annotation {(i - _NUM_FIXED) // 2 + 1}: empty annotator id',
                path, line)
        if raw not in ('1', '2', '3'):
            raise AnnotationError(
                f'annotation {(i - _NUM_FIXED) // 2 + 1} (annotator '
                f'{rater}): answer {raw!r} is not 1, 2 or 3', path, line)
        answer = int(raw)
        annotations.append((rater, answer))
        votes[answer - 1] += 1
    return FECRow(line=line, urls=urls, boxes=boxes,
                  triplet_type=TRIPLET_TYPES.index(type_name),
                  annotations=annotations, votes=tuple(votes))


def load_fec_csv(path: str) -> List[FECRow]:
    """Parse an official FEC CSV file (no header; quoted URLs allowed).

    Args:
        path (str): The CSV file.

    Returns:
        list[FECRow]: One entry per non-blank row, in file order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        AnnotationError: On the first malformed row (file and line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'FEC annotation file {path} does not exist.')
    rows = []
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        try:
            for fields in reader:
                if not fields or all(not v.strip() for v in fields):
                    continue
                rows.append(parse_fec_row(fields, path, reader.line_num))
        except csv.Error as e:
            raise AnnotationError(f'CSV syntax error: {e}', path,
                                  reader.line_num) from None
    if not rows:
        raise AnnotationError('no triplets in file', path)
    return rows


@DATASETS.register_module()
class FEC(FERDataset):
    """Google FEC triplets, read from the official CSV and prepared crops.

    Layout (``data_root``)::

        faceexp-comparison-data-train-public.csv   # official, no header
        faceexp-comparison-data-test-public.csv
        crops/3f/3f9a...e1.jpg                     # prepare_fec.py output

    Each sample is a triplet; the dataset returns the three images through
    the pipeline (see :class:`TripletCompose`): use
    ``collate_fn=dict(type='fer_triplet_collate')`` in the dataloader.

    Majority answer: the answer with the most votes. Tie rule
    (``on_tie``): ``'drop'`` (default) leaves out triplets whose top answers
    are tied (counted in ``num_dropped['tie']``), because they carry no
    majority to learn or to score; ``'lowest'`` keeps them with the lowest
    tied answer.

    Many FEC URLs are dead: triplets with a missing crop are dropped and
    counted (``missing_image``) by default (``skip_missing_images=True``).

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'`` or ``'test'`` (``'val'`` is the test file:
            FEC has no validation split).
        ann_file (str, optional): CSV relative to ``data_root``.
        on_tie (str): ``'drop'`` or ``'lowest'``.
        skip_missing_images (bool): Drop triplets with a missing crop
            instead of raising.
        min_agreement (float): Keep only triplets whose majority holds at
            least this fraction of the votes (0 keeps all).
        **kwargs: Passed to :class:`FERDataset`; ``data_prefix`` defaults to
            ``crops``.
    """

    METAINFO = dict(triplet_types=TRIPLET_TYPES)
    SPLITS = ('train', 'val', 'test')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 on_tie: str = 'drop',
                 skip_missing_images: bool = True,
                 min_agreement: float = 0.,
                 **kwargs) -> None:
        check_choice('FEC', 'split', split, self.SPLITS)
        check_choice('FEC', 'on_tie', on_tie, TIE_RULES)
        self.split = split
        self.on_tie = on_tie
        self.skip_missing_images = skip_missing_images
        self.min_agreement = float(min_agreement)
        self.num_dropped: Dict[str, int] = {}
        ann_file = ann_file or FEC_FILES['train' if split == 'train' else
                                         'test']
        kwargs.setdefault('data_prefix', 'crops')
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)
        self.pipeline = TripletCompose(self.pipeline)

    def load_data_list(self) -> List[dict]:
        """Parse the CSV into triplets with their majority answer."""
        crop_dir = self.data_prefix['img_path']
        listing = DirListing()
        dropped: Counter = Counter()
        data_list = []
        for row in load_fec_csv(self.ann_file):
            answer = row.majority(self.on_tie)
            if answer is None:
                dropped['tie'] += 1
                continue
            if row.votes[answer - 1] < self.min_agreement * sum(row.votes):
                dropped['low_agreement'] += 1
                continue
            paths = [
                osp.join(crop_dir, fec_crop_name(u, b))
                for u, b in zip(row.urls, row.boxes)
            ]
            missing = [p for p in paths if not listing.exists(p)]
            if missing:
                if not self.skip_missing_images:
                    raise AnnotationError(
                        f'face crop {missing[0]} of this row does not exist '
                        '(run tools/dataset_converters/prepare_fec.py, or '
                        'set skip_missing_images=True)', self.ann_file,
                        row.line)
                dropped['missing_image'] += 1
                continue
            data_list.append(
                dict(img_paths=paths, triplet_type=row.triplet_type,
                     triplet_answer=answer, triplet_votes=list(row.votes),
                     ann_line=row.line))
        if not data_list:
            raise AnnotationError(
                f'no usable {self.split!r} triplets (dropped: '
                f'{dict(dropped)}; crops expected under {crop_dir})',
                self.ann_file)
        self.num_dropped = log_drops('FEC', self.split, len(data_list),
                                     dropped)
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Dropped: \t{self.num_dropped}']
