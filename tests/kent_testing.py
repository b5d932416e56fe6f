"""Helpers of the test suite: tool runs, tiny configs, text files, models.

Importable from every test module (``pythonpath = tests`` in pytest.ini);
fixtures live in ``tests/conftest.py``, dataset fixture writers in
``tests/fer_fixtures.py``.
"""
import contextlib
import copy
import functools
import io
import os
import os.path as osp
import runpy
import socket
import subprocess
import sys
import uuid
from typing import List, Optional, Sequence

from kent_mm.datasets import RAFDB

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
RAFDB_CLASSES = RAFDB.METAINFO['classes']


# ----------------------------------------------------------------- processes
def tool_env(extra: Optional[dict] = None) -> dict:
    """Environment of tool subprocesses: unbuffered, quiet, one thread."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.update(extra or {})
    return env


def run_tool(args: Sequence, cwd: Optional[str] = None, timeout: int = 600,
             env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run ``python <args>`` (from the repo root); return CompletedProcess."""
    return subprocess.run([sys.executable] + [str(a) for a in args],
                          cwd=cwd or REPO, env=tool_env(env),
                          capture_output=True, text=True, timeout=timeout)


def train_args(config: str, work_dir: str, *extra: str) -> List[str]:
    """Command line of ``tools/train.py`` (for ``subprocess.Popen``)."""
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), str(config),
            '--work-dir', str(work_dir), *extra]


def run_train(config: str, work_dir: str, *extra: str,
              timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``tools/train.py`` to completion."""
    return run_tool(train_args(config, work_dir, *extra)[1:],
                    timeout=timeout)


def output(proc: subprocess.CompletedProcess) -> str:
    """stdout + stderr of a finished process."""
    return (proc.stdout or '') + (proc.stderr or '')


def check(proc: subprocess.CompletedProcess) -> str:
    """Assert a zero exit status; return the output."""
    log = output(proc)
    assert proc.returncode == 0, log[-6000:]
    return log


def run_script(script: str, args: Sequence) -> str:
    """Run ``tools/<script>`` in this process (``runpy``, real argument
    parsing, no interpreter start-up); return what it printed."""
    old = sys.argv
    sys.argv = [script] + [str(a) for a in args]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(osp.join(REPO, 'tools', script),
                           run_name='__main__')
    except SystemExit as e:  # ``sys.exit(main())``: only 0 is success
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = old
    return out.getvalue()


def free_port() -> int:
    """A TCP port nobody listens on now (for torch.distributed)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------- configs
@functools.lru_cache(maxsize=None)
def _parsed_config(path: str):
    from mmengine.config import Config
    return Config.fromfile(path)


def cached_config(path: str):
    """``Config.fromfile(path)``, parsed once per process (a config with
    ``mmpretrain::`` bases takes about a second); a deep copy each call."""
    return copy.deepcopy(_parsed_config(osp.abspath(str(path))))


def build_runner(cfg, work_dir):
    """An MMEngine ``Runner`` of ``cfg`` (a ``Config`` or a config file)
    writing to ``work_dir``, under a fresh experiment name (MMEngine keeps
    loggers and visualizers per name)."""
    from mmengine.runner import Runner
    if isinstance(cfg, (str, os.PathLike)):
        cfg = cached_config(cfg)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'test_{uuid.uuid4().hex[:12]}'
    return Runner.from_cfg(cfg)


def config_path(name: str) -> str:
    """Path of ``configs/<name>``."""
    return osp.join(REPO, 'configs', name)


def write_text_file(path, class_names=RAFDB_CLASSES, dim: int = 512,
                    seed: int = 0) -> str:
    """A random L2-normalised text-feature cache (no CLIP needed)."""
    import torch
    import torch.nn.functional as F

    from kent_mm.models.text import save_text_cache
    g = torch.Generator().manual_seed(seed)
    embeds = F.normalize(torch.randn(len(class_names), dim, generator=g),
                         dim=1)
    save_text_cache(str(path), embeds, dict(class_names=list(class_names)))
    return str(path)


def write_tiny_config(path, base: str, data_root: str,
                      text_file: Optional[str] = None, img_size: int = 32,
                      batch_size: int = 4, num_workers: int = 0,
                      max_epochs: Optional[int] = None,
                      hooks: Optional[Sequence[str]] = None,
                      train_dataset: Optional[dict] = None,
                      val_dataset: Optional[dict] = None,
                      extra: str = '') -> str:
    """A config inheriting ``configs/<base>`` for fast CPU runs.

    ``img_size`` inputs, a random-flip train pipeline (it draws from NumPy's
    global RNG), ``num_workers`` loader workers, offline backbone init, log
    every iteration, a checkpoint every epoch (all kept) and, for KENT, the
    precomputed ``text_file`` instead of CLIP. ``hooks`` replaces
    ``custom_hooks`` (default: those of the base); ``train_dataset`` /
    ``val_dataset`` add dataset options (e.g. ``on_corrupt``).
    """
    lines = [
        f'_base_ = [{config_path(base)!r}]',
        f'img = {img_size}',
        "train_pipeline = [dict(type='LoadFERImage'),",
        "    dict(type='Resize', scale=(img, img)),",
        "    dict(type='RandomFlip', prob=0.5, direction='horizontal'),",
        "    dict(type='PackInputs')]",
        "test_pipeline = [dict(type='LoadFERImage'),",
        "    dict(type='Resize', scale=(img, img)), dict(type='PackInputs')]",
        'model = dict(backbone=dict(init_cfg=None))',
    ]
    if text_file is not None:
        lines.append(
            "model['head'] = dict(text_embeddings=dict(_delete_=True, "
            f"type='PrecomputedTextEmbeddings', file={str(text_file)!r}))")
    if 'swin' in base:  # stage maps below Swin's 7x7 window: pad them
        lines.append(
            "model['backbone'].update(img_size=img, pad_small_map=True)")
    for loader, pipeline, dataset in (
            ('train_dataloader', 'train_pipeline', train_dataset),
            ('val_dataloader', 'test_pipeline', val_dataset)):
        lines.append(
            f'{loader} = dict(batch_size={batch_size}, '
            f'num_workers={num_workers}, persistent_workers=False, '
            f'dataset=dict(data_root={str(data_root)!r}, '
            f'pipeline={pipeline}, **{dict(dataset or {})!r}))')
    lines += [
        'test_dataloader = val_dataloader',
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=1, max_keep_ckpts=-1))',
    ]
    if max_epochs is not None:
        lines.append(f'train_cfg = dict(max_epochs={max_epochs})')
    if hooks is not None:
        lines.append('custom_hooks = [{}]'.format(', '.join(
            f'dict(type={h!r})' for h in hooks)))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n' + extra + '\n')
    return str(path)


def write_random_checkpoint(path, config: str,
                            classes=RAFDB_CLASSES) -> str:
    """A randomly initialised model of ``config`` saved as MMEngine saves
    one (``state_dict`` + ``meta.dataset_meta``)."""
    import torch
    from mmpretrain.registry import MODELS

    import kent_mm  # noqa: F401
    torch.manual_seed(0)
    model = MODELS.build(cached_config(config).model)
    model.init_weights()
    torch.save(dict(meta=dict(dataset_meta=dict(classes=tuple(classes))),
                    state_dict=model.state_dict()), str(path))
    return str(path)
