"""Property-based fuzzing of every annotation parser.

A table of cases (dataset class, fixture writer, file to mutate, mutation
strategy) drives one generic property: after any mutation of the
annotation file, building the dataset either

- succeeds, and every sample has an ``int`` label inside the class range
  and an image that exists (or decoded pixels), or
- raises :class:`AnnotationError` naming a file of the dataset and, for
  line-based files, a line inside the file (only whole-file errors such as
  "no samples found" may omit the line).

Any other exception (``UnicodeDecodeError``, ``IndexError``, ``KeyError``,
``FileNotFoundError``, a bare ``ValueError``...) fails the test: the
mutations change what an annotation file says, never the dataset's folders.
The unmutated fixture must parse to exactly the labels the writer intended.
"""
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Callable, List, Tuple

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fer_fixtures
from kent_mm import datasets
from kent_mm.datasets import AnnotationError

# KENT_FUZZ_EXAMPLES=2000 for a deeper run; 50 keeps the suite fast.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get('KENT_FUZZ_EXAMPLES', 50)),
    deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.function_scoped_fixture])
#: Errors about the whole file may come without a line number.
WHOLE_FILE_ERROR = re.compile(r'\bno\b.*\b(found|samples?)\b|is empty')


# ------------------------------------------------------------ fixture writers
# Each writer builds a tiny dataset under ``root`` in the official format
# (with the writers of fer_fixtures) and returns (constructor kwargs, path of
# the file to mutate, labels the unmutated file must give, in order).
Written = Tuple[dict, str, List[int]]


def write_rafdb(root: str) -> Written:
    codes = [5, 1, 7, 3, 4, 2]
    lines = [f'train_{i:05d}.jpg {code}' for i, code in enumerate(codes, 1)]
    fer_fixtures.write_rafdb(root, lines + ['test_00001.jpg 6'], size=8)
    ann = osp.join(root, 'EmoLabel', fer_fixtures.RAFDB_LABELS)
    return dict(data_root=root, split='train'), ann, [c - 1 for c in codes]


def write_affectnet_csv(root: str) -> Written:
    codes = [0, 1, 6, 8, 7, 3]  # 8 (None) and 7 (contempt, AffectNet-7) drop
    fer_fixtures.write_affectnet(
        root, train=[(f'{i % 2 + 1}/img{i}.jpg', c)
                     for i, c in enumerate(codes)], val=[])
    return (dict(data_root=root, split='train', layout='csv'),
            osp.join(root, 'training.csv'), [c for c in codes if c < 7])


def write_affectnet_npy(root: str) -> Written:
    codes = [2, 0, 5]
    # The release stores strings such as '1' and '0.785714'.
    fer_fixtures.write_affectnet_npy(root, codes=codes, val_codes=())
    return (dict(data_root=root, split='train', layout='npy'),
            osp.join(root, 'train_set', 'annotations', '1_exp.npy'), codes)


def write_ferplus(root: str) -> Written:
    # votes: one clear majority per row (class index = top column)
    tops = [0, 1, 4, 7]
    rows = []
    for i, top in enumerate(tops):
        votes = [0] * 10
        votes[top] = 8
        votes[(top + 1) % 8] = 2
        rows.append(('Training', f'fer{i:07d}.png', votes))
    rows.append(('Training', '', [0] * 9 + [10]))  # not a face: dropped
    rows.append(('PublicTest', 'fer0000100.png', [10] + [0] * 9))
    fer_fixtures.write_ferplus(root, rows=rows)
    return (dict(data_root=root, split='train'),
            osp.join(root, 'fer2013new.csv'), tops)


def write_fer2013_csv(root: str) -> Written:
    codes = [0, 3, 6, 2]
    fer_fixtures.write_fer2013_csv(
        root, rows=[(c, 'Training') for c in codes] + [(4, 'PublicTest')])
    return (dict(data_root=root, split='train', layout='csv'),
            osp.join(root, 'fer2013.csv'), codes)


def write_ckplus(root: str) -> Written:
    codes = {'S005': 3, 'S010': 7}  # disgust, surprise
    fer_fixtures.write_ckplus(root, num_subjects=2, frames=4, label_text={
        (subject, '001'): f'   {code:.7e}\n'
        for subject, code in codes.items()})
    target = osp.join(root, 'Emotion', 'S005', '001',
                      'S005_001_00000004_emotion.txt')
    # 7 classes = codes 1..7 in order: index = code - 1; 3 frames each.
    labels = [codes['S005'] - 1] * 3 + [codes['S010'] - 1] * 3
    return (dict(data_root=root, split='all', num_folds=2, fold=0,
                 num_classes=7), target, labels)


# ------------------------------------------------------------------ mutations
TOKENS = [
    '', ' ', '0', '1', '7', '8', '10', '11', '-1', '-0', '+3', '3.0', '3.5',
    '1e3', '1e400', 'nan', 'inf', '0x3', '3_0', '\u0663', 'x', '"', '""',
    '"a,b"', ',', ';', '\t', '\x00', '\u2028', '\x85', '9' * 40,
    'train_00001.jpg', 'test_00001.jpg', 'train_00001', '../x.jpg',
    '/etc/passwd', 'Training', 'PublicTest', 'PrivateTest', 'Usage',
    'fer0000000.png', '1/img0.jpg', 'emotion'
]
LINE_OPS = ['delete', 'duplicate', 'swap', 'insert_random', 'replace_line',
            'replace_field', 'drop_field', 'add_field', 'truncate_line',
            'insert_chars', 'blank', 'crlf', 'strip_newlines']
BYTE_OPS = ['none', 'none', 'none', 'flip_byte', 'truncate', 'latin1',
            'bom', 'nul']


@st.composite
def mutated_text(draw, original: bytes, delimiter: str) -> bytes:
    """A line-based file after 1-4 line/field edits and a byte-level edit,
    or (sometimes) an entirely random file."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.binary(max_size=200),
                              st.text(max_size=200).map(str.encode)))
    lines = original.decode('utf-8').split('\n')
    token = st.sampled_from(TOKENS) | st.text(max_size=8)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(LINE_OPS))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = ['']
        if op == 'delete':
            del lines[i]
        elif op == 'duplicate':
            lines.insert(i, lines[i])
        elif op == 'swap':
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 'insert_random':
            lines.insert(i, draw(st.text(max_size=40)))
        elif op == 'replace_line':
            lines[i] = draw(token)
        elif op in ('replace_field', 'drop_field', 'add_field'):
            fields = lines[i].split(delimiter)
            k = draw(st.integers(0, len(fields) - 1))
            if op == 'replace_field':
                fields[k] = draw(token)
            elif op == 'drop_field':
                del fields[k]
            else:
                fields.insert(k, draw(token))
            lines[i] = delimiter.join(fields)
        elif op == 'truncate_line':
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))]
        elif op == 'insert_chars':
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(token) + lines[i][k:]
        elif op == 'blank':
            lines.insert(i, draw(st.sampled_from(['', ' ', '\t', '  \r'])))
        elif op == 'crlf':
            lines = [ln + '\r' for ln in lines]
        elif op == 'strip_newlines':
            lines = [' '.join(lines)]
    data = '\n'.join(lines).encode('utf-8', 'surrogatepass')
    op = draw(st.sampled_from(BYTE_OPS))
    if op == 'flip_byte' and data:
        k = draw(st.integers(0, len(data) - 1))
        data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
    elif op == 'truncate':
        data = data[:draw(st.integers(0, len(data)))]
    elif op == 'latin1':
        data = data + 'caf\u00e9'.encode('latin-1')  # invalid UTF-8
    elif op == 'bom':
        data = b'\xef\xbb\xbf' + data
    elif op == 'nul':
        data = data.replace(b',', b'\x00', 1)
    return data


@st.composite
def mutated_npy(draw, original: bytes, delimiter: str = '') -> bytes:
    """A per-image ``.npy`` annotation: other values, or damaged bytes."""
    import io
    kind = draw(st.sampled_from(['value', 'bytes', 'random']))
    if kind == 'random':
        return draw(st.binary(max_size=200))
    if kind == 'bytes':
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 4))):
            k = draw(st.integers(0, len(data) - 1))
            data[k] = draw(st.integers(0, 255))
        return bytes(data[:draw(st.integers(0, len(data)))])
    value = draw(st.one_of(
        st.sampled_from(TOKENS), st.integers(-20, 20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.integers(0, 9), min_size=0, max_size=3)))
    buf = io.BytesIO()
    try:
        np.save(buf, np.array(value), allow_pickle=False)
    except ValueError:  # e.g. object arrays
        np.save(buf, np.array(str(value)))
    return buf.getvalue()


# ----------------------------------------------------------------- the table
@dataclass
class Case:
    """One parser under fuzzing."""
    name: str
    cls: type  # the dataset class
    write: Callable[[str], Written]
    mutate: Callable = mutated_text
    delimiter: str = ' '
    line_based: bool = True


CASES = [
    Case('RAFDB', datasets.RAFDB, write_rafdb),
    Case('AffectNet-csv', datasets.AffectNet, write_affectnet_csv,
         delimiter=','),
    Case('AffectNet-npy', datasets.AffectNet, write_affectnet_npy,
         mutated_npy, line_based=False),
    Case('FERPlus', datasets.FERPlus, write_ferplus, delimiter=','),
    Case('FER2013-csv', datasets.FER2013, write_fer2013_csv, delimiter=','),
    Case('CKPlus', datasets.CKPlus, write_ckplus),
]
IDS = [c.name for c in CASES]


def _same(a: str, b: str) -> bool:
    return osp.realpath(a) == osp.realpath(b)


def _check_samples(dataset) -> List[int]:
    num_classes = len(dataset.metainfo['classes'])
    labels = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        label = info['gt_label']
        assert type(label) is int, (info, type(label))
        assert 0 <= label < num_classes, info
        if 'img' in info:
            assert info['img'].shape == (48, 48)
        else:
            assert osp.isfile(info['img_path']), info
        if 'gt_score' in info:
            assert len(info['gt_score']) == num_classes
            assert abs(sum(info['gt_score']) - 1) < 1e-6
        labels.append(label)
    return labels


def _check_outcome(cls, kwargs: dict, root: str, target: str,
                   line_based: bool) -> None:
    try:
        dataset = cls(**kwargs)
    except AnnotationError as e:
        assert e.file, f'AnnotationError without a file: {e}'
        assert osp.realpath(e.file).startswith(osp.realpath(root)), e
        assert str(e).startswith(str(e.file))
        if line_based and _same(e.file, target):
            if e.line is None:
                assert WHOLE_FILE_ERROR.search(e.reason), \
                    f'no line number: {e}'
            else:
                with open(target, 'rb') as f:
                    # Text mode ends lines at \n, \r\n and a lone \r.
                    num_lines = len(re.split(rb'\r\n|\r|\n', f.read()))
                assert 1 <= e.line <= num_lines, e
        return
    _check_samples(dataset)


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_unmutated_fixture_parses_to_the_written_labels(case, tmp_path):
    kwargs, _, labels = case.write(str(tmp_path / 'data'))
    assert _check_samples(case.cls(**kwargs)) == labels


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_mutated_annotations_parse_or_raise_annotation_error(case, tmp_path):
    root = str(tmp_path / 'data')
    kwargs, target, _ = case.write(root)
    with open(target, 'rb') as f:
        original = f.read()

    @FUZZ_SETTINGS
    @given(data=case.mutate(original, case.delimiter))
    # Always tried, whatever hypothesis draws: empty, not UTF-8, binary.
    @example(data=b'')
    @example(data=b'\xff\xfe\x80 1\n')
    @example(data=original[:len(original) // 2])
    def fuzz(data):
        with open(target, 'wb') as f:
            f.write(data)
        _check_outcome(case.cls, kwargs, root, target, case.line_based)

    fuzz()
