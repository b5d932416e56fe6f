"""Record the ATen ops a piece of model code dispatches (forward and
backward) and name those that synchronise with the host or that PyTorch
documents as nondeterministic on CUDA.

The op a Python call turns into (after autograd and composite
decompositions) is the same on every device, so a CPU run shows what a GPU
run would execute. Used by the KENT step and determinism tests.
"""
from typing import List, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode

#: Ops that read a device value back to the host, or whose output shape
#: depends on the data (the host must wait for the count).
HOST_SYNC_OPS = frozenset({
    '_local_scalar_dense',  # .item(), bool(t), int(t), if t: ...
    'is_nonzero', 'equal', 'nonzero', 'masked_select', 'unique_dim',
    '_unique', '_unique2', 'unique_consecutive', 'masked_scatter',
    'masked_scatter_'
})

#: ATen ops of the operations that ``torch.use_deterministic_algorithms``
#: documents as nondeterministic on CUDA (those that raise in deterministic
#: mode, and those that then switch to a slower deterministic kernel).
#: :class:`OpWatch` adds the accumulating ``index_put`` that the backward
#: of tensor indexing runs (listed for CPU tensors).
NONDETERMINISTIC_CUDA_OPS = frozenset({
    '_adaptive_avg_pool2d_backward', '_adaptive_avg_pool3d_backward',
    'adaptive_max_pool2d_backward', 'avg_pool3d_backward',
    'fractional_max_pool2d_backward', 'fractional_max_pool3d_backward',
    'max_pool3d_with_indices_backward', 'max_unpool2d', 'max_unpool3d',
    'upsample_linear1d_backward', 'upsample_bilinear2d_backward',
    'upsample_bicubic2d_backward', 'upsample_trilinear3d_backward',
    'reflection_pad1d_backward', 'reflection_pad2d_backward',
    'reflection_pad3d_backward', 'replication_pad1d_backward',
    'replication_pad2d_backward', 'replication_pad3d_backward',
    'nll_loss2d_forward', '_ctc_loss_backward', '_embedding_bag_backward',
    'embedding_dense_backward', 'put', 'put_', 'histc', 'bincount',
    'median', 'nanmedian', 'grid_sampler_2d_backward', 'scatter_add',
    'scatter_add_', 'scatter_reduce', 'scatter_reduce_', 'scatter',
    'scatter_', 'index_add', 'index_add_', 'index_copy', 'index_copy_',
    'cumsum', 'cumsum_'
})


def _accumulates(name: str, args, kwargs) -> bool:
    """Whether an ``index_put`` call accumulates (``accumulate=True``)."""
    if name not in ('index_put', 'index_put_', '_index_put_impl_'):
        return False
    if 'accumulate' in kwargs:
        return bool(kwargs['accumulate'])
    return len(args) > 3 and bool(args[3])


def _bool_index(name: str, args) -> bool:
    """Whether an indexing op selects with a boolean mask."""
    if name not in ('index', 'index_put', 'index_put_', '_index_put_impl_'):
        return False
    return any(
        isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8)
        for i in (args[1] if len(args) > 1 else ()))


class OpWatch(TorchDispatchMode):
    """``with OpWatch() as watch:`` records every dispatched ATen op.

    Attributes:
        ops (list[str]): Names of the ops, in call order.
        host_syncs (list[str]): Ops that wait for the device.
        nondeterministic (list[str]): Ops listed as nondeterministic on
            CUDA.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ops: List[str] = []
        self.host_syncs: List[str] = []
        self.nondeterministic: List[str] = []

    def __torch_dispatch__(self, func, types, args=(),
                           kwargs: Optional[dict] = None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        self.ops.append(name)
        if name in HOST_SYNC_OPS:
            self.host_syncs.append(name)
        elif _bool_index(name, args):
            self.host_syncs.append(f'{name} (boolean mask)')
        if name in NONDETERMINISTIC_CUDA_OPS:
            self.nondeterministic.append(name)
        elif _accumulates(name, args, kwargs):
            self.nondeterministic.append(f'{name} (accumulate=True)')
        return func(*args, **kwargs)
