"""Confusion matrix of a model on a dataset split, as a PNG.

MMPretrain's ``tools/analysis_tools/confusion_matrix.py`` takes other
options (its ``--out`` is the matrix file); this tool writes a
row-normalised PNG with the number in each cell, prints the per-class
table, and reads checkpoints and predictions without unsafe unpickling.

Examples::

    # from a checkpoint (runs the model on the config's test split)
    python tools/analysis_tools/plot_confusion_matrix.py \\
        configs/kent_resnet18_fer2013.py work_dirs/fer/best.pth \\
        --out work_dirs/fer/confusion_matrix.png

    # from saved predictions: tools/test.py CONFIG CKPT --out preds.pkl
    python tools/analysis_tools/plot_confusion_matrix.py \\
        configs/kent_resnet18_fer2013.py preds.pkl --out cm.png
"""
import argparse
import json
import os.path as osp
import sys

from kent_mm.apis.deploy import class_names_of
from kent_mm.evaluation.scores import classification_report

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # utils/: helpers
from utils.configs import load_config  # noqa: E402
from utils.inference import run_split  # noqa: E402
from utils.loaders import (add_loader_args, build_eval_dataset,  # noqa: E402
                           dataset_classes)
from utils.plotting import plot_confusion_matrix  # noqa: E402
from utils.predictions import load_predictions  # noqa: E402
from utils.tables import report_table  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Draw a normalised confusion matrix (PNG) of a model '
        'on a dataset split')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'ckpt_or_result',
        help='a checkpoint, or the predictions of '
        '`tools/test.py CONFIG CKPT --out FILE.pkl`')
    parser.add_argument('--out', default='confusion_matrix.png',
                        help='output PNG file')
    parser.add_argument('--out-json',
                        help='also write counts and per-class numbers here')
    parser.add_argument('--split', default='test',
                        choices=['train', 'val', 'test'],
                        help='dataloader whose dataset is evaluated')
    parser.add_argument('--data-root', help='override the data root')
    parser.add_argument('--counts', action='store_true',
                        help='print counts in the cells instead of row '
                        'percentages')
    parser.add_argument('--title', help='figure title (default: config '
                        'name and split)')
    parser.add_argument('--fig-size', type=float, nargs=2,
                        metavar=('W', 'H'),
                        help='figure size in inches (default: 3 + 0.75 '
                        'per class, square)')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--cmap', default='Blues',
                        help='matplotlib colour map')
    add_loader_args(parser, batch_size=None, num_workers=None)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.ckpt_or_result.endswith('.pkl'):
        cfg = load_config(args.config, args.cfg_options)
        preds = load_predictions(args.ckpt_or_result)
        pred, labels = preds['pred'], preds['labels']
        classes = cfg.get('classes')
        if classes is None:
            classes = dataset_classes(
                build_eval_dataset(cfg, args.split, args.data_root))
    else:
        outputs, model, dataset, cfg = run_split(
            args.config, args.ckpt_or_result, split=args.split,
            data_root=args.data_root, cfg_options=args.cfg_options,
            batch_size=args.batch_size, num_workers=args.num_workers,
            max_samples=args.max_samples, device=args.device)
        classes = dataset_classes(dataset)
        if tuple(class_names_of(model)) != tuple(classes):
            raise ValueError(
                f'the model predicts {class_names_of(model)} but the '
                f'dataset has {classes}: use tools/cross_dataset_test.py '
                'for another dataset')
        pred, labels = outputs['logits'].argmax(axis=1), outputs['labels']
    classes = tuple(classes)
    report = classification_report(pred, labels, classes)
    print(report_table(report))
    name = osp.splitext(osp.basename(args.config))[0]
    title = args.title or (f'{name} ({args.split}, {len(labels)} samples, '
                           f'top-1 {report["top1"]:.1f}%)')
    plot_confusion_matrix(report['confusion'], classes, args.out,
                          normalize=not args.counts, title=title,
                          figsize=args.fig_size, dpi=args.dpi,
                          cmap=args.cmap)
    print(f'confusion matrix written to {args.out}')
    if args.out_json:
        report = dict(report, confusion=report['confusion'].tolist(),
                      classes=list(classes))
        with open(args.out_json, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'numbers written to {args.out_json}')


if __name__ == '__main__':
    main()
