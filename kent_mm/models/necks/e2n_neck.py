"""The emotional-to-neutral (E2N) neck."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@torch.no_grad()
def fuse_affine(layers: Sequence[nn.Module]) -> nn.Linear:
    """Collapse ``Linear`` and eval-mode ``BatchNorm1d`` layers into one
    ``Linear`` with the same output (computed in float64 on the CPU, so it
    works on devices without float64, then cast back).

    Args:
        layers (Sequence[nn.Module]): The layers, in call order.

    Returns:
        nn.Linear: The fused layer, on the first layer's device and dtype.
    """
    first = layers[0].weight
    weight = bias = None
    for m in layers:
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().double()
            c = (m.bias.detach().cpu().double() if m.bias is not None else
                 torch.zeros(w.size(0), dtype=torch.float64))
        elif isinstance(m, nn.BatchNorm1d) and m.track_running_stats:
            # BN(y) = s * (y - mean) + beta, s = gamma / sqrt(var + eps)
            s = torch.rsqrt(m.running_var.detach().cpu().double() + m.eps)
            if m.weight is not None:
                s = s * m.weight.detach().cpu().double()
            w = torch.diag(s)
            c = -s * m.running_mean.detach().cpu().double()
            if m.bias is not None:
                c = c + m.bias.detach().cpu().double()
        else:
            raise TypeError(f'fuse_affine: cannot fuse {type(m).__name__} '
                            '(Linear and BatchNorm1d with running '
                            'statistics only).')
        weight = w if weight is None else w @ weight
        bias = c if bias is None else w @ bias + c
    fused = nn.Linear(weight.size(1), weight.size(0))
    fused.weight.copy_(weight)
    fused.bias.copy_(bias)
    return fused.to(device=first.device, dtype=first.dtype)


@MODELS.register_module()
class E2NNeck(BaseModule):
    """Backbone feature -> neutral n and expression representation v.

    ``v = BN(W2 · BN(W1 · gap(x)))`` is the insightface-style embedding head
    of the official code (no biases, BatchNorm eps 2e-5), projecting to the
    text dimension; the emotional-to-neutral network ``F_n`` maps it to
    ``n = F_n(v)`` with an MLP ``D -> neutral_channels -> D``. ``gap`` is a
    plain mean over H and W: no op of the neck is one that
    ``torch.use_deterministic_algorithms`` lists as nondeterministic.

    Outputs follow MMPretrain's convention that heads read the LAST neck
    output: training gives ``(n, v)``, so a stock head (``LinearClsHead``)
    after this neck classifies v, and :class:`KENTHead` reads v from
    ``feats[-1]`` and n from ``feats[0]``. ``n`` is only needed by the
    training losses: in eval mode the neck returns ``(v,)`` and skips
    ``F_n`` unless ``return_neutral`` is set (analysis tools set it to look
    at n). With ``neutral_channels=None`` there is no ``F_n`` and the neck
    always returns ``(v,)``: an embedding neck for any head, e.g.
    ``LinearClsHead`` on v (an ablation that keeps KENT's features and
    drops its text classifier).

    Deployment: at inference the embedding head is affine, so
    :meth:`switch_to_deploy` (MMPretrain's convention, as RepVGG) replaces
    its four layers by one fused ``Linear`` with the same output. A neck
    built with ``deploy=True`` has that layer from the start, to load a
    converted checkpoint.

    Args:
        in_channels (int): Backbone channels (512 ResNet-18, 768 Swin-T).
        out_channels (int): Dimension D of v and n = text feature dim.
        mid_channels (int, optional): Hidden width of the embedding head.
            Defaults to ``in_channels``.
        neutral_channels (int, optional): Hidden width of F_n (128,
            official). None builds no F_n (v only).
        norm_eps (float): eps of the embedding head's BatchNorms (2e-5, as
            the authors' head; PyTorch's default is 1e-5).
        out_norm (bool): End the embedding head with a BatchNorm (the
            authors' head). It gives every one of the D channels of v unit
            variance, so only about (C - 1) / D of ``|v|^2`` can lie in the
            span of C centred text anchors; False leaves
            ``v = W2 · BN(W1 · x)`` (from scratch it trains worse:
            BENCHMARKS.md). Defaults to True.
        return_neutral (bool): Also return n in eval mode (``(n, v)``).
        deploy (bool): Build the fused embedding head. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 512,
                 mid_channels: Optional[int] = None,
                 neutral_channels: Optional[int] = 128,
                 norm_eps: float = 2e-5,
                 out_norm: bool = True,
                 return_neutral: bool = False,
                 deploy: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid_channels = mid_channels or in_channels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.return_neutral = return_neutral
        self.deploy = deploy
        if deploy:
            self.embed = nn.Linear(in_channels, out_channels)
        else:
            layers = [
                nn.Linear(in_channels, mid_channels, bias=False),
                nn.BatchNorm1d(mid_channels, eps=norm_eps),
                nn.Linear(mid_channels, out_channels, bias=False)
            ]
            if out_norm:
                layers.append(nn.BatchNorm1d(out_channels, eps=norm_eps))
            self.embed = nn.Sequential(*layers)
        self.neutral = None if neutral_channels is None else nn.Sequential(
            nn.Linear(out_channels, neutral_channels), nn.ReLU(inplace=True),
            nn.Linear(neutral_channels, out_channels))

    def switch_to_deploy(self) -> None:
        """Fuse the embedding head (Linear-BN-Linear[-BN], eval statistics)
        into one ``Linear``: half the weights to read and one op instead of
        three or four at inference. Irreversible; the BatchNorms no longer
        train."""
        if self.deploy:
            return
        self.embed = fuse_affine(list(self.embed))
        self.deploy = True

    def forward(self, inputs: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Compute ``(n, v)`` (training) or ``(v,)`` (inference, or no F_n).

        Args:
            inputs (tuple[Tensor]): Backbone outputs; the last one,
                ``(N, C, H, W)`` or ``(N, C)``, is used.

        Returns:
            tuple[Tensor]: ``(v,)`` or ``(n, v)``, each ``(N, D)``: v is
            always the last.
        """
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() == 4:
            # A mean, not nn.AdaptiveAvgPool2d, which torch lists as
            # nondeterministic on CUDA (backward); that it runs as a mean
            # for a 1x1 output is an ATen detail.
            x = x.mean(dim=(2, 3))
        elif x.dim() != 2:
            raise ValueError(f'E2NNeck expects (N, C, H, W) or (N, C) '
                             f'features, got shape {tuple(x.shape)}')
        if x.size(1) != self.in_channels:
            raise ValueError(
                f'E2NNeck: backbone gives {x.size(1)} channels but the neck '
                f'was built with in_channels={self.in_channels} (field '
                '`model.neck.in_channels`).')
        v = self.embed(x)
        if self.neutral is not None and (self.training
                                         or self.return_neutral):
            return self.neutral(v), v
        return (v, )
