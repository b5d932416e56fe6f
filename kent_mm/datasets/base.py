"""Base class of kent_mm's FER datasets."""
import os
import os.path as osp
import tempfile
import uuid
from typing import Any, List, Optional, Tuple

from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from .errors import AnnotationError
from .parsing import check_choice
from .transforms.loading import CorruptImageError

#: Accepted values of ``on_corrupt``.
ON_CORRUPT_MODES = ('raise', 'skip')
#: Types of the datasets whose images are grey: a model trained on them
#: should see grey faces at inference (the demo converts crops; ONNX exports
#: record it).
GRAY_DATASETS = ('FER2013', 'FERPlus', 'CKPlus')


class FERDataset(BaseDataset):
    """Common base of the FER datasets (RAF-DB, AffectNet, FERPlus, CK+,
    FER2013): MMPretrain's ``BaseDataset`` plus the behaviour every FER
    dataset shares.

    Subclasses parse their official annotation format in
    ``load_data_list`` and raise :class:`AnnotationError` (file, line) on
    malformed input; class names are canonical
    (:mod:`kent_mm.datasets.emotions`).

    Broken image files (missing, empty, truncated, not an image, unreadable)
    make :class:`~kent_mm.datasets.transforms.LoadFERImage` raise
    :class:`CorruptImageError`. What happens then is ``on_corrupt``:

    - ``'raise'`` (default): the error propagates and names the file.
    - ``'skip'``: the sample is replaced by the next readable one (index
      ``idx + 1``, wrapping around) and the file is recorded. The rule is the
      same for training and for val/test sets (MMPretrain configs do not
      mark val sets with ``test_mode``) and draws no random numbers of its
      own, so evaluation stays deterministic. In val/test the
      metrics then count a duplicate in place of each skipped image; the
      report says so. ``min(max_refetch + 1, len(dataset))`` broken files
      in a row raise ``RuntimeError``.

    Skipped files are appended, one line ``path<TAB>reason`` each, to
    :attr:`corrupt_log` (a path chosen here, in the main process, and created
    on first use). Dataloader workers are separate processes; short
    ``O_APPEND`` writes reach the main process intact, where
    ``CorruptImageReportHook`` logs count and list after every epoch.

    A fixed subset (e.g. a committed low-data split) is given by
    ``subset_file``: one image path per line, relative to the image folder
    of the split (``data_prefix``); a listed image that the split does not
    have is an :class:`AnnotationError` naming the file and line.

    Args:
        *args: Passed to :class:`mmpretrain.datasets.BaseDataset`.
        subset_file (str, optional): Keep only the images it lists.
        on_corrupt (str): ``'raise'`` or ``'skip'``.
        corrupt_log (str, optional): File for the skip records. Defaults to
            a fresh file name in the temporary directory.
        **kwargs: Passed to :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(self,
                 *args,
                 subset_file: Optional[str] = None,
                 on_corrupt: str = 'raise',
                 corrupt_log: Optional[str] = None,
                 **kwargs) -> None:
        check_choice(type(self).__name__, 'on_corrupt', on_corrupt,
                     ON_CORRUPT_MODES)
        self.on_corrupt = on_corrupt
        self.subset_file = subset_file
        # Decided before the workers fork/spawn so that all of them (and the
        # report hook) agree on it; the file itself appears only when
        # something is skipped.
        self.corrupt_log = corrupt_log or osp.join(
            tempfile.gettempdir(), f'kent_mm_corrupt_{uuid.uuid4().hex}.log')
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ annotation
    def full_init(self) -> None:
        """Load annotations; undecodable text becomes an AnnotationError.

        A safety net for every parser: a file that is not valid UTF-8 makes
        ``open(..., encoding='utf-8')`` raise ``UnicodeDecodeError``, which
        names neither file nor line. We find the first bad line of
        ``ann_file`` and say where it is.
        """
        try:
            super().full_init()
        except UnicodeDecodeError as e:
            where = _first_undecodable_line(self.ann_file)
            if where is None:
                raise
            raise AnnotationError(
                f'not valid UTF-8 ({e.reason}); re-save the file as UTF-8',
                self.ann_file, where) from None

    def filter_data(self) -> List[dict]:
        """Keep the samples listed in ``subset_file`` (all without one)."""
        data_list = super().filter_data()
        if self.subset_file is None:
            return data_list
        root = self.data_prefix.get('img_path', '')
        by_path = {osp.relpath(d['img_path'], root): d
                   for d in data_list if 'img_path' in d}
        kept = []
        with open(self.subset_file, encoding='utf-8') as f:
            for line, name in enumerate(f, start=1):
                name = name.strip()
                if not name:
                    continue
                if name not in by_path:
                    raise AnnotationError(
                        f'{name!r} is not an image of the {root!r} split',
                        self.subset_file, line)
                kept.append(by_path.pop(name))
        return kept

    # ---------------------------------------------------------------- images
    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on sample ``idx`` (see ``on_corrupt``)."""
        if self.on_corrupt == 'raise':
            return super().prepare_data(idx)
        first_error = None
        for _ in range(min(self.max_refetch + 1, len(self))):
            try:
                return super().prepare_data(idx)
            except CorruptImageError as e:
                first_error = first_error or e
                self.record_corrupt(e.path, e.reason)
                idx = (idx + 1) % len(self)
        raise RuntimeError(
            f'on_corrupt="skip": {min(self.max_refetch + 1, len(self))} '
            f'broken images in a row (first: {first_error}); is the dataset '
            'readable at all? '
            f'Skipped files are listed in {self.corrupt_log}.')

    def record_corrupt(self, path: str, reason: str) -> None:
        """Append ``path<TAB>reason`` to :attr:`corrupt_log` (any process)."""
        line = f'{path}\t{reason}'.replace('\n', ' ') + '\n'
        # One small write with O_APPEND: lines from concurrent workers do not
        # interleave on local file systems.
        fd = os.open(self.corrupt_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                     0o644)
        try:
            os.write(fd, line.encode('utf-8', 'backslashreplace'))
        finally:
            os.close(fd)
        print_log(f'Skipping broken image {path}: {reason}',
                  logger='current', level=30)

    def read_corrupt_records(self,
                             offset: int = 0) -> Tuple[List[Tuple[str, str]],
                                                       int]:
        """Records written since byte ``offset``.

        Args:
            offset (int): Where the previous read stopped.

        Returns:
            tuple: ``([(path, reason), ...], new_offset)``.
        """
        if not osp.isfile(self.corrupt_log):
            return [], offset
        with open(self.corrupt_log, 'rb') as f:
            f.seek(offset)
            data = f.read()
        # Only complete lines; a line being written stays for the next read.
        end = data.rfind(b'\n') + 1
        records = []
        # split('\n'), not splitlines(): paths may hold other separators.
        for raw in data[:end].decode('utf-8', 'replace').split('\n')[:-1]:
            path, _, reason = raw.partition('\t')
            records.append((path, reason))
        return records, offset + end

    def remove_corrupt_log(self) -> None:
        """Delete :attr:`corrupt_log` (after the report)."""
        if osp.isfile(self.corrupt_log):
            os.remove(self.corrupt_log)


def _first_undecodable_line(path: str) -> Optional[int]:
    """1-based number of the first line of ``path`` that is not UTF-8."""
    try:
        with open(path, 'rb') as f:
            for lineno, raw in enumerate(f, start=1):
                try:
                    raw.decode('utf-8')
                except UnicodeDecodeError:
                    return lineno
    except OSError:
        return None
    return None
