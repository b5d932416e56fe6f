"""Temperature scaling (Guo et al., 2017) of saved predictions.

Fits one temperature T on the validation predictions (the T that minimises
their negative log-likelihood, ``softmax(log p / T)``) and reports NLL, ECE
and top-1 of the validation and test predictions before and after. Top-1
never changes (T > 0 keeps the ranking); only the confidence does.

The predictions are the files of ``tools/test.py CONFIG CKPT --out FILE.pkl
--out-item pred`` (single crop or ``--tta``), read without unsafe
unpickling. A KENT head applies a fitted T with its ``temperature``
argument (``--cfg-options model.head.temperature=T``; in eval mode only,
the losses never see it). Fit that T on single-crop predictions, where the
head's ``softmax(logits / T)`` is exactly what is fitted here; under
``--tta`` the head scales each view before the views are averaged, so
measure the TTA figures with ``tools/test.py --tta`` and the temperature.

Example (FER2013: val = PublicTest, test = PrivateTest)::

    python tools/test.py CONFIG CKPT --out val.pkl --out-item pred \\
        --cfg-options test_dataloader.dataset.split=val
    python tools/test.py CONFIG CKPT --out test.pkl --out-item pred
    python tools/analysis_tools/calibrate_temperature.py val.pkl test.pkl
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Optional

import numpy as np

from kent_mm.evaluation.metrics.calibration import \
    expected_calibration_error

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # utils/: helpers
from utils.predictions import load_predictions  # noqa: E402

#: The fitted T is searched in [1/T_RANGE, T_RANGE].
T_RANGE = 20.


def log_probs(path: str) -> Dict[str, np.ndarray]:
    """``log p (N, C)`` and ``labels (N,)`` of a predictions file.

    Raises:
        ValueError: The file has no ``pred_score`` (naming the file).
    """
    preds = load_predictions(path)
    if 'scores' not in preds:
        raise ValueError(f'{path}: the samples have no `pred_score`; write '
                         'the file with `tools/test.py ... --out FILE.pkl '
                         '--out-item pred`')
    scores = preds['scores'].astype(np.float64)
    return dict(logp=np.log(np.clip(scores, 1e-12, None)),
                labels=preds['labels'])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logp: np.ndarray, labels: np.ndarray, t: float) -> float:
    """Mean negative log-likelihood of ``softmax(logp / t)``."""
    z = logp / t
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(labels)), labels]))


def fit_temperature(logp: np.ndarray, labels: np.ndarray) -> float:
    """The T in [1/20, 20] minimising :func:`nll` (a grid in log T, then a
    golden-section search around its best point; the NLL of a temperature
    is convex in 1/T, so the search finds the minimum)."""
    grid = np.exp(np.linspace(-np.log(T_RANGE), np.log(T_RANGE), 201))
    i = int(np.argmin([nll(logp, labels, t) for t in grid]))
    lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, 200)])
    g = (np.sqrt(5.) - 1.) / 2.
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if nll(logp, labels, np.exp(a)) < nll(logp, labels, np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2.))


def evaluate(logp: np.ndarray, labels: np.ndarray, t: float,
             num_bins: int = 15) -> Dict[str, float]:
    """Top-1, ECE (percent) and NLL of ``softmax(logp / t)``."""
    p = _softmax(logp / t)
    pred = p.argmax(axis=1)
    correct = pred == labels
    return dict(top1=100. * float(correct.mean()),
                ece=100. * expected_calibration_error(p.max(axis=1), correct,
                                                      num_bins),
                nll=nll(logp, labels, t))


def calibrate(val: Dict[str, np.ndarray],
              test: Optional[Dict[str, np.ndarray]] = None,
              num_bins: int = 15) -> dict:
    """Fit T on ``val`` and evaluate both sets at T = 1 and at the fit."""
    if test is not None and test['logp'].shape[1] != val['logp'].shape[1]:
        raise ValueError(
            f'the validation predictions have {val["logp"].shape[1]} '
            f'classes and the test predictions {test["logp"].shape[1]}')
    t = fit_temperature(val['logp'], val['labels'])
    out = dict(temperature=t)
    for name, d in (('val', val), ('test', test)):
        if d is not None:
            out[name] = dict(
                uncalibrated=evaluate(d['logp'], d['labels'], 1., num_bins),
                calibrated=evaluate(d['logp'], d['labels'], t, num_bins),
                num_samples=int(len(d['labels'])))
    return out


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fit a temperature on validation predictions and report '
        'calibration before and after')
    parser.add_argument('val', help='validation predictions (.pkl of '
                        'tools/test.py --out-item pred)')
    parser.add_argument('test', nargs='?',
                        help='test predictions, evaluated at the fitted T')
    parser.add_argument('--num-bins', type=int, default=15,
                        help='ECE confidence bins')
    parser.add_argument('--out', help='also write the numbers to this JSON')
    return parser.parse_args()


def main():
    args = parse_args()
    val = log_probs(args.val)
    test = log_probs(args.test) if args.test else None
    result = calibrate(val, test, args.num_bins)
    print(f'temperature T = {result["temperature"]:.4f} (fitted on '
          f'{args.val}, {result["val"]["num_samples"]} samples)')
    print(f'{"split":<6}{"T":>8}{"top-1":>8}{"ECE":>8}{"NLL":>8}')
    for name in ('val', 'test'):
        if name not in result:
            continue
        for key, t in (('uncalibrated', 1.), ('calibrated',
                                              result['temperature'])):
            r = result[name][key]
            print(f'{name:<6}{t:>8.4f}{r["top1"]:>8.2f}{r["ece"]:>8.2f}'
                  f'{r["nll"]:>8.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'numbers written to {args.out}')


if __name__ == '__main__':
    main()
