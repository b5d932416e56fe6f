"""Shared test helpers (importable; fixtures live in conftest.py)."""
import os
import os.path as osp
import subprocess
import sys

from kent_mm.datasets import RAFDB

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: cfg-options that make a config train offline on a tiny fixture quickly.
OFFLINE_OPTS = [
    'model.backbone.init_cfg=None',
    'model.head.text_embeddings.pretrained=None',
    'model.head.text_embeddings.allow_random_init=True',
    'model.head.text_embeddings.cache_file=None',
]


def data_opts(root: str, batch_size: int = 4) -> list:
    """cfg-options pointing every dataloader at ``root``, small and serial."""
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.dataset.data_root={root}',
            f'{loader}.num_workers=0',
            f'{loader}.batch_size={batch_size}',
        ]
    return opts


def run_tool(args, cwd=None, timeout=600, env=None):
    """Run ``python <args>`` from the repo root; return CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault('PYTHONWARNINGS', 'ignore')
    return subprocess.run([sys.executable] + list(args),
                          cwd=cwd or REPO,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


RAFDB_CLASSES = RAFDB.METAINFO['classes']


def write_text_file(path, class_names=RAFDB_CLASSES, dim=512, seed=0):
    """A random normalised text-embedding file (no CLIP needed)."""
    import torch
    import torch.nn.functional as F

    from kent_mm.models.text import save_text_cache
    g = torch.Generator().manual_seed(seed)
    embeds = F.normalize(torch.randn(len(class_names), dim, generator=g),
                         dim=1)
    save_text_cache(str(path), embeds, dict(class_names=list(class_names)))
    return str(path)


def write_tiny_config(path, base, data_root, text_file=None, img_size=32,
                      extra=''):
    """A config inheriting ``configs/<base>`` for fast CPU runs.

    Overrides: tiny input size, serial loaders, batch 4, offline backbone
    init, and (for KENT) a precomputed text file instead of CLIP.
    """
    base_path = osp.join(REPO, 'configs', base)
    text = ''
    if text_file is not None:
        text = (f"model['head'] = dict(text_embeddings=dict(_delete_=True, "
                f"type='PrecomputedTextEmbeddings', file={text_file!r}))\n")
    # Small inputs give stage maps below Swin's 7x7 window: pad them.
    swin = ("model['backbone'].update(img_size=img, pad_small_map=True)\n"
            if 'swin' in base else '')
    content = f"""
_base_ = [{base_path!r}]
img = {img_size}
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img, img)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img, img)),
    dict(type='PackInputs'),
]
model = dict(backbone=dict(init_cfg=None))
{text}{swin}
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1))
{extra}
"""
    with open(path, 'w') as f:
        f.write(content)
    return str(path)
