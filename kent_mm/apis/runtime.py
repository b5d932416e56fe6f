"""Run MMPretrain's ``tools/train.py`` / ``tools/test.py`` on any machine.

kent_mm's ``tools/train.py`` and ``tools/test.py`` call
:func:`run_mmpretrain_tool`: MMPretrain's own scripts, shipped in its wheel,
with the arguments that :func:`prepare_mmpretrain_tool` adds, and MMEngine
checkpoints loaded under :func:`~kent_mm.utils.checkpoint_safe_globals`
(resume, ``load_from`` and test.py's checkpoint on torch >= 2.6).
MMPretrain's scripts assume a GPU; without CUDA they get:

- ``--launcher pytorch``: ``--cfg-options env_cfg.dist_cfg.backend=gloo
  model_wrapper_cfg.device_ids=None`` (DDP refuses ``device_ids`` for
  modules on the CPU), and a ``gloo`` process group started by
  :func:`run_mmpretrain_tool` before the script runs, because MMEngine's
  ``init_dist`` calls ``torch.cuda.set_device`` (the Runner keeps a group
  that exists).
- ``--no-pin-memory`` (pinning needs CUDA; otherwise a warning per loader).
- ``train --amp``: ``--cfg-options optim_wrapper.type=BF16OptimWrapper``
  (bfloat16 autocast; MMEngine's ``AmpOptimWrapper`` needs a GPU).

On every machine, ``train`` with ``--cfg-options ...num_workers=0`` gets
``--no-persistent-workers`` (the DataLoader refuses persistent workers
without workers; MMPretrain's script turns them on by default).
"""
import gc
import os.path as osp
import re
import runpy
import sys
from typing import List, Sequence

import torch
import torch.distributed as dist

from kent_mm.utils import checkpoint_safe_globals


def _launcher(args: Sequence[str]) -> str:
    for i, arg in enumerate(args):
        if arg.startswith('--launcher='):
            return arg.split('=', 1)[1]
        if arg == '--launcher' and i + 1 < len(args):
            return args[i + 1]
    return 'none'


def prepare_mmpretrain_tool(tool: str, args: Sequence[str]) -> List[str]:
    """``sys.argv`` that runs MMPretrain's ``tools/<tool>.py`` here.

    Args:
        tool (str): ``'train'`` or ``'test'``.
        args (Sequence[str]): The command-line arguments (without the
            program name), as MMPretrain's script takes them.

    Returns:
        list[str]: The path of MMPretrain's script followed by ``args`` and
        the arguments this machine needs (see the module docstring).
    """
    import mmpretrain
    script = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', f'{tool}.py')
    args = list(args)
    extra, options = [], []
    if tool == 'train' and any(
            re.fullmatch(r'\S*num_workers=0', a) for a in args):
        extra.append('--no-persistent-workers')
    if not torch.cuda.is_available():
        extra.append('--no-pin-memory')
        if tool == 'train' and '--amp' in args:
            options.append('optim_wrapper.type=BF16OptimWrapper')
        if _launcher(args) == 'pytorch':
            options += [
                'env_cfg.dist_cfg.backend=gloo',
                'model_wrapper_cfg.type=MMDistributedDataParallel',
                'model_wrapper_cfg.device_ids=None',
                # As MMEngine's default DDP wrapper.
                'model_wrapper_cfg.broadcast_buffers=False',
            ]
    if options:
        extra += ['--cfg-options'] + options
    return [script] + args + extra


def run_mmpretrain_tool(tool: str, args: Sequence[str]) -> None:
    """Run MMPretrain's ``tools/<tool>.py`` in this process.

    The script gets :func:`prepare_mmpretrain_tool`'s command line; without
    CUDA, ``--launcher pytorch`` first starts the ``gloo`` process group
    (from the ``torch.distributed.run`` environment); checkpoints load
    under :func:`~kent_mm.utils.checkpoint_safe_globals`.

    Args:
        tool (str): ``'train'`` or ``'test'``.
        args (Sequence[str]): The command-line arguments (without the
            program name), as MMPretrain's script takes them.
    """
    sys.argv = prepare_mmpretrain_tool(tool, args)
    if (not torch.cuda.is_available() and _launcher(args) == 'pytorch'
            and not dist.is_initialized()):
        dist.init_process_group(backend='gloo')
    with checkpoint_safe_globals():
        runpy.run_path(sys.argv[0], run_name='__main__')
    # MMPretrain's scripts leave the process group to the interpreter's
    # exit, where gloo's threads can abort a finished run ("terminate called
    # without an active exception", SIGABRT: dist_train.sh fails).
    if dist.is_initialized():
        # The finished runner (hooks and runner refer to each other) holds
        # the DDP reducer and its work on the group until a garbage
        # collection; collected at interpreter exit, gloo's threads can
        # abort the process. Free it while the group is still alive.
        gc.collect()
        # Every rank reaches this point before any tears its pairs down: a
        # rank that leaves first closes connections the others still use.
        if dist.get_world_size() > 1:
            dist.barrier()
        dist.destroy_process_group()
