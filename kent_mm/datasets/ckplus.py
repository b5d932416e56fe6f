"""CK+ (Extended Cohn-Kanade) in its official layout, with subject folds."""
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from mmpretrain.registry import DATASETS

from .base import FERDataset
from .emotions import CKPLUS_CODES
from .errors import AnnotationError
from .parsing import check_choice, fixed_classes, list_images, log_drops

_NAMES = tuple(CKPLUS_CODES.values())
#: Class sets of the CK+ protocols, each in native code order.
CKPLUS_CLASS_SETS: Dict[int, Tuple[str, ...]] = {
    # The six basic expressions (no contempt, no neutral).
    6: tuple(n for n in _NAMES if n not in ('neutral', 'contempt')),
    # The usual CK+ 7: the six basic expressions + contempt (codes 1..7).
    7: tuple(n for n in _NAMES if n != 'neutral'),
    # All codes 0..7: + neutral (first frame of each labelled sequence).
    8: _NAMES,
}
LABEL_SUFFIX = '_emotion.txt'


def subject_folds(subjects: Sequence[str],
                  num_folds: int = 10) -> Dict[str, int]:
    """Deterministic subject-independent fold assignment.

    Subjects are sorted by name (``S005 < S010 < ...``) and dealt out
    round-robin: fold sizes differ by at most one subject, and the
    assignment depends only on the subject list (not on a random seed or on
    the class protocol).

    Args:
        subjects (Sequence[str]): Subject ids.
        num_folds (int): Number of folds.

    Returns:
        dict[str, int]: ``{subject: fold}``.
    """
    ordered = sorted(set(subjects))
    if len(ordered) < num_folds:
        raise ValueError(f'{len(ordered)} subjects cannot fill {num_folds} '
                         'subject-independent folds.')
    return {s: i % num_folds for i, s in enumerate(ordered)}


def read_emotion_file(path: str) -> int:
    """The CK+ code (0..7) of an ``*_emotion.txt`` file.

    The file holds exactly one number, e.g. ``   3.0000000e+00``.

    Raises:
        AnnotationError: No number, more than one, not a number, not an
            integer code in 0..7.
    """
    tokens: List[Tuple[int, str]] = []
    with open(path, 'rb') as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode('utf-8')
            except UnicodeDecodeError:
                raise AnnotationError('not a text file (invalid UTF-8)',
                                      path, lineno) from None
            tokens += [(lineno, t) for t in line.split()]
    if not tokens:
        raise AnnotationError('emotion file is empty (expected one number)',
                              path, 1)
    if len(tokens) > 1:
        raise AnnotationError(
            f'emotion file holds {len(tokens)} values '
            f'{[t for _, t in tokens]}, expected one number', path,
            tokens[1][0])
    lineno, token = tokens[0]
    try:
        value = float(token)
    except ValueError:
        raise AnnotationError(f'emotion code {token!r} is not a number', path,
                              lineno) from None
    if not value.is_integer() or int(value) not in CKPLUS_CODES:
        raise AnnotationError(f'emotion code {token!r} is not one of 0..7',
                              path, lineno)
    return int(value)


@DATASETS.register_module()
class CKPlus(FERDataset):
    """CK+ expression sequences, read exactly as distributed.

    Layout (``data_root``)::

        cohn-kanade-images/S005/001/S005_001_00000001.png ...
        Emotion/S005/001/S005_001_00000011_emotion.txt   # "   3.0000000e+00"

    Codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy,
    6 sadness, 7 surprise. Of the 593 sequences, the 327 with an emotion
    file are used; the file names the peak (last) frame.

    Protocol: the ``num_frames`` frames ending at the labelled frame (the
    last 3 by default) get the sequence's label; with ``with_neutral`` the
    first frame of each labelled sequence is added as neutral. Class sets
    (always in native code order, canonical names):

    - ``num_classes=6``: anger, disgust, fear, happiness, sadness, surprise
      (contempt sequences are dropped and counted);
    - ``num_classes=7``: anger, contempt, disgust, fear, happiness, sadness,
      surprise (the usual CK+ 7; codes 1..7);
    - ``num_classes=8``: neutral + the 7 above (codes 0..7), needs
      ``with_neutral``.

    Folds: subject-independent ``num_folds``-fold cross-validation by
    :func:`subject_folds` over all subjects with a labelled sequence;
    ``split='test'`` is fold ``fold``, ``split='train'`` the other folds,
    ``split='all'`` everything.

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        fold (int): Test fold, ``0 <= fold < num_folds``.
        num_folds (int): Number of folds (10).
        num_classes (int): 6, 7 or 8.
        num_frames (int): Peak frames per sequence (3).
        with_neutral (bool, optional): Add the first frame as neutral;
            default True iff ``num_classes == 8``.
        **kwargs: Passed to :class:`FERDataset`.
    """

    METAINFO = dict(classes=_NAMES)
    SPLITS = ('train', 'test', 'all')
    IMAGE_DIR = 'cohn-kanade-images'
    LABEL_DIR = 'Emotion'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 fold: int = 0,
                 num_folds: int = 10,
                 num_classes: int = 7,
                 num_frames: int = 3,
                 with_neutral: Optional[bool] = None,
                 **kwargs) -> None:
        check_choice('CK+', 'split', split, self.SPLITS)
        check_choice('CK+', 'num_classes', num_classes, CKPLUS_CLASS_SETS)
        if not 0 <= fold < num_folds:
            raise ValueError(f'CK+ fold {fold!r} is outside 0..'
                             f'{num_folds - 1} (field `fold`).')
        if num_frames < 1:
            raise ValueError(f'CK+ num_frames must be >= 1, got {num_frames}.')
        if with_neutral is None:
            with_neutral = num_classes == 8
        if with_neutral != (num_classes == 8):
            raise ValueError(
                'CK+ neutral frames need the 8-class protocol: set '
                '`num_classes=8` together with `with_neutral=True` (got '
                f'num_classes={num_classes}, with_neutral={with_neutral}).')
        self.split = split
        self.fold = fold
        self.num_folds = num_folds
        self.num_classes = num_classes
        self.num_frames = num_frames
        self.with_neutral = with_neutral
        self.num_dropped: Dict[str, int] = {}
        self.folds: Dict[str, int] = {}
        self.num_unlabelled_sequences = 0
        kwargs = fixed_classes('CK+', CKPLUS_CLASS_SETS[num_classes], kwargs)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _labelled_sequences(self) -> List[Tuple[str, str, str]]:
        """``(subject, sequence, label file)`` of every labelled sequence."""
        label_root = osp.join(self.data_root, self.LABEL_DIR)
        if not osp.isdir(label_root):
            raise FileNotFoundError(
                f'CK+ label folder {label_root} does not exist.')
        found = []
        unlabelled = 0
        for subject in sorted(os.listdir(label_root)):
            subject_dir = osp.join(label_root, subject)
            if subject.startswith('.') or not osp.isdir(subject_dir):
                continue
            for sequence in sorted(os.listdir(subject_dir)):
                seq_dir = osp.join(subject_dir, sequence)
                if sequence.startswith('.') or not osp.isdir(seq_dir):
                    continue
                files = sorted(n for n in os.listdir(seq_dir)
                               if n.endswith(LABEL_SUFFIX))
                if len(files) > 1:
                    raise AnnotationError(
                        f'{len(files)} emotion files {files} for one '
                        'sequence, expected at most one', seq_dir)
                if not files:
                    unlabelled += 1  # 266 of 593 sequences have no label
                    continue
                found.append((subject, sequence, osp.join(seq_dir, files[0])))
        self.num_unlabelled_sequences = unlabelled
        return found

    def _frames(self, subject: str, sequence: str,
                label_file: str) -> Tuple[List[str], str]:
        """Frame paths up to the labelled one, and the image folder."""
        img_dir = osp.join(self.data_root, self.IMAGE_DIR, subject, sequence)
        if not osp.isdir(img_dir):
            raise AnnotationError(
                f'image folder {img_dir} of this label does not exist',
                label_file)
        frames = list_images(img_dir)
        peak = osp.basename(label_file)[:-len(LABEL_SUFFIX)]
        names = [osp.splitext(n)[0] for n in frames]
        if peak not in names:
            raise AnnotationError(
                f'labelled frame {osp.join(img_dir, peak)}.png is missing',
                label_file)
        frames = frames[:names.index(peak) + 1]
        needed = self.num_frames + int(self.with_neutral)
        if len(frames) < needed:
            raise AnnotationError(
                f'sequence has {len(frames)} frame(s) up to the labelled '
                f'one, the protocol needs {needed}', label_file)
        return [osp.join(img_dir, n) for n in frames], img_dir

    def load_data_list(self) -> List[dict]:
        """Collect peak (and neutral) frames of this fold's subjects."""
        classes = self.metainfo['classes']
        sequences = self._labelled_sequences()
        if not sequences:
            raise AnnotationError('no labelled sequence found',
                                  osp.join(self.data_root, self.LABEL_DIR))
        self.folds = subject_folds([s for s, _, _ in sequences],
                                   self.num_folds)
        dropped: Counter = Counter()
        data_list = []
        for subject, sequence, label_file in sequences:
            code = read_emotion_file(label_file)
            if self.split == 'test' and self.folds[subject] != self.fold:
                continue
            if self.split == 'train' and self.folds[subject] == self.fold:
                continue
            name = CKPLUS_CODES[code]
            if name not in classes:
                dropped[f'{name}_sequence'] += 1
                continue
            frames, _ = self._frames(subject, sequence, label_file)
            meta = dict(subject=subject, sequence=sequence)
            if self.with_neutral:
                data_list.append(
                    dict(img_path=frames[0],
                         gt_label=classes.index('neutral'), **meta))
            for path in frames[-self.num_frames:]:
                data_list.append(
                    dict(img_path=path, gt_label=classes.index(name), **meta))
        if not data_list:
            raise AnnotationError(
                f'no {self.split!r} samples in fold {self.fold}',
                osp.join(self.data_root, self.LABEL_DIR))
        self.num_dropped = log_drops(
            f'CK+ ({self.num_classes} classes)',
            f'{self.split}, fold {self.fold}/{self.num_folds}', len(data_list),
            dropped, f'{self.num_unlabelled_sequences} sequences without an '
            'emotion file are not labelled')
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split}', f'Fold: \t{self.fold}/{self.num_folds}',
            f'Frames: \tlast {self.num_frames}'
            f'{" + first as neutral" if self.with_neutral else ""}'
        ]
