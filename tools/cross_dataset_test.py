"""Cross-dataset test: a model trained on one FER dataset, tested on another.

The two class lists meet in the canonical vocabulary
(:mod:`kent_mm.datasets.emotions`). The model's logits of classes the target
lacks are dropped (the prediction is the best shared class); target samples
of classes the model lacks are excluded and reported. Top-1, mean class
accuracy and macro F1 are over the shared classes.

Examples::

    python tools/cross_dataset_test.py configs/kent_resnet18_rafdb.py \\
        work_dirs/rafdb/epoch_50.pth --target-dataset ckplus
    python tools/cross_dataset_test.py configs/kent_resnet18_fer2013.py \\
        best.pth --target-dataset configs/_base_/datasets/ckplus_bs64_112.py \\
        --target-root data/ckplus --target-cfg-options \\
        test_dataloader.dataset.fold=3
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

from kent_mm.apis.deploy import class_names_of
from kent_mm.evaluation.cross_dataset import cross_dataset_report

# The analysis helpers: tools/analysis_tools/utils.
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)),
                            'analysis_tools'))
from utils.configs import load_config  # noqa: E402
from utils.inference import collect_outputs, load_model  # noqa: E402
from utils.loaders import (add_loader_args, build_eval_dataset,  # noqa: E402
                           build_loader, dataset_classes)
from utils.tables import format_table, report_table  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Evaluate a FER model on another dataset over the '
        'classes both share')
    parser.add_argument('config', help='config the model was trained with')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--target-dataset', required=True,
        help='config file with dataloaders (e.g. configs/_base_/datasets/'
        'ckplus_bs64_112.py or a full config) or a dataset name: rafdb, '
        'affectnet7, affectnet8, ferplus, ckplus, fer2013')
    parser.add_argument('--target-root', help='data root of the target')
    parser.add_argument('--target-split', default='test',
                        choices=['train', 'val', 'test'],
                        help='dataloader of the target config to use')
    parser.add_argument(
        '--target-cfg-options', nargs='+', action=DictAction,
        help='override settings of the target config, key=value')
    parser.add_argument('--out-json', help='write the numbers here')
    add_loader_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    model = load_model(cfg, args.checkpoint, args.device)
    source_classes = class_names_of(model)
    # The target's samples, the model's own test pipeline (input size).
    dataset = build_eval_dataset(cfg, args.target_split, args.target_root,
                                 args.target_dataset, args.target_cfg_options)
    target_classes = dataset_classes(dataset)
    loader = build_loader(dataset, args.batch_size, args.num_workers,
                          args.max_samples)
    outputs = collect_outputs(model, loader)
    if 'logits' not in outputs:
        raise ValueError('the model has no head: nothing to evaluate')
    report = cross_dataset_report(outputs['logits'], outputs['labels'],
                                  source_classes, target_classes)
    inter = report['intersection']

    source = (cfg.get('train_dataloader') or {}).get('dataset', {}).get(
        'type', osp.splitext(osp.basename(args.config))[0])
    target = f'{type(dataset).__name__} {args.target_split}'
    print(f'\nCross-dataset test: {source} -> {target}: '
          f'{report["num_samples"]} of {report["total_samples"]} samples, '
          f'{len(inter.shared)} shared classes\n')
    print(report_table(report))
    print()
    excluded = ', '.join(f'{c} ({n} samples)'
                         for c, n in report['excluded_samples'].items())
    print('Target classes the model lacks (samples excluded): '
          f'{excluded or "none"}')
    print('Model classes the target lacks (logits dropped): '
          f'{", ".join(inter.dropped_source) or "none"}\n')
    print(format_table(
        ('train -> test', 'classes', 'samples', 'top-1 (%)',
         'mean class acc (%)', 'macro F1 (%)'),
        [(f'{source} -> {target}', len(inter.shared), report['num_samples'],
          report['top1'], report['mean_class_acc'], report['macro_f1'])]))
    if args.out_json:
        out = {k: v for k, v in report.items()
               if k not in ('confusion', 'intersection')}
        out.update(source=source, target=target,
                   confusion=report['confusion'].tolist(),
                   **inter._asdict())
        with open(args.out_json, 'w') as f:
            json.dump(out, f, indent=2)
        print(f'numbers written to {args.out_json}')


if __name__ == '__main__':
    main()
