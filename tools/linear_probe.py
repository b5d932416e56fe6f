"""Linear probe: a linear classifier on frozen features.

Trains multinomial logistic regression (standardised features, L2
weight decay, full-batch L-BFGS; deterministic) on the features of dataset
A and evaluates it on the features of dataset B's split, both written by
``tools/extract_features.py``. If the class lists differ, they meet in the
canonical vocabulary as in ``tools/cross_dataset_test.py`` (probe logits of
classes B lacks are dropped; B's samples of classes A lacks are excluded).

When the test file also has the model's own logits, the model head's
accuracy on the same samples is printed next to the probe's (a sanity
check: a probe on a model's features should come close to its head).

Examples::

    python tools/extract_features.py CFG CKPT --split train --out tr.npz
    python tools/extract_features.py CFG CKPT --split test --out te.npz
    python tools/linear_probe.py tr.npz te.npz --out-json probe.json
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from kent_mm.evaluation.cross_dataset import cross_dataset_report

# The analysis helpers: tools/analysis_tools/utils.
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)),
                            'analysis_tools'))
from utils.tables import format_table, report_table  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Linear probe on frozen features (.npz of '
        'tools/extract_features.py)')
    parser.add_argument('train', help='features of dataset A (train)')
    parser.add_argument('test', help='features of dataset B (evaluation)')
    parser.add_argument('--weight-decay', type=float, default=1e-4,
                        help='L2 penalty on the weights (default 1e-4)')
    parser.add_argument('--max-iter', type=int, default=500,
                        help='L-BFGS iterations (default 500)')
    parser.add_argument('--no-standardize', action='store_true',
                        help='use the features as they are')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-json', help='write the numbers here')
    return parser.parse_args()


def load_npz(path: str) -> Dict[str, np.ndarray]:
    """Read a features file (no pickled objects allowed)."""
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    for key in ('features', 'labels', 'classes'):
        if key not in data:
            raise KeyError(f'{path} has no {key!r}: write it with '
                           'tools/extract_features.py')
    return data


def train_linear_probe(features: np.ndarray,
                       labels: np.ndarray,
                       num_classes: int,
                       weight_decay: float = 1e-4,
                       max_iter: int = 500,
                       standardize: bool = True,
                       seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """Fit ``softmax(W x + b)`` by full-batch L-BFGS.

    Args:
        features (np.ndarray): ``(N, D)`` training features.
        labels (np.ndarray): ``(N, )`` labels in ``[0, num_classes)``.
        num_classes (int): C.
        weight_decay (float): ``weight_decay / 2 * ||W||^2`` is added.
        max_iter (int): L-BFGS iterations.
        standardize (bool): Centre and scale each feature (train stats).
        seed (int): Torch seed.

    Returns:
        tuple[Tensor]: ``W (C, D)``, ``b (C, )``, ``mean (D, )``,
        ``std (D, )``.
    """
    torch.manual_seed(seed)
    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    mean = x.mean(0) if standardize else torch.zeros(x.shape[1])
    std = (x.std(0).clamp_min(1e-6)
           if standardize and len(x) > 1 else torch.ones(x.shape[1]))
    x = (x - mean) / std
    w = torch.zeros(num_classes, x.shape[1], requires_grad=True)
    b = torch.zeros(num_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter,
                            history_size=20, line_search_fn='strong_wolfe',
                            tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w.t() + b, y) + \
            0.5 * weight_decay * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach(), mean, std


def probe_logits(features: np.ndarray, w: torch.Tensor, b: torch.Tensor,
                 mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
    """Scores ``(N, C)`` of a trained probe."""
    x = (torch.as_tensor(features, dtype=torch.float32) - mean) / std
    return (x @ w.t() + b).numpy()


def main():
    args = parse_args()
    train, test = load_npz(args.train), load_npz(args.test)
    if train['features'].shape[1] != test['features'].shape[1]:
        raise ValueError(
            f'feature dimensions differ: {train["features"].shape[1]} '
            f'(train) vs {test["features"].shape[1]} (test)')
    train_classes = [str(c) for c in train['classes']]
    test_classes = [str(c) for c in test['classes']]
    w, b, mean, std = train_linear_probe(
        train['features'], train['labels'], len(train_classes),
        args.weight_decay, args.max_iter, not args.no_standardize,
        args.seed)
    train_acc = float((probe_logits(train['features'], w, b, mean, std)
                       .argmax(1) == train['labels']).mean() * 100)
    logits = probe_logits(test['features'], w, b, mean, std)
    report = cross_dataset_report(logits, test['labels'], train_classes,
                                  test_classes)
    print(f'\nLinear probe: {len(train["labels"])} training samples '
          f'({len(train_classes)} classes, train top-1 {train_acc:.2f}%), '
          f'tested on {report["num_samples"]} of {report["total_samples"]} '
          f'samples over {len(report["intersection"].shared)} shared '
          'classes\n')
    print(report_table(report))
    rows = [('linear probe', report['num_samples'], report['top1'],
             report['mean_class_acc'], report['macro_f1'])]
    result = dict(probe={k: report[k] for k in (
        'num_samples', 'top1', 'mean_class_acc', 'macro_f1', 'per_class')},
                  train_top1=train_acc)
    if 'logits' in test and 'model_classes' in test:
        head = cross_dataset_report(
            test['logits'], test['labels'],
            [str(c) for c in test['model_classes']], test_classes)
        rows.append(('model head', head['num_samples'], head['top1'],
                     head['mean_class_acc'], head['macro_f1']))
        result['head'] = {k: head[k] for k in (
            'num_samples', 'top1', 'mean_class_acc', 'macro_f1')}
    print()
    print(format_table(('classifier', 'samples', 'top-1 (%)',
                        'mean class acc (%)', 'macro F1 (%)'), rows))
    excluded = report['excluded_samples']
    if excluded:
        print('Test classes the probe lacks (samples excluded): ' + ', '.join(
            f'{c} ({n})' for c, n in excluded.items()))
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'numbers written to {args.out_json}')


if __name__ == '__main__':
    main()
