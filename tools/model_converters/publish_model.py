# Copyright (c) OpenMMLab. All rights reserved.
# Adapted from MMPretrain's tools/model_converters/publish_model.py for
# kent_mm: safe (weights_only) loading, an allow-list of what is kept, the
# KENT text-embedding buffers checked, an atomic write, and an optional
# ready-to-paste configs/metafile.yml entry.
"""Turn a training checkpoint into a release file.

Keeps ``state_dict`` (KENT's text-feature buffers included) and the stable
part of ``meta`` (``dataset_meta``, epoch, seed, versions); drops the
optimizer, parameter schedulers, message hub, save time and training config,
so that a bit-identical training publishes a bit-identical file. Writes
``<out>_<YYYYMMDD>-<sha256[:8]>.pth`` as MMPretrain does, where the hash is
that of the written file.

Example::

    python tools/model_converters/publish_model.py \\
        work_dirs/kent_r18_fer2013/best_accuracy_top1_epoch_41.pth \\
        release/kent_resnet18_fer2013.pth \\
        --config configs/kent_resnet18_fer2013.py \\
        --metrics work_dirs/kent_r18_fer2013/test_metrics.json \\
        --dataset FER2013 --weights-url https://example.org/kent_mm/v1/

A file that ships with the repository (``weights/``, loaded through the
``kent_mm://`` scheme, sha256-checked; ``--half`` keeps it small)::

    python tools/model_converters/publish_model.py BEST.pth \\
        weights/kent_resnet18_fer2013-112px-minilm.pth --half \\
        --config configs/benchmarks/kent_resnet18_fer2013_zoo_minilm.py \\
        --metrics test_metrics.json --dataset FER2013 \\
        --weights-url kent_mm://weights/
"""
import argparse
import datetime
import hashlib
import io
import json
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Any, Dict, Optional

import numpy as np
import torch

import kent_mm  # noqa: F401  registers kent_mm (allow-list, components)
from kent_mm.apis.shipped_weights import sha256_of
from kent_mm.utils import atomic_write, safe_load

#: Top-level checkpoint keys that are published; everything else is runner
#: state (optimizer, param_schedulers, message_hub, hook_msgs, ...).
KEEP_KEYS = ('meta', 'state_dict')
#: ``meta`` fields that are published. The others (save time, experiment
#: name, the training config text with its machine paths) would make two
#: bit-identical trainings publish files with different hashes.
KEEP_META = ('dataset_meta', 'epoch', 'iter', 'seed', 'mmengine_version',
             'mmpretrain_version', 'kent_mm_version')

#: metafile metric name -> tools/test.py metric names, first found is used.
METRIC_NAMES = OrderedDict([
    ('Top 1 Accuracy', ('accuracy/top1', )),
    ('Mean Class Accuracy', ('class_acc/mean', 'single-label/recall')),
    ('Macro F1', ('single-label/f1-score', )),
    ('Expected Calibration Error', ('calibration/ece', )),
])


def parse_args():
    parser = argparse.ArgumentParser(
        description='Process a checkpoint to be published')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument(
        'out_file',
        help='output checkpoint filename; the date and hash are appended')
    parser.add_argument(
        '--no-ema',
        action='store_true',
        help='Use keys in `ema_state_dict` (no-ema keys).')
    parser.add_argument(
        '--half',
        action='store_true',
        help='store floating-point tensors in float16 (half the size; '
        'models load them into float32)')
    parser.add_argument(
        '--dataset-type',
        type=str,
        help='Dataset type (e.g. "FER2013") whose METAINFO fills '
        '`meta.dataset_meta` when the checkpoint has none.')
    parser.add_argument(
        '--config',
        help='config of the model (repository-relative, e.g. '
        'configs/kent_resnet18_fer2013.py); with it a metafile entry is '
        'printed')
    parser.add_argument(
        '--name',
        help='model name in the metafile (default: the out_file stem)')
    parser.add_argument(
        '--metrics',
        help='JSON written by `tools/test.py ... --out M.json '
        '--out-item metrics`; fills Results')
    parser.add_argument(
        '--dataset', help='dataset name for Metadata/Results (e.g. FER2013)')
    parser.add_argument(
        '--weights-url',
        default='',
        help='folder URL where the file will be uploaded (Weights field)')
    parser.add_argument(
        '--metafile-out',
        help='also write the metafile entry to this file (YAML)')
    return parser.parse_args()


def _plain(obj: Any) -> Any:
    """NumPy scalars/arrays in ``meta`` -> Python objects, so the file loads
    with plain ``torch.load(weights_only=True)`` (no allow-list needed)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def process_checkpoint(in_file: str,
                       out_file: str,
                       no_ema: bool = False,
                       dataset_type: Optional[str] = None,
                       half: bool = False) -> str:
    """Strip a checkpoint and write the release file.

    Args:
        in_file (str): Training checkpoint (loaded with
            ``weights_only=True``).
        out_file (str): Output name; ``_<YYYYMMDD>-<sha256[:8]>`` is inserted
            before ``.pth``.
        no_ema (bool): Publish the non-EMA weights of an EMA checkpoint.
        dataset_type (str, optional): Fill a missing ``dataset_meta`` from
            this dataset's ``METAINFO``.
        half (bool): Store floating-point tensors in float16
            (``load_state_dict`` casts them back to the model's dtype).

    Returns:
        str: The path of the written file.
    """
    checkpoint = safe_load(in_file)
    # For checkpoints converted from elsewhere (a bare state dict).
    if 'state_dict' not in checkpoint:
        checkpoint = dict(state_dict=checkpoint)
    dropped = sorted(k for k in checkpoint
                     if k not in KEEP_KEYS and k != 'ema_state_dict')
    if dropped:
        print(f'Dropped runner state: {dropped}')

    state_dict = checkpoint['state_dict']
    if 'ema_state_dict' in checkpoint:
        ema = OrderedDict()
        for k, v in checkpoint['ema_state_dict'].items():
            # The EMA state dict has extra fields (steps, ...).
            if k.startswith('module.'):
                origin_k = k[len('module.'):]
                assert origin_k in state_dict, origin_k
                ema[origin_k] = v
        print('The input checkpoint has EMA weights, ', end='')
        if no_ema:
            # `ema_state_dict` holds the original (non-EMA) values.
            print('and drop the EMA weights.')
            state_dict.update(ema)
        else:
            print('and use the EMA weights.')

    # KENT checkpoints must carry their text embeddings: without them the
    # released model cannot predict without CLIP.
    if 'head.text_ready' in state_dict and \
            not bool(state_dict['head.text_ready']):
        raise ValueError(
            f'{in_file}: head.text_ready is False (text embeddings were never '
            'computed); this checkpoint cannot predict. Publish a trained '
            'checkpoint.')

    meta = _plain({k: v for k, v in (checkpoint.get('meta') or {}).items()
                   if k in KEEP_META})
    import mmpretrain
    meta.setdefault('mmpretrain_version', mmpretrain.__version__)
    meta.setdefault('kent_mm_version', kent_mm.__version__)
    if not meta.get('dataset_meta') and dataset_type is not None:
        from mmpretrain.registry import DATASETS
        dataset_class = DATASETS.get(dataset_type)
        meta['dataset_meta'] = _plain(
            dict(getattr(dataset_class, 'METAINFO', {})))
    if not meta.get('dataset_meta'):
        warnings.warn('Missing dataset meta information (class names); '
                      'pass --dataset-type.')
    if half:
        state_dict = OrderedDict(
            (k, v.half() if v.is_floating_point() else v)
            for k, v in state_dict.items())
    published = dict(meta=meta, state_dict=state_dict)

    # Serialise once: the hash is the hash of exactly the bytes written.
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    date = datetime.datetime.now().strftime('%Y%m%d')
    final_file = f'{stem}_{date}-{sha[:8]}.pth'
    with atomic_write(final_file, 'wb') as f:
        f.write(data)
    _check_loads_without_allow_list(final_file)
    print(f'Successfully generated the publish-ckpt as {final_file}.')
    print(f'sha256: {sha}')
    return final_file


def _check_loads_without_allow_list(path: str) -> None:
    """The release must load with plain ``torch.load(weights_only=True)``."""
    get_unsafe = getattr(torch.serialization,
                         'get_unsafe_globals_in_checkpoint', None)
    if get_unsafe is None:  # torch < 2.5
        return
    unsafe = get_unsafe(path)
    if unsafe:
        raise RuntimeError(
            f'{path} needs non-default globals to load with '
            f'weights_only=True: {unsafe}')


def count_parameters(state_dict: Dict[str, torch.Tensor],
                     config: str) -> int:
    """Learnable parameters of the model (buffers excluded)."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    names = {n for n, _ in model.named_parameters()}
    return int(sum(v.numel() for k, v in state_dict.items() if k in names))


def collection_of(cfg) -> str:
    """The metafile collection of a config's model: ``KENT`` for a
    ``KENTHead``, ``Linear-head baselines`` for any other head."""
    head = (cfg.get('model') or {}).get('head') or {}
    return 'KENT' if head.get('type') == 'KENTHead' else \
        'Linear-head baselines'


def metafile_entry(final_file: str,
                   config: str,
                   name: Optional[str] = None,
                   metrics: Optional[str] = None,
                   dataset: Optional[str] = None,
                   weights_url: str = '') -> str:
    """The ``Models:`` entry of ``configs/metafile.yml`` for a release file.

    Args:
        final_file (str): The published checkpoint.
        config (str): Config path as written in the metafile (relative to
            ``model-index.yml``).
        name (str, optional): Model name; defaults to the file's stem without
            date and hash.
        metrics (str, optional): ``tools/test.py`` metrics JSON.
        dataset (str, optional): Training/evaluation dataset name.
        weights_url (str): Folder URL of the uploaded file.

    Returns:
        str: YAML text (a list item, indented for ``Models:``).
    """
    basename = osp.basename(final_file)
    if name is None:
        name = basename.rsplit('_', 1)[0]
    state = safe_load(final_file)
    params = count_parameters(state['state_dict'], config)
    cfg_meta = {}
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg.get('train_cfg') and cfg.train_cfg.get('max_epochs'):
        cfg_meta['Epochs'] = cfg.train_cfg.max_epochs
    if cfg.get('train_dataloader'):
        cfg_meta['Batch Size'] = cfg.train_dataloader.batch_size
    lines = [
        f'  - Name: {name}',
        f'    In Collection: {collection_of(cfg)}',
        '    Metadata:',
    ]
    if dataset:
        lines.append(f'      Training Data: {dataset}')
    lines += [f'      {k}: {v}' for k, v in cfg_meta.items()]
    lines.append(f'      Parameters: {params}')
    if metrics:
        with open(metrics) as f:
            values = json.load(f)
        lines += [
            '    Results:',
            '      - Task: Image Classification',
            f'        Dataset: {dataset or "?"}',
            '        Metrics:',
        ]
        found = False
        for label, keys in METRIC_NAMES.items():
            key = next((k for k in keys if k in values), None)
            if key is not None and values[key] is not None:
                lines.append(f'          {label}: {float(values[key]):.2f}')
                found = True
        if not found:
            raise ValueError(f'{metrics} has none of the metrics '
                             f'{list(METRIC_NAMES.values())}')
    # Checked on load for files that ship with the repository (kent_mm://).
    lines.insert(lines.index('    Metadata:') + 1,
                 f'      Weights SHA256: {sha256_of(final_file)}')
    if weights_url:
        # Only where the file is hosted (or ships with the repository:
        # kent_mm://weights/): no link to a download that does not exist
        # (without it, get_model(name, pretrained=FILE) works).
        lines.append(f"    Weights: {weights_url.rstrip('/')}/{basename}")
    lines.append(f'    Config: {config}')
    return '\n'.join(lines) + '\n'


def main():
    args = parse_args()
    out_dir = osp.dirname(osp.abspath(args.out_file))
    if not osp.isdir(out_dir):
        raise ValueError(f'Directory {out_dir} does not exist, '
                         'please generate it manually.')
    final_file = process_checkpoint(args.in_file, args.out_file, args.no_ema,
                                    args.dataset_type, args.half)
    if args.config:
        entry = metafile_entry(final_file, args.config, args.name,
                               args.metrics, args.dataset, args.weights_url)
        print('\nconfigs/metafile.yml entry (paste under `Models:`):\n')
        print(entry)
        if args.metafile_out:
            with atomic_write(args.metafile_out, 'w') as f:
                f.write(entry)


if __name__ == '__main__':
    main()
