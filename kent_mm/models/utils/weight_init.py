"""Weight initialisers: pretrained weights into a smaller patch embedding;
PyTorch's default initialisation of part of a model."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseInit, update_init_info
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


@WEIGHT_INITIALIZERS.register_module(name='PyTorchDefault')
class PyTorchDefaultInit(BaseInit):
    """PyTorch's own initialisation of each selected layer: its
    ``reset_parameters()`` (``nn.Linear``: weight and bias uniform in
    ``+-1/sqrt(fan_in)``).

    MMEngine runs a parent's ``init_cfg`` before its children's, so this
    undoes a broader initialisation for part of a model, e.g. keeps the
    default of ``E2NNeck``'s ``F_n`` under Swin's model-wide
    ``TruncNormal``.

    Example:
        ``neck=dict(..., init_cfg=dict(type='PyTorchDefault',
        override=dict(name='neutral')))``

    Args:
        layer (str | list[str], optional): Layer types to reset; with an
            ``override``, its whole named submodule is reset.
    """

    def __init__(self, layer: Optional[Union[str, List[str]]] = None) -> None:
        super().__init__(layer=layer)

    def __call__(self, module: Optional[torch.nn.Module]) -> None:
        if module is None:  # an override naming an absent optional module
            return

        def reset(m: torch.nn.Module) -> None:
            names = {type(m).__name__}
            names |= {b.__name__ for b in type(m).__bases__}
            if (self.wholemodule or names & set(self.layer)) and callable(
                    getattr(m, 'reset_parameters', None)):
                m.reset_parameters()

        module.apply(reset)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: reset_parameters()'
