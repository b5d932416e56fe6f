"""Small parsing helpers shared by the FER dataset classes.

Everything here raises :class:`AnnotationError` with file and line, so that
each dataset reports malformed input the same way.
"""
import csv
import os
import os.path as osp
from collections import Counter
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Set,
                    Tuple)

from mmengine.logging import print_log

from .errors import AnnotationError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def read_csv(path: str,
             required: Sequence[str]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """Iterate over a CSV file with a header, checking its columns.

    Args:
        path (str): The CSV file.
        required (Sequence[str]): Columns that must be in the header (extra
            columns are allowed; names are compared after stripping spaces).

    Yields:
        tuple[int, dict[str, str]]: 1-based line number and the row as
        ``{column: stripped value}``. Blank lines are skipped.

    Raises:
        AnnotationError: Empty file, missing columns, or a row whose number
            of fields differs from the header's.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file {path} does not exist.')
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise AnnotationError('file is empty (expected a header with '
                                  f'columns {list(required)})', path, 1)
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise AnnotationError(
                f'missing column(s) {missing} in header {header}', path, 1)
        for row in reader:
            if not row or all(not v.strip() for v in row):
                continue
            if len(row) != len(header):
                raise AnnotationError(
                    f'expected {len(header)} fields ({",".join(header)}), got '
                    f'{len(row)}', path, reader.line_num)
            yield reader.line_num, {
                k: v.strip()
                for k, v in zip(header, row)
            }


def check_choice(dataset: str, field: str, value: Any,
                 choices: Sequence) -> None:
    """Raise ``ValueError`` naming ``field`` if ``value`` is not a choice.

    Args:
        dataset (str): Dataset name for the message.
        field (str): The argument (config field) checked.
        value: Its value.
        choices (Sequence): The accepted values.
    """
    if value not in choices:
        raise ValueError(f'Unknown {dataset} {field} {value!r} (field '
                         f'`{field}`); expected one of {tuple(choices)}.')


def parse_int(value: str, field: str, path: str, line: Optional[int]) -> int:
    """``int(value)``; an :class:`AnnotationError` naming ``field`` if not.

    Integral floats such as ``'3.0'`` are accepted (some tools write them).
    """
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise AnnotationError(f'{field} {value!r} is not an integer', path,
                              line)
    return int(number)


def parse_float(value: str, field: str, path: str,
                line: Optional[int]) -> float:
    """``float(value)``, or an AnnotationError naming ``field``."""
    try:
        return float(value)
    except ValueError:
        raise AnnotationError(f'{field} {value!r} is not a number', path,
                              line) from None


class DirListing:
    """Existence checks with one ``os.listdir`` per directory (cached).

    Stat-ing every sample is slow on network file systems; a listing per
    folder costs one call however many samples it holds.
    """

    def __init__(self) -> None:
        self._cache: Dict[str, Set[str]] = {}

    def files(self, directory: str) -> Set[str]:
        """Names in ``directory`` (empty set if it does not exist)."""
        directory = osp.normpath(directory)
        if directory not in self._cache:
            try:
                self._cache[directory] = set(os.listdir(directory))
            except (FileNotFoundError, NotADirectoryError):
                self._cache[directory] = set()
        return self._cache[directory]

    def exists(self, path: str) -> bool:
        """Whether the file ``path`` exists, from its folder's listing."""
        directory, name = osp.split(osp.normpath(path))
        return name in self.files(directory)


def list_images(directory: str) -> List[str]:
    """Sorted image file names in ``directory`` (one listing).

    Raises:
        FileNotFoundError: If the directory does not exist.
    """
    if not osp.isdir(directory):
        raise FileNotFoundError(f'Image folder {directory} does not exist.')
    return sorted(n for n in os.listdir(directory)
                  if n.lower().endswith(IMAGE_EXTENSIONS))


def fixed_classes(dataset: str, classes: Sequence[str], kwargs: dict) -> dict:
    """Pin ``metainfo['classes']`` to the protocol's class order.

    Labels are parsed from native codes in a fixed order; a user-given
    ``classes`` (or ``metainfo.classes``) that differs would rename them
    silently, so it is refused.

    Args:
        dataset (str): Dataset name for messages.
        classes (Sequence[str]): The protocol's classes, in label order.
        kwargs (dict): The keyword arguments for ``BaseDataset``.

    Returns:
        dict: ``kwargs`` with ``metainfo['classes']`` set (and no
        ``classes``).
    """
    kwargs = dict(kwargs)
    classes = tuple(classes)
    metainfo = dict(kwargs.pop('metainfo', None) or {})
    given = kwargs.pop('classes', None)
    if given is None:
        given = metainfo.get('classes')
    if given is not None and tuple(given) != classes:
        raise ValueError(
            f'{dataset}: classes {tuple(given)} differ from the label order '
            f'of the annotations {classes} (field `classes`/`metainfo`); the '
            'order is fixed by the native codes and cannot be renamed.')
    metainfo['classes'] = classes
    kwargs['metainfo'] = metainfo
    return kwargs


def log_drops(dataset: str, split: str, kept: int, dropped: Counter,
              note: str = '') -> Dict[str, int]:
    """Log what the official protocol dropped; return it as a plain dict.

    Args:
        dataset (str): Dataset name.
        split (str): Split name.
        kept (int): Number of samples kept.
        dropped (Counter): ``{reason: count}``.
        note (str): Extra text for the log line.

    Returns:
        dict[str, int]: ``{reason: count}`` (sorted by reason), to keep on
        the dataset as ``num_dropped``.
    """
    counts = {k: int(v) for k, v in sorted(dropped.items()) if v}
    detail = ', '.join(f'{k}: {v}' for k, v in counts.items()) or 'none'
    print_log(
        f'{dataset} ({split}): kept {kept} samples; dropped: {detail}' +
        (f' ({note})' if note else '') + '.',
        logger='current')
    return counts
