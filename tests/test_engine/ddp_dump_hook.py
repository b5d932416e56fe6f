"""A hook that writes each rank's parameters, buffers and RNG state.

Imported by the distributed-training tests through the config's
``custom_imports`` (only rank 0 writes checkpoints, so the per-rank state
has to be written by a hook running on every rank).
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from kent_mm.engine.hooks import get_rng_state


@HOOKS.register_module(force=True)
class DumpRankStateHook(Hook):
    """Write ``<out_dir>/rank<r>.pth`` after training.

    Holds the parameters before the first and after the last iteration,
    the buffers after the last, whether the model was wrapped (DDP) and the
    global RNG state of the rank at the end of its last iteration (after
    ``RNGStateHook`` gathered the states, before the checkpoint is saved).
    """

    priority = 'NORMAL'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.dump = {}

    @staticmethod
    def _module(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        self.dump['wrapper'] = type(runner.model).__name__
        self.dump['init'] = {
            k: v.detach().clone()
            for k, v in self._module(runner).named_parameters()
        }

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.is_last_train_iter(runner):
            self.dump['rng_state'] = get_rng_state()
            self.dump['iter'] = runner.iter

    def after_train(self, runner) -> None:
        module = self._module(runner)
        self.dump['params'] = {
            k: v.detach().clone() for k, v in module.named_parameters()
        }
        self.dump['buffers'] = {
            k: v.detach().clone() for k, v in module.named_buffers()
        }
        torch.save(self.dump, osp.join(self.out_dir, f'rank{get_rank()}.pth'))
