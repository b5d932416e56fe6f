"""Loading pretrained weights into a smaller patch embedding."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit
from mmengine.runner import CheckpointLoader, load_state_dict
from mmpretrain.registry import WEIGHT_INITIALIZERS


def fold_patch_kernel(weight: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Sum the ``r x r`` blocks of a ``(O, C, k, k)`` patch-embedding kernel
    into a ``(O, C, p, p)`` one, ``k = r * p``.

    The patch-p embedding of an image with the folded kernel equals the
    patch-k embedding of the image upsampled r times (nearest): each pixel
    of the small image covers an r x r block of the large one. So a
    backbone pretrained at 224 px with patch 4 sees the same tokens at
    112 px with patch 2.

    Args:
        weight (Tensor): ``(O, C, k, k)`` kernel.
        patch_size (int): Target ``p``; must divide ``k``.

    Returns:
        Tensor: ``(O, C, p, p)`` kernel.
    """
    out_c, in_c, k, k2 = weight.shape
    if k != k2 or k % patch_size:
        raise ValueError(f'Cannot fold a {k}x{k2} patch kernel into '
                         f'{patch_size}x{patch_size}.')
    r = k // patch_size
    return weight.reshape(out_c, in_c, patch_size, r, patch_size,
                          r).sum(dim=(3, 5))


@WEIGHT_INITIALIZERS.register_module(name='PatchFoldPretrained')
class PatchFoldPretrainedInit(PretrainedInit):
    """``Pretrained`` initialisation that also fits a larger pretrained patch
    embedding into the model's smaller one (:func:`fold_patch_kernel`).

    KENT's Swin-T runs 112 px faces with patch size 2 (the token grid of
    224 px / 4); with plain ``Pretrained`` the 4x4 ImageNet patch kernel
    does not fit and stays random. Every other weight loads as with
    ``Pretrained`` (non-strict).

    Example:
        ``init_cfg=dict(type='PatchFoldPretrained', checkpoint=URL,
        prefix='backbone')``

    Args:
        checkpoint (str): Checkpoint file or URL.
        prefix (str, optional): Load only keys under this prefix (stripped).
        map_location (str): As in ``Pretrained``.
        fold_keys (Sequence[str]): Suffixes of the patch-embedding kernels.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 fold_keys: Sequence[str] = (
                     'patch_embed.projection.weight', )) -> None:
        super().__init__(checkpoint, prefix=prefix, map_location=map_location)
        self.fold_keys = tuple(fold_keys)

    def _state_dict(self) -> Dict[str, torch.Tensor]:
        ckpt = CheckpointLoader.load_checkpoint(
            self.checkpoint, map_location=self.map_location)
        state = ckpt.get('state_dict', ckpt)
        if not self.prefix:
            return dict(state)
        prefix = self.prefix if self.prefix.endswith('.') else \
            self.prefix + '.'
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
        if not state:
            raise ValueError(f'{self.checkpoint} has no key starting with '
                             f'{prefix!r}.')
        return state

    def __call__(self, module: torch.nn.Module) -> None:
        print_log(f'load {self.prefix or "model"} from: {self.checkpoint} '
                  '(folding larger patch kernels)', logger='current')
        state = self._state_dict()
        own = module.state_dict()
        for key, value in state.items():
            if (key.endswith(self.fold_keys) and key in own
                    and value.dim() == 4
                    and value.shape[2] > own[key].shape[2]):
                state[key] = fold_patch_kernel(value, own[key].shape[2])
                print_log(f'{key}: folded {tuple(value.shape)} -> '
                          f'{tuple(state[key].shape)}', logger='current')
        load_state_dict(module, state, strict=False, logger='current')
