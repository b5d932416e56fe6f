from .weight_init import PatchFoldPretrainedInit, fold_patch_kernel

__all__ = ['PatchFoldPretrainedInit', 'fold_patch_kernel']
