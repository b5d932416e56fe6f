"""Run a trained model over a dataset split: logits, features, labels.

Shared by ``tools/analysis_tools/plot_confusion_matrix.py``,
``tools/cross_dataset_test.py``,
``tools/visualization/vis_expression_tsne.py`` and
``tools/extract_features.py``.
"""
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.utils import ProgressBar
from mmpretrain import get_model
from torch.utils.data import DataLoader

from kent_mm.utils import checkpoint_safe_globals
from .configs import load_config
from .loaders import build_eval_dataset, build_loader

#: Features ``collect_outputs`` can return.
FEATURE_STAGES = ('neck', 'backbone', 'pre_logits')


def _pool(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N, C)`` by global average pooling."""
    if x.dim() == 4:
        return x.mean(dim=(2, 3))
    if x.dim() == 3:  # tokens (N, L, C)
        return x.mean(dim=1)
    return x


@torch.no_grad()
def collect_outputs(model: nn.Module,
                    loader: DataLoader,
                    feature: str = 'neck',
                    return_neutral: bool = False,
                    progress: bool = True) -> Dict[str, np.ndarray]:
    """Logits, features and labels of every sample of a loader.

    Args:
        model (nn.Module): An MMPretrain classifier (``extract_feat``,
            ``data_preprocessor``; ``head`` optional).
        loader (DataLoader): From :func:`build_loader`.
        feature (str): Which features to return: ``'neck'`` (last neck
            output, as MMPretrain heads read it; KENT's expression
            representation v, a pooled vector for plain GAP necks),
            ``'backbone'`` (last backbone output, globally average pooled)
            or ``'pre_logits'`` (the head's input).
        return_neutral (bool): Also return KENT's neutral representation n
            (sets ``model.neck.return_neutral``).
        progress (bool): Show an ``mmengine`` progress bar.

    Returns:
        dict[str, np.ndarray]: ``features (N, D)``, ``labels (N, )``,
        ``logits (N, C)`` (if the model has a head), ``neutral (N, D)`` (if
        asked) and ``sample_idx (N, )`` (dataset index of each sample).
    """
    if feature not in FEATURE_STAGES:
        raise ValueError(f'feature must be one of {FEATURE_STAGES}, got '
                         f'{feature!r}')
    neck = getattr(model, 'neck', None)
    if return_neutral and not hasattr(neck, 'return_neutral'):
        raise ValueError('return_neutral needs a neck with a '
                         '`return_neutral` switch (E2NNeck)')
    old = getattr(neck, 'return_neutral', None)
    if return_neutral:
        neck.return_neutral = True
    head = getattr(model, 'head', None)
    out: Dict[str, List[np.ndarray]] = dict(
        features=[], labels=[], logits=[], neutral=[], sample_idx=[])
    bar = ProgressBar(len(loader.dataset)) if progress else None
    try:
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs, samples = data['inputs'], data['data_samples']
            back = model.extract_feat(inputs, stage='backbone')
            feats = model.neck(back) if getattr(model, 'with_neck',
                                                neck is not None) else back
            if feature == 'backbone':
                x = back[-1] if isinstance(back, (tuple, list)) else back
            elif feature == 'pre_logits':
                x = head.pre_logits(feats)
            else:
                x = feats[-1] if isinstance(feats, (tuple, list)) else feats
            out['features'].append(_pool(x).float().cpu().numpy())
            if head is not None:
                out['logits'].append(head(feats).float().cpu().numpy())
            if return_neutral:
                # E2NNeck gives (n, v).
                out['neutral'].append(feats[0].float().cpu().numpy())
            out['labels'].append(
                torch.cat([s.gt_label for s in samples]).cpu().numpy())
            out['sample_idx'].append(
                np.asarray([s.get('sample_idx', -1) for s in samples]))
            if bar is not None:
                for _ in samples:
                    bar.update()
    finally:
        if return_neutral:
            neck.return_neutral = old
    if bar is not None:
        print()
    return {k: np.concatenate(v) for k, v in out.items() if v}


def load_model(cfg, checkpoint: str, device: str = 'cpu') -> nn.Module:
    """``mmpretrain.get_model(cfg, pretrained=checkpoint)`` (in eval mode);
    MMEngine training checkpoints load with
    :func:`~kent_mm.utils.checkpoint_safe_globals`.

    Args:
        cfg (Config | str): The model config.
        checkpoint (str): A checkpoint file.
        device (str): Where to put the model.

    Returns:
        nn.Module: The classifier.
    """
    with checkpoint_safe_globals():
        return get_model(cfg, pretrained=checkpoint, device=device)


def run_split(config: str,
              checkpoint: str,
              split: str = 'test',
              data_root: Optional[str] = None,
              cfg_options: Optional[dict] = None,
              batch_size: Optional[int] = None,
              num_workers: Optional[int] = None,
              max_samples: Optional[int] = None,
              feature: str = 'neck',
              return_neutral: bool = False,
              device: str = 'cpu',
              progress: bool = True):
    """Load config + checkpoint and :func:`collect_outputs` on a split.

    The model comes from ``mmpretrain.get_model`` (class names from the
    checkpoint's ``meta.dataset_meta``; MMEngine training checkpoints load
    with :func:`~kent_mm.utils.checkpoint_safe_globals`); the split is read
    with the test pipeline.

    Returns:
        tuple: ``(outputs, model, dataset, cfg)``.
    """
    cfg = load_config(config, cfg_options)
    model = load_model(cfg, checkpoint, device)
    dataset = build_eval_dataset(cfg, split, data_root)
    loader_cfg = cfg.get(f'{split}_dataloader') or {}
    loader = build_loader(
        dataset,
        batch_size=batch_size or loader_cfg.get('batch_size', 64),
        num_workers=(num_workers if num_workers is not None else
                     loader_cfg.get('num_workers', 2)),
        max_samples=max_samples)
    outputs = collect_outputs(model, loader, feature, return_neutral,
                              progress)
    return outputs, model, dataset, cfg
