"""bfloat16 autocast training on any device, the CPU included."""
from contextlib import contextmanager
from typing import Optional

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """An :class:`~mmengine.optim.OptimWrapper` whose forward runs under
    ``torch.autocast(dtype=torch.bfloat16)`` on the model's device.

    MMEngine's ``AmpOptimWrapper`` refuses the CPU. On CPUs with AVX-512
    BF16 (or AMX), bfloat16 autocast trains convolutional networks 1.4-1.7x
    faster than float32 (BENCHMARKS.md, bf16 section). bfloat16 has
    float32's exponent range, so no loss scaling is needed: parameters,
    gradients and optimizer state stay float32 and only the autocast ops
    run in bfloat16. On GPUs it works as well (Ampere and later).

    ``tools/train.py --amp`` selects this wrapper on machines without a
    GPU. Use it in a config as ``optim_wrapper=dict(type='BF16OptimWrapper',
    optimizer=...)``.

    Args:
        loss_scale (optional): Ignored (bfloat16 needs no loss scaling).
            Accepted so that a config written for ``AmpOptimWrapper``
            (``loss_scale='dynamic'``) can switch to this type.
        device_type (str, optional): Autocast device type. Defaults to the
            device of the model's first parameter.
        **kwargs: Arguments of :class:`~mmengine.optim.OptimWrapper`.
    """

    def __init__(self,
                 loss_scale=None,
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of the base class, plus autocast."""
        device_type = self.device_type
        if device_type is None:
            param = next(model.parameters(), None)
            device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=torch.bfloat16):
            yield
