"""The synthetic RAF-DB generator and its command line."""

import importlib.util
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from kent_mm.datasets.emotions import RAFDB_CODES
from kent_mm.testing import generate_synthetic_rafdb, render_face
from kent_testing import REPO

LABEL_FILE = os.path.join('EmoLabel', 'list_patition_label.txt')
IMAGE_DIR = os.path.join('Image', 'aligned')
CLI_SCRIPT = os.path.join(REPO, 'tools', 'dataset_converters',
                          'generate_synthetic_rafdb.py')


def _gen(root, **kw):
    kw = {'num_train': 14, 'num_test': 7, 'image_size': 48, **kw}
    return generate_synthetic_rafdb(str(root), **kw)


def _read_labels(root):
    with open(os.path.join(root, LABEL_FILE), 'rb') as f:
        raw = f.read()
    return raw, raw.decode('ascii').splitlines()


def test_layout_and_naming(tmp_path):
    summary = _gen(tmp_path)
    _, lines = _read_labels(tmp_path)
    expected = [f'train_{i:05d}.jpg' for i in range(1, 15)] + \
        [f'test_{i:05d}.jpg' for i in range(1, 8)]
    names = [line.split(' ')[0] for line in lines]
    assert names == expected  # train first, then test, 5-digit numbering
    images = sorted(os.listdir(tmp_path / IMAGE_DIR))
    assert images == sorted(n[:-4] + '_aligned.jpg' for n in expected)
    # Only the label file in EmoLabel: no temp file left behind.
    assert os.listdir(tmp_path / 'EmoLabel') == ['list_patition_label.txt']
    assert summary['label_file'] == os.path.join(str(tmp_path), LABEL_FILE)


def test_label_lines_and_balance(tmp_path):
    summary = _gen(tmp_path)
    raw, lines = _read_labels(tmp_path)
    assert raw.endswith(b'\n') and b'\r' not in raw
    per_split = {'train': Counter(), 'test': Counter()}
    for line in lines:
        name, label = line.split(' ')  # exactly one single space
        assert label.isdigit() and 1 <= int(label) <= 7
        per_split[name.split('_')[0]][int(label)] += 1
    assert per_split['train'] == Counter({k: 2 for k in range(1, 8)})
    assert per_split['test'] == Counter({k: 1 for k in range(1, 8)})
    for split, n in (('train', 14), ('test', 7)):
        assert summary[split]['total'] == n
        assert summary[split]['per_label'] == dict(per_split[split])
        assert set(summary[split]['per_label']) == set(RAFDB_CODES)


def test_images_decode_at_requested_size(tmp_path):
    _gen(tmp_path, num_train=7, num_test=0, image_size=48)
    for name in os.listdir(tmp_path / IMAGE_DIR):
        with Image.open(tmp_path / IMAGE_DIR / name) as img:
            assert img.format == 'JPEG'
            assert img.mode == 'RGB'
            assert img.size == (48, 48)
            img.load()


def test_deterministic_per_seed(tmp_path):
    _gen(tmp_path / 'a', seed=3)
    _gen(tmp_path / 'b', seed=3)
    _gen(tmp_path / 'c', seed=4)
    raw_a, _ = _read_labels(tmp_path / 'a')
    raw_b, _ = _read_labels(tmp_path / 'b')
    assert raw_a == raw_b
    img = os.path.join(IMAGE_DIR, 'train_00001_aligned.jpg')
    assert (tmp_path / 'a' / img).read_bytes() == \
        (tmp_path / 'b' / img).read_bytes()
    # Another seed gives other pixels.
    assert (tmp_path / 'a' / img).read_bytes() != \
        (tmp_path / 'c' / img).read_bytes()


def test_existing_dataset_needs_overwrite(tmp_path):
    _gen(tmp_path, seed=0)
    raw_before, _ = _read_labels(tmp_path)
    with pytest.raises(FileExistsError, match='list_patition_label.txt'):
        _gen(tmp_path, seed=1)
    assert _read_labels(tmp_path)[0] == raw_before  # left untouched
    _gen(tmp_path, seed=0, overwrite=True)
    assert _read_labels(tmp_path)[0] == raw_before


def test_render_face_rejects_bad_label():
    with pytest.raises(ValueError):
        render_face(0, np.random.default_rng(0))


def test_mean_colour_does_not_predict_label():
    """Colour statistics alone must carry (almost) no label information."""
    rng = np.random.default_rng(123)

    def mean_rgb(n_per_class):
        feats, labels = [], []
        for label in range(1, 8):
            for _ in range(n_per_class):
                img = render_face(label, np.random.default_rng(
                    rng.integers(2**63)), image_size=48)
                feats.append(np.asarray(img, dtype=np.float64).mean((0, 1)))
                labels.append(label)
        return np.stack(feats), np.array(labels)

    x_fit, y_fit = mean_rgb(30)  # 210 images
    x_val, y_val = mean_rgb(20)  # 140 held-out images
    centroids = np.stack([x_fit[y_fit == k].mean(0) for k in range(1, 8)])

    def accuracy(x, y):
        dist = ((x[:, None, :] - centroids[None]) ** 2).sum(-1)
        return float((dist.argmin(1) + 1 == y).mean())

    # Chance is 1/7 ~ 14%; even the (optimistic) fit accuracy stays low.
    assert accuracy(x_fit, y_fit) < 0.35
    assert accuracy(x_val, y_val) < 0.35


def _load_cli():
    """Import the CLI script as a module (``tools`` is not a package)."""
    spec = importlib.util.spec_from_file_location('generate_synthetic_rafdb',
                                                  CLI_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_main(tmp_path, capsys):
    cli = _load_cli()
    argv = [str(tmp_path), '--num-train', '7', '--num-test', '7',
            '--image-size', '32', '--seed', '1']
    assert cli.main(argv) == 0
    assert 'train: 7 images' in capsys.readouterr().out
    assert len(os.listdir(tmp_path / IMAGE_DIR)) == 14
    # A second run without --overwrite refuses, with --overwrite succeeds.
    assert cli.main(argv) == 1
    assert 'list_patition_label.txt' in capsys.readouterr().err
    assert cli.main(argv + ['--overwrite']) == 0


def test_cli_entry_point(tmp_path):
    """``python tools/.../generate_synthetic_rafdb.py`` runs as a script."""
    env = dict(os.environ)
    # The package is normally pip-installed; the repo root on PYTHONPATH only
    # makes the test also pass from a plain checkout.
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO, env.get('PYTHONPATH')) if p)
    res = subprocess.run(
        [sys.executable, CLI_SCRIPT, str(tmp_path), '--num-train', '7',
         '--num-test', '0', '--image-size', '32'],
        capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    assert 'train: 7 images' in res.stdout
    assert os.path.isfile(tmp_path / LABEL_FILE)
