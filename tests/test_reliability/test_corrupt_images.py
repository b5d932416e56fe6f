"""Broken image files: a clear error by default, skip-and-report on request.

Kinds of damage: zero bytes, truncated JPEG, bytes that are no image, a
file deleted after the annotations were read, and unreadable paths: a
directory where the image should be, and a symbolic link to itself, which no
user can open (unlike ``chmod 000``, which root reads anyway).
"""
import os
import os.path as osp
import re

import glob

import pytest

from fer_fixtures import rafdb_images, write_rafdb
from kent_mm.datasets import RAFDB
from kent_mm.datasets.transforms import CorruptImageError
from kent_testing import build_runner, write_tiny_config

PIPELINE = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]


def _damage(path: str, kind: str) -> None:
    """Break the image file ``path`` in the way ``kind`` names."""
    if kind == 'zero_bytes':
        open(path, 'wb').close()
    elif kind == 'truncated_jpeg':
        data = open(path, 'rb').read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    elif kind == 'not_an_image':
        with open(path, 'wb') as f:
            f.write(b'<html>404 Not Found</html>\n' * 20)
    elif kind == 'directory':
        os.remove(path)
        os.mkdir(path)
    elif kind == 'symlink_loop':
        os.remove(path)
        os.symlink(osp.basename(path), path)  # open(): ELOOP, even for root
    else:
        raise ValueError(kind)


KINDS = ['zero_bytes', 'truncated_jpeg', 'not_an_image', 'directory',
         'symlink_loop']
#: What the error says for each kind.
REASONS = dict(zero_bytes='empty', truncated_jpeg='truncated JPEG',
               not_an_image='not an image', directory='cannot be read',
               symlink_loop='cannot be read')


def _write(root, num_train, num_test):
    write_rafdb(root, num_train=num_train, num_test=num_test)
    return dict(train=rafdb_images(root, 'train'),
                test=rafdb_images(root, 'test'))


@pytest.fixture
def rafdb(tmp_path):
    root = str(tmp_path / 'rafdb')
    return root, _write(root, num_train=8, num_test=4)


@pytest.mark.parametrize('kind', KINDS)
def test_broken_image_raises_error_naming_the_file(rafdb, kind):
    root, paths = rafdb
    dataset = RAFDB(data_root=root, split='train', pipeline=PIPELINE)
    dataset[2]  # the intact file loads
    _damage(paths['train'][2], kind)
    with pytest.raises(CorruptImageError) as info:
        dataset[2]
    assert info.value.path == paths['train'][2]
    assert paths['train'][2] in str(info.value)
    assert REASONS[kind] in str(info.value)


def test_file_deleted_after_parsing_raises_error_naming_the_file(rafdb):
    root, paths = rafdb
    dataset = RAFDB(data_root=root, split='train', pipeline=PIPELINE)
    os.remove(paths['train'][5])
    with pytest.raises(CorruptImageError, match='file not found') as info:
        dataset[5]
    assert info.value.path == paths['train'][5]


@pytest.mark.parametrize('kind', KINDS)
def test_skip_mode_replaces_and_records_broken_file(rafdb, kind, tmp_path):
    root, paths = rafdb
    log = str(tmp_path / 'skipped.log')
    dataset = RAFDB(data_root=root, split='train', pipeline=PIPELINE,
                    on_corrupt='skip', corrupt_log=log)
    _damage(paths['train'][3], kind)
    sample = dataset[3]
    assert sample['inputs'].shape[-2:] == (32, 32)
    assert sample['data_samples'].img_path != paths['train'][3]
    records, offset = dataset.read_corrupt_records()
    assert [p for p, _ in records] == [paths['train'][3]]
    assert records[0][1]  # with a reason
    assert dataset.read_corrupt_records(offset) == ([], offset)


@pytest.mark.parametrize('test_mode', [False, True])
def test_skip_takes_next_readable_sample_deterministically(
        rafdb, tmp_path, test_mode):
    root, paths = rafdb
    dataset = RAFDB(data_root=root, split='test', pipeline=PIPELINE,
                    test_mode=test_mode, on_corrupt='skip',
                    corrupt_log=str(tmp_path / 'skipped.log'))
    _damage(paths['test'][1], 'truncated_jpeg')
    _damage(paths['test'][2], 'zero_bytes')
    # 1 and 2 are broken: both become sample 3, every time.
    got = [dataset[i]['data_samples'].img_path for i in range(4)]
    assert got == [paths['test'][0]] + [paths['test'][3]] * 3
    records, _ = dataset.read_corrupt_records()
    assert [p for p, _ in records] == [paths['test'][1], paths['test'][2],
                                       paths['test'][2]]


def test_skip_mode_gives_up_when_nothing_is_readable(rafdb, tmp_path):
    root, paths = rafdb
    dataset = RAFDB(data_root=root, split='train', pipeline=PIPELINE,
                    on_corrupt='skip', max_refetch=5,
                    corrupt_log=str(tmp_path / 'skipped.log'))
    for p in paths['train']:
        _damage(p, 'zero_bytes')
    with pytest.raises(RuntimeError, match='6 broken images in a row'):
        dataset[0]


def test_unknown_on_corrupt_value_is_refused(rafdb):
    with pytest.raises(ValueError, match='on_corrupt'):
        RAFDB(data_root=rafdb[0], split='train', on_corrupt='ignore')


@pytest.fixture
def broken_rafdb(tmp_path):
    """14 train / 7 test; train 2-4 and test 2 broken in different ways."""
    root = str(tmp_path / 'rafdb')
    paths = _write(root, num_train=14, num_test=7)
    broken = {
        paths['train'][1]: 'zero_bytes',
        paths['train'][2]: 'truncated_jpeg',
        paths['train'][3]: 'directory',
        paths['test'][1]: 'not_an_image',
    }
    for path, kind in broken.items():
        _damage(path, kind)
    return root, paths, broken


def _config(tmp_path, root, rafdb_text, **kwargs):
    return write_tiny_config(tmp_path / 'cfg.py', 'kent_resnet18_rafdb.py',
                             root, rafdb_text, batch_size=2, **kwargs)


def test_training_skips_and_lists_broken_images_each_epoch(
        broken_rafdb, tmp_path, rafdb_text, lean_runner):
    """End to end, with a dataloader worker process doing the skipping.

    The report comes from ``CorruptImageReportHook`` as listed in
    ``configs/_base_/default_runtime.py`` (the config keeps its hooks).
    """
    root, paths, broken = broken_rafdb
    train_log = str(tmp_path / 'train_skipped.log')
    val_log = str(tmp_path / 'val_skipped.log')
    cfg = _config(tmp_path, root, rafdb_text, max_epochs=2, num_workers=1,
                  train_dataset=dict(on_corrupt='skip',
                                     corrupt_log=train_log),
                  val_dataset=dict(on_corrupt='skip', corrupt_log=val_log))
    work = tmp_path / 'work'
    build_runner(cfg, work).train()
    (log_file, ) = glob.glob(str(work / '*' / '*.log'))
    with open(log_file) as f:
        log = f.read()
    train_broken = sorted(p for p in broken if '/train_' in p)
    for epoch in (1, 2):
        m = re.search(
            rf'(\d+) broken image\(s\) skipped during train epoch {epoch} '
            r'\(train_dataloader\.dataset, RAFDB, (\d+) distinct file\(s\)\)'
            r'\.\n((?:  .*\n)+)', log)
        assert m, log[-4000:]
        assert int(m[1]) >= 3 and int(m[2]) == 3
        assert sorted(re.findall(r'  (\S+): ', m[3])) == train_broken
    for epoch in (1, 2):
        assert re.search(
            rf'1 broken image\(s\) skipped during validation at epoch {epoch} '
            r'.*metrics above count duplicates', log), log[-4000:]
    assert f'  {paths["test"][1]}: not an image' in log
    # The record files are removed at the end of the run.
    assert not osp.exists(train_log) and not osp.exists(val_log)


def test_training_stops_by_default_naming_the_broken_file(
        broken_rafdb, tmp_path, rafdb_text, lean_runner):
    root, _, broken = broken_rafdb
    cfg = _config(tmp_path, root, rafdb_text, max_epochs=1, num_workers=1)
    runner = build_runner(cfg, tmp_path / 'work')
    # Raised in the loader worker; the DataLoader re-raises it with the
    # worker's traceback.
    with pytest.raises(Exception) as info:
        runner.train()
    text = str(info.value)
    assert 'CorruptImageError' in text, text
    assert any(f'{p}: ' in text for p in broken), text
    assert runner.iter == 0
