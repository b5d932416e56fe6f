"""Configs of the analysis tools: a model config, a dataset by file or name.

Config files are paths as the user gives them: absolute, or relative to the
current directory. Dataset *names* (``rafdb``, ``ckplus``, ...) stand for
the dataset base configs ``configs/_base_/datasets/<name>_bs*.py`` under the
current directory (the repository root, where the tools are run from).
"""
import copy
import glob
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config, ConfigDict

from kent_mm.datasets.wrappers import unwrap_dataset

#: Where dataset names are looked up, relative to the current directory.
DATASET_CONFIG_DIR = osp.join('configs', '_base_', 'datasets')


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file and merge ``--cfg-options`` into it."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def dataset_config_names(
        configs_dir: str = DATASET_CONFIG_DIR) -> Dict[str, str]:
    """Dataset names usable instead of a config path, e.g. ``'ckplus'``.

    Each ``<configs_dir>/<name>_bs*.py`` gives ``<name>``.

    Args:
        configs_dir (str): Folder of the dataset base configs.

    Returns:
        dict[str, str]: ``{name: config path}``.
    """
    names = {}
    for path in sorted(glob.glob(osp.join(configs_dir, '*_bs*.py'))):
        base = osp.basename(path)
        if not base.startswith('fer_loaders'):
            names[base.split('_bs')[0]] = path
    return names


def resolve_dataset_config(name_or_cfg: str,
                           configs_dir: str = DATASET_CONFIG_DIR) -> Config:
    """A config (file path or dataset name) that has dataloaders.

    Args:
        name_or_cfg (str): A config file (a dataset base such as
            ``configs/_base_/datasets/ckplus_bs64_112.py`` or a full model
            config) or a dataset name from :func:`dataset_config_names`
            (``rafdb``, ``ckplus``, ``fer2013``, ...; case, ``-`` and ``_``
            do not matter).
        configs_dir (str): Folder of the dataset base configs.

    Returns:
        Config: The loaded config.
    """
    if osp.isfile(name_or_cfg):
        return Config.fromfile(name_or_cfg)
    names = dataset_config_names(configs_dir)
    key = name_or_cfg.lower().replace('-', '').replace('_', '')
    for name, path in names.items():
        if name.replace('-', '').replace('_', '') == key:
            return Config.fromfile(path)
    raise FileNotFoundError(
        f'{name_or_cfg!r} is neither a config file nor a dataset name; '
        f'names are the files <name>_bs*.py in {osp.abspath(configs_dir)} '
        f'(run from the repository root): {sorted(names) or "none found"}')


def split_dataset_cfg(cfg: Config,
                      split: str = 'test',
                      data_root: Optional[str] = None,
                      pipeline: Optional[List[dict]] = None) -> ConfigDict:
    """Dataset config of ``cfg.<split>_dataloader`` for evaluation.

    Wrappers are removed and the pipeline is the deterministic test
    pipeline (``cfg.test_dataloader``'s, or ``pipeline``), also for the
    train split.

    Args:
        cfg (Config): A config with dataloaders.
        split (str): ``'train'``, ``'val'`` or ``'test'`` (the dataloader
            whose dataset is used).
        data_root (str, optional): Replaces the dataset's ``data_root``.
        pipeline (list[dict], optional): Replaces the pipeline.

    Returns:
        ConfigDict: The dataset config.
    """
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise KeyError(f'the config has no {split}_dataloader')
    dataset_cfg = copy.deepcopy(unwrap_dataset(loader['dataset']))
    if pipeline is None:
        pipeline = unwrap_dataset(cfg.test_dataloader['dataset'])['pipeline']
    dataset_cfg['pipeline'] = copy.deepcopy(pipeline)
    if data_root is not None:
        dataset_cfg['data_root'] = data_root
    return ConfigDict(dataset_cfg)
