# Copyright (c) OpenMMLab. All rights reserved.
"""How separable are a text-embedding file's class anchors?

Prints the pairwise cosine matrix of the anchors and, for each logit scale,
the best true-class probability any unit visual feature can reach (and so
the floor of L_s). Run it before training on a new text source: anchors
that are almost parallel (e.g. from a randomly initialised text tower)
need a higher scale, or give a head that cannot separate classes.

``--features`` reads the features of a trained model (a ``.npz`` of
``tools/extract_features.py``) and prints how they sit against the anchors
of the first file: mean cos(v, t_y), and the share of |v|² in the span of
the anchors (a small share means small cosines, so flat scores).

Example::

    python tools/analysis_tools/text_anchor_stats.py \\
        data/text/fer2013_clip-random.pth data/text/fer2013_minilm.pth \\
        --scales 20 100
    python tools/extract_features.py CONFIG best.pth --split val \\
        --out val.npz
    python tools/analysis_tools/text_anchor_stats.py \\
        data/text/fer2013_minilm.pth --features val.npz --center
"""
import argparse
import json

import numpy as np
import torch

from kent_mm.evaluation.text_anchors import (anchor_report, feature_alignment,
                                             pairwise_cosine)
from kent_mm.models.text.cache import load_text_cache


def parse_args():
    parser = argparse.ArgumentParser(
        description='Separability of the class anchors in text-embedding '
        'files')
    parser.add_argument('files', nargs='+', help='text-embedding files')
    parser.add_argument('--scales', type=float, nargs='+',
                        default=[20., 100.], help='logit scales to check')
    parser.add_argument('--features', help='.npz of tools/extract_features.py '
                        '(features v and labels of a trained model)')
    parser.add_argument('--center', action='store_true',
                        help='with --features: centred anchors (the '
                        'model\'s `center_text=True`)')
    parser.add_argument('--out-json', help='also write the summary here')
    return parser.parse_args()


def main():
    args = parse_args()
    summary = {}
    for path in args.files:
        data = load_text_cache(path)
        names = list(data['meta']['class_names'])
        embeds = data['features'].float()
        cos = pairwise_cosine(embeds)
        print(f'\n{path}: {len(names)} classes, dim {embeds.shape[1]}')
        width = max(len(n) for n in names)
        print(' ' * width + ' ' + ' '.join(f'{n[:6]:>6}' for n in names))
        for name, row in zip(names, cos.tolist()):
            print(f'{name:>{width}} ' + ' '.join(f'{x:6.3f}' for x in row))
        summary[path] = {}
        for scale in args.scales:
            rep = anchor_report(embeds, scale)
            summary[path][str(scale)] = dict(
                rep, p_best={n: round(p, 4)
                             for n, p in zip(names, rep['p_best'])})
            print(f'scale {scale:g}: pairwise cos min/mean/max '
                  f'{rep["cos_min"]:.3f}/{rep["cos_mean"]:.3f}/'
                  f'{rep["cos_max"]:.3f}; best-case p(true class) '
                  f'min {rep["p_best_min"]:.3f} mean {rep["p_best_mean"]:.3f};'
                  f' L_s floor {rep["ls_floor"]:.3f} '
                  f'(chance {torch.tensor(len(names)).log().item():.3f})')
    if args.features:
        data = np.load(args.features)
        classes = [str(c) for c in data['classes']]
        first = load_text_cache(args.files[0])
        names = list(first['meta']['class_names'])
        if classes != names:
            raise ValueError(f'{args.features}: classes {classes} differ '
                             f'from those of {args.files[0]}: {names}')
        rep = feature_alignment(torch.from_numpy(data['features']),
                                torch.from_numpy(data['labels']),
                                first['features'][:len(names)].float(),
                                center=args.center)
        summary['features'] = dict(rep, file=args.features)
        print(f'\n{args.features} ({len(data["labels"])} features) against '
              f'{args.files[0]}{" (centred)" if args.center else ""}: '
              f'cos(v, t_y) mean {rep["cos_true_mean"]:.3f}, top cos mean '
              f'{rep["cos_top_mean"]:.3f}, share of |v|^2 in the anchors\' '
              f'span {rep["span_share_mean"]:.3f}, accuracy '
              f'{100 * rep["accuracy"]:.2f}%')
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(summary, f, indent=2)


if __name__ == '__main__':
    main()
