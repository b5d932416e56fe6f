"""Helpers of the reliability tests: tiny fixtures, configs, tool runs."""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
from kent_testing import RAFDB_CLASSES

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KENT_CONFIG = osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py')


def write_rafdb(root: str, num_train: int = 8, num_test: int = 4,
                size: int = 32, seed: int = 0) -> Dict[str, List[str]]:
    """A tiny RAF-DB in the official layout (random-noise JPEGs).

    Returns:
        dict: ``{'train': [image paths], 'test': [...]}``.
    """
    import cv2
    rng = np.random.default_rng(seed)
    img_dir = osp.join(root, 'Image', 'aligned')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    lines, paths = [], {'train': [], 'test': []}
    for split, num in (('train', num_train), ('test', num_test)):
        for i in range(1, num + 1):
            name = f'{split}_{i:05d}'
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            path = osp.join(img_dir, f'{name}_aligned.jpg')
            cv2.imwrite(path, img)
            paths[split].append(path)
            lines.append(f'{name}.jpg {(i - 1) % 7 + 1}')
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt'),
              'w') as f:
        f.write('\n'.join(lines) + '\n')
    return paths


def write_text_embeddings(path: str, dim: int = 512, seed: int = 0) -> str:
    """A random L2-normalised (7, dim) cache for the RAF-DB classes."""
    import torch
    import torch.nn.functional as F

    from kent_mm.models.text import save_text_cache
    g = torch.Generator().manual_seed(seed)
    embeds = F.normalize(torch.randn(7, dim, generator=g), dim=1)
    save_text_cache(str(path), embeds,
                    dict(class_names=list(RAFDB_CLASSES)))
    return str(path)


def write_config(path: str, data_root: str, text_file: str,
                 batch_size: int = 2, max_epochs: int = 3,
                 hooks: Optional[Sequence[str]] = None,
                 num_workers: int = 0,
                 train_dataset: Optional[dict] = None,
                 val_dataset: Optional[dict] = None,
                 extra: str = '') -> str:
    """A config inheriting ``configs/kent_resnet18_rafdb.py`` for CPU runs.

    32x32 input, ``num_workers`` loader workers, offline backbone init, a
    precomputed text file, a random-flip train pipeline (draws from NumPy's
    global RNG, which is what makes resuming exactly non-trivial), log every
    iteration, checkpoint every epoch. ``hooks`` replaces ``custom_hooks``
    (default: keep those of ``configs/_base_/default_runtime.py``);
    ``train_dataset`` / ``val_dataset`` add dataset options (e.g.
    ``on_corrupt``).
    """
    train_ds = dict(train_dataset or {})
    val_ds = dict(val_dataset or {})
    custom_hooks = '' if hooks is None else 'custom_hooks = [{}]'.format(
        ', '.join(f'dict(type={h!r})' for h in hooks))
    content = f"""
_base_ = [{KENT_CONFIG!r}]
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
model = dict(
    backbone=dict(init_cfg=None),
    head=dict(text_embeddings=dict(
        _delete_=True, type='PrecomputedTextEmbeddings', file={text_file!r})))
train_dataloader = dict(batch_size={batch_size}, num_workers={num_workers},
    persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=train_pipeline,
                 **{train_ds!r}))
val_dataloader = dict(batch_size={batch_size}, num_workers={num_workers},
    persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=test_pipeline,
                 **{val_ds!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
{custom_hooks}
{extra}
"""
    with open(path, 'w') as f:
        f.write(content)
    return str(path)


def tool_env(extra: Optional[dict] = None) -> dict:
    """Environment of tool subprocesses: unbuffered, quiet, one thread."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.update(extra or {})
    return env


def train_args(config: str, work_dir: str, *extra: str) -> List[str]:
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
            '--work-dir', work_dir, *extra]


def run_train(config: str, work_dir: str, *extra: str,
              timeout: int = 300) -> subprocess.CompletedProcess:
    """Run tools/train.py to completion; returns the CompletedProcess."""
    return subprocess.run(train_args(config, work_dir, *extra), cwd=REPO,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=timeout)


def output(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout or '') + (proc.stderr or '')
