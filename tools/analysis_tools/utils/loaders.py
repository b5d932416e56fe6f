"""Datasets and sequential loaders of the analysis tools."""
import argparse
from typing import Optional, Tuple

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader, Subset

from kent_mm.datasets.wrappers import unwrap_dataset
from .configs import resolve_dataset_config, split_dataset_cfg


def build_dataset(dataset_cfg: dict):
    """Build a dataset from the MMPretrain registry."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(dataset_cfg)


def build_eval_dataset(cfg: Config,
                       split: str = 'test',
                       data_root: Optional[str] = None,
                       dataset: Optional[str] = None,
                       dataset_options: Optional[dict] = None):
    """A split read with the model's deterministic test pipeline.

    Args:
        cfg (Config): The model's config; its test pipeline is used (the
            model's input size), and its dataset unless ``dataset`` is
            given.
        split (str): ``'train'``, ``'val'`` or ``'test'``: the dataloader
            whose dataset is read.
        data_root (str, optional): Replaces the dataset's ``data_root``.
        dataset (str, optional): Another dataset: a config with dataloaders
            or a dataset name (see :func:`resolve_dataset_config`).
        dataset_options (dict, optional): Merged into the ``dataset``
            config (``--cfg-options`` style keys).

    Returns:
        The built dataset.
    """
    data_cfg = cfg
    if dataset:
        data_cfg = resolve_dataset_config(dataset)
        if dataset_options:
            data_cfg.merge_from_dict(dataset_options)
    pipeline = split_dataset_cfg(cfg, 'test').pipeline
    return build_dataset(
        split_dataset_cfg(data_cfg, split, data_root, pipeline=pipeline))


def dataset_classes(dataset) -> Tuple[str, ...]:
    """Class names of a dataset (through wrappers and subsets)."""
    return tuple(unwrap_dataset(dataset).metainfo['classes'])


def build_loader(dataset,
                 batch_size: int = 64,
                 num_workers: int = 2,
                 max_samples: Optional[int] = None,
                 seed: int = 0) -> DataLoader:
    """A sequential loader; ``max_samples`` draws a fixed random subset.

    Args:
        dataset: The dataset.
        batch_size (int): Samples per batch.
        num_workers (int): Loader workers.
        max_samples (int, optional): Keep at most this many samples
            (sorted random subset drawn with ``seed``).
        seed (int): Seed of the subset.

    Returns:
        DataLoader: Yields MMPretrain batches (pseudo-collated).
    """
    if max_samples is not None and max_samples < len(dataset):
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(dataset), max_samples, replace=False))
        dataset = Subset(dataset, idx.tolist())
    return DataLoader(dataset, batch_size=batch_size, shuffle=False,
                      num_workers=num_workers, collate_fn=pseudo_collate)


def add_loader_args(parser: argparse.ArgumentParser,
                    batch_size: Optional[int] = 64,
                    num_workers: Optional[int] = 2) -> None:
    """Add the options every tool that runs a model over a dataset takes:
    ``--batch-size``, ``--num-workers``, ``--max-samples`` (see
    :func:`build_loader`), ``--device`` and the model's ``--cfg-options``.

    Args:
        parser (ArgumentParser): The tool's parser.
        batch_size (int, optional): Default of ``--batch-size``; None: the
            tool takes the config's loader setting.
        num_workers (int, optional): Default of ``--num-workers``, as
            ``batch_size``.
    """
    from_config = 'default: the config\'s loader'
    parser.add_argument('--batch-size', type=int, default=batch_size,
                        help=None if batch_size is not None else from_config)
    parser.add_argument('--num-workers', type=int, default=num_workers,
                        help=None if num_workers is not None else from_config)
    parser.add_argument('--max-samples', type=int,
                        help='a fixed random subset of at most this many')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the model config, key=value')
