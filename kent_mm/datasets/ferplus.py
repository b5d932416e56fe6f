"""FERPlus (Microsoft's relabelled FER2013) in its official layout."""
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from mmpretrain.registry import DATASETS

from .base import FERDataset
from .emotions import FERPLUS_COLUMNS, FERPLUS_EXTRA_COLUMNS
from .errors import AnnotationError
from .parsing import (DirListing, check_choice, fixed_classes, log_drops,
                      parse_int, read_csv)

#: All vote columns of fer2013new.csv, in file order (8 classes + 2).
VOTE_COLUMNS: Tuple[str, ...] = tuple(FERPLUS_COLUMNS) + FERPLUS_EXTRA_COLUMNS
LABEL_MODES = ('majority', 'probability', 'crossentropy', 'multi_target')


def ferplus_target(votes: Sequence[float],
                   mode: str) -> Tuple[Optional[List[float]], str]:
    """Turn one row of FERPlus votes into a target, as the official code.

    Follows ``FERPlusReader._process_data`` of microsoft/FERPlus: single
    (stray) votes are removed first, then

    - ``majority``: the top class must hold more than half of the votes;
    - ``probability`` / ``crossentropy``: take top classes (ties together)
      until they hold at least 75% of the votes, at most 3; unknown/NF stop
      the scan; keep the row only if the kept classes hold more than half
      of the votes;
    - ``multi_target``: every class with at least 30% of the votes, if
      together they hold more than half of them.

    Args:
        votes (Sequence[float]): The 10 vote counts, ``VOTE_COLUMNS`` order.
        mode (str): One of ``LABEL_MODES``.

    Returns:
        tuple: ``(distribution, '')`` with a length-10 distribution summing
        to 1, or ``(None, 'no_agreement')`` when the mode's criterion fails
        (the official code turns such rows into "unknown").
    """
    check_choice('FERPlus', 'label_mode', mode, LABEL_MODES)
    raw = [0.0 if v <= 1.0 else float(v) for v in votes]  # stray votes
    total = sum(raw)
    out = [0.0] * len(raw)
    if mode == 'majority':
        top = max(raw)
        if top <= 0.5 * total:
            return None, 'no_agreement'
        out[raw.index(top)] = top
    elif mode in ('probability', 'crossentropy'):
        kept, count, valid = 0.0, 0, True
        while kept < 0.75 * total and count < 3 and valid:
            top = max(raw)
            for i in range(len(raw)):
                if raw[i] != top:
                    continue
                out[i], raw[i] = top, 0.0
                kept += top
                count += 1
                if i >= len(FERPLUS_COLUMNS):  # unknown / NF reached
                    valid = False
                    # Keep unknown/NF only if it is the top class itself.
                    if sum(out) > top:
                        out[i] = 0.0
                        count -= 1
                    break
        if sum(out) <= 0.5 * total or count > 3:
            return None, 'no_agreement'
    else:  # multi_target
        out = [v if v >= 0.3 * total else 0.0 for v in raw]
        if sum(out) <= 0.5 * total:
            return None, 'no_agreement'
    s = sum(out)
    return [v / s for v in out], ''


@DATASETS.register_module()
class FERPlus(FERDataset):
    """FERPlus, read from Microsoft's ``fer2013new.csv`` and PNG folders.

    Layout (``data_root``)::

        fer2013new.csv          # Usage,Image name,neutral,...,unknown,NF
        FER2013Train/fer0000000.png   # Usage Training
        FER2013Valid/fer0028709.png   # Usage PublicTest
        FER2013Test/fer0032220.png    # Usage PrivateTest

    (``tools/dataset_converters/prepare_ferplus.py`` writes the PNGs from
    ``fer2013.csv``.) The 8 classes keep the CSV column order: neutral,
    happiness, surprise, sadness, anger, disgust, fear, contempt.

    Labels follow the official label modes (:func:`ferplus_target`). Every
    sample has ``gt_label`` (int, top class) and ``votes`` (10 ints);
    ``probability`` and ``crossentropy`` add ``gt_score``, the renormalised
    vote distribution over the 8 classes (8 floats; the official
    ``probability`` mode draws a one-hot target from it at each step),
    ``multi_target`` adds ``gt_score`` uniform over the target classes.
    ``majority`` has no ``gt_score`` (KENT's head needs hard labels).

    Dropped and counted in ``num_dropped`` (official protocol): rows with an
    empty image name (not a face), rows whose mode criterion fails
    (``no_agreement``) and rows whose top class is ``unknown`` or ``NF``.

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        label_mode (str): ``'majority'``, ``'probability'``,
            ``'crossentropy'`` or ``'multi_target'``. The official code
            evaluates val/test with ``'majority'``.
        ann_file (str): Vote file relative to ``data_root``.
        **kwargs: Passed to :class:`FERDataset`; ``data_prefix`` is the
            folder holding ``FER2013Train`` etc. (default ``data_root``).
    """

    METAINFO = dict(classes=tuple(FERPLUS_COLUMNS.values()))
    SPLITS = ('train', 'val', 'test')
    USAGES = {'train': 'Training', 'val': 'PublicTest', 'test': 'PrivateTest'}
    FOLDERS = {
        'Training': 'FER2013Train',
        'PublicTest': 'FER2013Valid',
        'PrivateTest': 'FER2013Test'
    }

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 label_mode: str = 'majority',
                 ann_file: str = 'fer2013new.csv',
                 **kwargs) -> None:
        check_choice('FERPlus', 'split', split, self.SPLITS)
        check_choice('FERPlus', 'label_mode', label_mode, LABEL_MODES)
        self.split = split
        self.label_mode = label_mode
        self.num_dropped: Dict[str, int] = {}
        kwargs = fixed_classes('FERPlus', self.METAINFO['classes'], kwargs)
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse every row (all splits are checked), keep this split's."""
        path = self.ann_file
        usage = self.USAGES[self.split]
        img_dir = osp.join(self.data_prefix['img_path'], self.FOLDERS[usage])
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'FERPlus image folder {img_dir} does not exist (make it with '
                'tools/dataset_converters/prepare_ferplus.py).')
        listing = DirListing()
        num_classes = len(FERPLUS_COLUMNS)
        dropped: Counter = Counter()
        data_list = []
        for line, row in read_csv(path, ('Usage', 'Image name') +
                                  VOTE_COLUMNS):
            if row['Usage'] not in self.FOLDERS:
                raise AnnotationError(
                    f'Usage {row["Usage"]!r} is not one of '
                    f'{tuple(self.FOLDERS)}', path, line)
            votes = [parse_int(row[c], f'vote {c}', path, line)
                     for c in VOTE_COLUMNS]
            if any(v < 0 for v in votes):
                raise AnnotationError(f'negative vote count in {votes}', path,
                                      line)
            if not any(votes):
                raise AnnotationError('vote row with no votes', path, line)
            if row['Usage'] != usage:
                continue
            name = row['Image name']
            if not name:
                dropped['not_a_face'] += 1  # empty image name (official)
                continue
            dist, reason = ferplus_target(votes, self.label_mode)
            if dist is None:
                dropped[reason] += 1
                continue
            top = max(range(len(dist)), key=dist.__getitem__)
            if top >= num_classes:
                dropped[f'top_{VOTE_COLUMNS[top]}'] += 1
                continue
            img_path = osp.join(img_dir, name)
            if not listing.exists(img_path):
                raise AnnotationError(
                    f'image {img_path} listed here does not exist', path,
                    line)
            info = dict(img_path=img_path, gt_label=int(top), votes=votes)
            if self.label_mode != 'majority':
                scores = dist[:num_classes]
                if self.label_mode == 'multi_target':
                    scores = [1.0 if s > 0 else 0.0 for s in scores]
                total = sum(scores)
                info['gt_score'] = [s / total for s in scores]
            data_list.append(info)
        if not data_list:
            raise AnnotationError(f'no {self.split!r} samples found', path)
        self.num_dropped = log_drops('FERPlus', self.split, len(data_list),
                                     dropped, f'label_mode={self.label_mode}')
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split}', f'Label mode: \t{self.label_mode}',
            f'Dropped: \t{self.num_dropped}'
        ]
