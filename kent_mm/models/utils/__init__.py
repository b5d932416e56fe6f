from .weight_init import (PatchFoldInit, PyTorchDefaultInit,
                          fold_patch_kernel)

__all__ = [
    'PatchFoldInit', 'PyTorchDefaultInit', 'fold_patch_kernel'
]
