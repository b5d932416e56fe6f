from .weight_init import (PatchFoldPretrainedInit, PyTorchDefaultInit,
                          fold_patch_kernel)

__all__ = [
    'PatchFoldPretrainedInit', 'PyTorchDefaultInit', 'fold_patch_kernel'
]
