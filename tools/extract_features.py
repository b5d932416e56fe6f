"""Extract features and labels of a dataset split to a ``.npz`` file.

Works with any registered MMPretrain classifier. Features are the first
neck output by default (KENT: the expression representation v; a plain
ResNet: the globally pooled vector), or the pooled last backbone output
(``--feature backbone``) or the head input (``--feature pre_logits``).

The file holds ``features (N, D)``, ``labels (N, )``, ``classes`` (the
dataset's class names), ``sample_idx (N, )``, and where available
``logits (N, C)`` with ``model_classes`` (C names) and ``neutral (N, D)``
(``--neutral``, KENT's n).

Examples::

    python tools/extract_features.py configs/kent_resnet18_fer2013.py \\
        best.pth --split train --out feats/fer_train.npz
    # another dataset through the same model (its own labels and classes)
    python tools/extract_features.py configs/kent_resnet18_fer2013.py \\
        best.pth --dataset rafdb --data-root data/rafdb --split test \\
        --out feats/rafdb_test.npz
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction

from kent_mm.apis.deploy import class_names_of

# The analysis helpers: tools/analysis_tools/utils.
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)),
                            'analysis_tools'))
from utils.configs import load_config  # noqa: E402
from utils.inference import (FEATURE_STAGES, collect_outputs,  # noqa: E402
                             load_model)
from utils.loaders import (add_loader_args, build_eval_dataset,  # noqa: E402
                           build_loader, dataset_classes)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Extract features + labels of a split to .npz')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument('--split', default='test',
                        choices=['train', 'val', 'test'],
                        help='dataloader whose dataset is read (always '
                        'with the test pipeline, no augmentation)')
    parser.add_argument(
        '--dataset',
        help='read another dataset: a config with dataloaders or a name '
        '(rafdb, affectnet7, affectnet8, ferplus, ckplus, fer2013); '
        'default: the model config\'s own')
    parser.add_argument('--data-root', help='override the data root')
    parser.add_argument(
        '--dataset-cfg-options', nargs='+', action=DictAction,
        help='override settings of the --dataset config, key=value')
    parser.add_argument('--feature', default='neck', choices=FEATURE_STAGES)
    parser.add_argument('--neutral', action='store_true',
                        help='also save n (E2NNeck return_neutral)')
    add_loader_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    model = load_model(cfg, args.checkpoint, args.device)
    dataset = build_eval_dataset(cfg, args.split, args.data_root,
                                 args.dataset, args.dataset_cfg_options)
    loader = build_loader(dataset, args.batch_size, args.num_workers,
                          args.max_samples)
    outputs = collect_outputs(model, loader, feature=args.feature,
                              return_neutral=args.neutral)
    outputs['classes'] = np.asarray(dataset_classes(dataset))
    if 'logits' in outputs:
        outputs['model_classes'] = np.asarray(class_names_of(model))
    outputs['feature'] = np.asarray(args.feature)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    np.savez(args.out, **outputs)
    print(f'{len(outputs["labels"])} samples x '
          f'{outputs["features"].shape[1]} {args.feature} features of '
          f'{type(dataset).__name__} {args.split} written to {args.out}')


if __name__ == '__main__':
    main()
