"""The emotional-to-neutral (E2N) neck."""
import operator
from typing import Iterable, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

_VERSION = operator.attrgetter('_version')
# C-level attribute reads for the per-call checks of the fused head.
_TRAINING = operator.attrgetter('training')
_HOOKS = operator.attrgetter('_forward_hooks')
_PRE_HOOKS = operator.attrgetter('_forward_pre_hooks')
try:
    from torch.compiler import is_compiling as _is_compiling
except ImportError:  # torch < 2.3
    from torch._dynamo import is_compiling as _is_compiling


def fuse_affine(modules: Iterable[nn.Module]
                ) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """Collapse a chain of ``Linear`` and eval-mode ``BatchNorm1d`` layers
    into one affine map ``y = x @ W.T + b``, computed in float64 and
    returned in the first layer's dtype.

    Args:
        modules (Iterable[nn.Module]): The layers, in call order.

    Returns:
        tuple[Tensor, Tensor] | None: ``W`` ``(D_out, D_in)`` and ``b``
        ``(D_out,)``, or None when a layer is not affine at inference
        (another type, or a BatchNorm that uses batch statistics).
    """
    weight = bias = dtype = None
    for m in modules:
        if isinstance(m, nn.Linear):
            w, c = m.weight.double(), m.bias
            c = c.double() if c is not None else None
        elif (isinstance(m, nn.BatchNorm1d) and not m.training
              and m.track_running_stats and m.running_var is not None):
            # BN(y) = s * (y - mean) + beta, s = gamma / sqrt(var + eps)
            s = torch.rsqrt(m.running_var.double() + m.eps)
            if m.weight is not None:
                s = s * m.weight.double()
            c = -s * m.running_mean.double()
            if m.bias is not None:
                c = c + m.bias.double()
            w = torch.diag(s)
        else:
            return None
        if weight is None:
            dtype = (m.weight if isinstance(m, nn.Linear) else
                     m.running_var).dtype
            weight = w
            bias = c if c is not None else torch.zeros_like(w[:, 0])
        else:
            weight = w @ weight
            bias = w @ bias
            if c is not None:
                bias = bias + c
    if weight is None:
        return None
    return weight.to(dtype), bias.to(dtype)


@MODELS.register_module()
class E2NNeck(BaseModule):
    """Backbone feature -> expression representation v and neutral n.

    ``v = BN(W2 · BN(W1 · gap(x)))`` is the insightface-style embedding head
    of the official code (no biases), projecting to the text dimension; the
    emotional-to-neutral network ``F_n`` maps it to ``n = F_n(v)`` with an
    MLP ``D -> neutral_channels -> D``.

    ``n`` is only needed by the training losses: in eval mode the neck
    returns ``(v,)`` and skips ``F_n`` unless ``return_neutral`` is set
    (analysis tools set it to look at n).

    Inference fast path: the embedding head has no non-linearity, so in
    eval mode with gradients off (``tools/test.py``, the inferencer) its
    two Linears and two BatchNorms run as one fused ``Linear``, computed
    once and kept until a weight or running statistic changes (a mode
    switch, ``load_state_dict``, ``.to()``, or an in-place update). Half
    the weights to read and one op instead of four: at batch 1 this is
    what keeps KENT's inference within 2% of a linear head
    (BENCHMARKS.md, "Fused embedding head at inference").
    With gradients on, while tracing, under ``torch.compile``, or with
    ``fuse_eval=False`` the layers run one by one (same result up to float
    rounding); so do layers with hooks. Writing weights through ``.data``
    or replacing a parameter object leaves no trace the cache can see:
    MMEngine's EMA hook writes ``.data`` and then switches the mode (which
    drops the cache); other code that does either in eval mode should call
    ``.eval()`` again.

    Args:
        in_channels (int): Backbone channels (512 ResNet-18, 768 Swin-T).
        out_channels (int): Dimension D of v and n = text embedding dim.
        mid_channels (int, optional): Hidden width of the embedding head.
            Defaults to ``in_channels``.
        neutral_channels (int): Hidden width of F_n (128, official).
        return_neutral (bool): Also return n in eval mode.
        fuse_eval (bool): Use the fused embedding head at inference.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 512,
                 mid_channels: Optional[int] = None,
                 neutral_channels: int = 128,
                 return_neutral: bool = False,
                 fuse_eval: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid_channels = mid_channels or in_channels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.return_neutral = return_neutral
        self.fuse_eval = fuse_eval
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.embed = nn.Sequential(
            nn.Linear(in_channels, mid_channels, bias=False),
            nn.BatchNorm1d(mid_channels),
            nn.Linear(mid_channels, out_channels, bias=False),
            nn.BatchNorm1d(out_channels))
        self.neutral = nn.Sequential(
            nn.Linear(out_channels, neutral_channels), nn.ReLU(inplace=True),
            nn.Linear(neutral_channels, out_channels))
        # (layers, tensors, their versions, (W.T, b) or None) of the fused
        # embedding head; not a buffer, so checkpoints keep the layers.
        self._fused = None

    # ---------------------------------------------------- inference fusion
    def _fused_embed(self) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """The embedding head as one ``(W.T, b)``, cached; None if it cannot
        be fused (then the layers run as they are).

        Layers with hooks (a hook must see its layer run) or set to train
        mode on their own run as they are. The cache is checked on every
        call against the layers themselves (a replaced or inserted layer)
        and the in-place version of every parameter and
        BatchNorm statistic (bumped by optimizers, ``copy_``,
        ``load_state_dict``, ``reset_running_stats``): C-level checks,
        since at batch 1 every microsecond of Python shows. Running
        statistics updated by a training-mode forward do not bump their
        version; the mode switch drops the cache instead.
        """
        layers = tuple(self.embed._modules.values())
        if (any(map(_TRAINING, layers)) or any(map(_HOOKS, layers))
                or any(map(_PRE_HOOKS, layers))):
            return None  # a layer set to train on its own, or hooked
        cache = self._fused
        try:
            if (cache is not None and cache[0] == layers
                    and tuple(map(_VERSION, cache[1])) == cache[2]):
                return cache[3]
            tensors = tuple(t for m in layers
                            for t in (*m._parameters.values(),
                                      *m._buffers.values())
                            if t is not None)
            versions = tuple(map(_VERSION, tensors))
        except RuntimeError:
            # Inference tensors (a model built under inference_mode) have
            # no version counter: no cache, the layers run.
            return None
        # Plain tensors even when called under inference_mode, so the
        # cache stays usable outside it.
        with torch.inference_mode(False), torch.no_grad():
            fused = fuse_affine(layers)
            if fused is not None:
                # Kept as W.T, contiguous: ``addmm(b, x, W.T)`` reads it in
                # order, a third faster than ``F.linear``'s transposed view
                # or ``addmv`` at batch 1 with the weights cold in cache.
                fused = (fused[0].t().contiguous(), fused[1])
        self._fused = (layers, tensors, versions, fused)
        return fused

    def _drop_fused(self) -> None:
        self._fused = None

    def train(self, mode: bool = True) -> 'E2NNeck':
        # BatchNorm running statistics change in training without bumping
        # their version counter (only num_batches_tracked's, and only when
        # it is tracked): recompute after every mode switch.
        self._drop_fused()
        return super().train(mode)

    def _apply(self, fn, *args, **kwargs):
        self._drop_fused()  # .to(), .half(), .cuda(): new tensors
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self._drop_fused()
        super()._load_from_state_dict(*args, **kwargs)

    def _use_fused(self) -> bool:
        return not (self.training or not self.fuse_eval
                    or torch.is_grad_enabled() or torch.jit.is_tracing()
                    or _is_compiling())

    def forward(self, inputs: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Compute ``(v, n)`` (training) or ``(v,)`` (inference).

        Args:
            inputs (tuple[Tensor]): Backbone outputs; the last one,
                ``(N, C, H, W)`` or ``(N, C)``, is used.

        Returns:
            tuple[Tensor]: ``(v,)`` or ``(v, n)``, each ``(N, D)``.
        """
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() == 4:
            x = self.gap(x).flatten(1)
        elif x.dim() != 2:
            raise ValueError(f'E2NNeck expects (N, C, H, W) or (N, C) '
                             f'features, got shape {tuple(x.shape)}')
        if x.size(1) != self.in_channels:
            raise ValueError(
                f'E2NNeck: backbone gives {x.size(1)} channels but the neck '
                f'was built with in_channels={self.in_channels} (field '
                '`model.neck.in_channels`).')
        fused = self._fused_embed() if self._use_fused() else None
        if fused is None:
            v = self.embed(x)
        else:
            v = torch.addmm(fused[1], x, fused[0])
        if self.training or self.return_neutral:
            return v, self.neutral(v)
        return (v, )
