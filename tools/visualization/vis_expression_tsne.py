"""t-SNE of a model's expression representation, as a PNG.

Points are the features of one dataset split (KENT: the expression
representation v, L2-normalised as the head compares them), coloured by
ground-truth class. Optionally the neutral representation n = F_n(v)
(crosses) and the class text embeddings of the KENT head (stars, named)
are embedded together with v (the paper's Figure 3).

Needs scikit-learn (``pip install "kent_mm[analysis]"``). MMPretrain's
``tools/visualization/vis_tsne.py`` takes other options (a t-SNE per class
of any config, ``--checkpoint``); this tool embeds the expression
representation with its neutral and text counterparts.

Examples::

    python tools/visualization/vis_expression_tsne.py \\
        configs/kent_resnet18_fer2013.py \\
        work_dirs/fer/best.pth --split test --neutral --text \\
        --out work_dirs/fer/tsne_privatetest.png
"""
import argparse
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction

from kent_mm.apis.deploy import class_names_of

# The analysis helpers: tools/analysis_tools/utils.
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'analysis_tools'))
from utils.inference import FEATURE_STAGES, run_split  # noqa: E402
from utils.loaders import dataset_classes  # noqa: E402
from utils.plotting import plot_embedding, tsne_embed  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='t-SNE of the expression representation of a model')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', default='tsne.png', help='output PNG file')
    parser.add_argument('--out-npz',
                        help='also save the 2-D coordinates, labels and '
                        'point kinds here')
    parser.add_argument('--split', default='test',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--data-root', help='override the data root')
    parser.add_argument('--feature', default='neck', choices=FEATURE_STAGES,
                        help='neck = v for KENT (default); backbone = '
                        'pooled backbone output')
    parser.add_argument('--neutral', action='store_true',
                        help='also embed n (neck return_neutral)')
    parser.add_argument('--text', action='store_true',
                        help='also embed the head\'s class text embeddings')
    parser.add_argument('--no-normalize', action='store_true',
                        help='do not L2-normalise the features')
    parser.add_argument('--max-samples', type=int, default=5000,
                        help='t-SNE a fixed random subset of at most this '
                        'many samples (default 5000)')
    parser.add_argument('--perplexity', type=float, default=30.)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--fig-size', type=float, nargs=2, default=(8., 8.),
                        metavar=('W', 'H'), help='inches (default 8 8)')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--num-workers', type=int)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args()


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def main():
    args = parse_args()
    outputs, model, dataset, _ = run_split(
        args.config, args.checkpoint, split=args.split,
        data_root=args.data_root, cfg_options=args.cfg_options,
        batch_size=args.batch_size, num_workers=args.num_workers,
        max_samples=args.max_samples, feature=args.feature,
        return_neutral=args.neutral, device=args.device)
    classes = dataset_classes(dataset)
    labels = outputs['labels']
    parts = [outputs['features']]
    part_labels = [labels]
    kinds = ['v'] * len(labels)
    if args.neutral:
        parts.append(outputs['neutral'])
        part_labels.append(labels)
        kinds += ['n'] * len(labels)
    if args.text:
        text = getattr(getattr(model, 'head', None), 'text_embeds', None)
        if text is None:
            raise ValueError('--text needs a head with text embeddings '
                             '(KENTHead)')
        if tuple(class_names_of(model)) != tuple(classes):
            raise ValueError('--text needs the model\'s own dataset')
        parts.append(text.cpu().numpy())
        part_labels.append(np.arange(len(classes)))
        kinds += ['text'] * len(classes)
    dims = {p.shape[1] for p in parts}
    if len(dims) != 1:
        raise ValueError(f'cannot embed points of different dimensions '
                         f'{sorted(dims)} together (use --feature neck)')
    points = np.concatenate(parts)
    if not args.no_normalize:
        points = _l2(points)
    coords = tsne_embed(points, perplexity=args.perplexity, seed=args.seed)
    point_labels = np.concatenate(part_labels)
    name = osp.splitext(osp.basename(args.config))[0]
    title = args.title or (f't-SNE of {args.feature} features: {name} '
                           f'({args.split}, {len(labels)} samples)')
    plot_embedding(coords, point_labels, classes, args.out, kinds=kinds,
                   title=title, figsize=tuple(args.fig_size), dpi=args.dpi)
    print(f't-SNE of {len(coords)} points written to {args.out}')
    if args.out_npz:
        np.savez(args.out_npz, coords=coords, labels=point_labels,
                 kinds=np.asarray(kinds), classes=np.asarray(classes))


if __name__ == '__main__':
    main()
