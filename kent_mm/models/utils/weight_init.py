"""Weight initialisers: pretrained weights into a smaller patch embedding;
PyTorch's default initialisation of part of a model."""
import functools
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseInit, update_init_info
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


def _fold_larger_kernel(module: torch.nn.Module,
                        state_dict: Dict[str, torch.Tensor], prefix: str,
                        *args, param_name: str) -> None:
    """``load_state_dict`` pre-hook of :class:`PatchFoldInit`: replace a
    larger incoming ``(O, C, k, k)`` kernel of ``module.<param_name>`` by
    its fold (in place, as torch lets pre-hooks do)."""
    key = prefix + param_name
    value = state_dict.get(key)
    own = getattr(module, param_name)
    if (value is None or value.dim() != 4 or own.dim() != 4
            or value.shape[2] <= own.shape[2]):
        return  # absent, or already the module's size: load as it is
    try:
        state_dict[key] = fold_patch_kernel(value, own.shape[2])
    except ValueError as err:
        raise ValueError(f'{key}: {err}') from err
    print_log(f'{key}: folded {tuple(value.shape)} -> '
              f'{tuple(state_dict[key].shape)}', logger='current')


@WEIGHT_INITIALIZERS.register_module(name='PatchFold')
class PatchFoldInit:
    """Let a larger pretrained patch embedding load into the model's smaller
    one: the ``(O, C, k, k)`` kernel is folded to ``(O, C, p, p)``
    (:func:`fold_patch_kernel`) while the state dict loads.

    KENT's Swin-T runs 112 px faces with patch size 2 (the token grid of
    224 px / 4); alone, ``Pretrained`` cannot load the 4x4 ImageNet patch
    kernel and leaves it random. Put this entry next to the ``Pretrained``
    one: it only registers a ``load_state_dict`` pre-hook on the modules
    owning ``fold_keys``, so the loading itself stays ``Pretrained``'s,
    which MMEngine runs after the children's ``init_weights`` (Swin's
    ``WindowMSA`` re-draws its relative position biases there; any
    initialiser that loads weights earlier loses them).

    Example:
        ``init_cfg=[dict(type='PatchFold'),
        dict(type='Pretrained', checkpoint=URL, prefix='backbone')]``

    Args:
        fold_keys (Sequence[str]): Names (or name suffixes) of the patch
            embedding kernels in the initialised module.
    """

    def __init__(self,
                 fold_keys: Sequence[str] = (
                     'patch_embed.projection.weight', )) -> None:
        self.fold_keys = tuple(fold_keys)

    def __call__(self, module: torch.nn.Module) -> None:
        names = [name for name, _ in module.named_parameters()
                 if any(name == key or name.endswith('.' + key)
                        for key in self.fold_keys)]
        if not names:
            raise ValueError(
                f'init_cfg PatchFold: {type(module).__name__} has no '
                f'parameter named like fold_keys={list(self.fold_keys)}.')
        for name in names:
            owner_name, _, param_name = name.rpartition('.')
            owner = module.get_submodule(owner_name)
            # A second hook on the same kernel is a no-op: the first one
            # already gave the tensor the module's size.
            owner.register_load_state_dict_pre_hook(
                functools.partial(_fold_larger_kernel,
                                  param_name=param_name))


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
        # MMEngine's initialisers record what they did in the model's
        # `_params_init_info` (its init log) this way; there is no public
        # API. test_pytorch_default_init_is_named_in_mmengine_init_log.
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: reset_parameters()'
