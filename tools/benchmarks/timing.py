"""Timing helpers of the benchmark scripts in this folder.

The scripts run as ``python tools/benchmarks/<script>.py``, so Python puts
this folder on ``sys.path`` and they ``import timing`` as a plain module.

Method: two or more functions (e.g. KENT and the baseline) are timed side
by side in one process, in *pairs*: one timed window of each, the order
flipped every pair (A, B, then B, A, ...) so that a load drift on a shared
machine favours none. With ``interleave`` a pair is one window in which the
calls alternate one by one (A, B, B, A, ...). A comparison is the median
over pairs of the per-pair ratio, with a distribution-free confidence
interval of that median.
"""
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import torch

MIN_PAIRS = 3
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(fn: Callable, window: float, device: str = 'cpu') -> float:
    """Calls per second of ``fn`` over at least ``window`` s (>= 1 call)."""
    sync(device)
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= window:
            return n / elapsed


def interleaved(fns: Dict[str, Callable], window: float,
                device: str = 'cpu') -> Dict[str, float]:
    """Calls/s of each function, their calls alternating one by one
    (A, B, B, A, A, B, ...) for at least ``window`` s (>= 1 call each)."""
    names = list(fns)
    spent = {name: 0. for name in names}
    calls = {name: 0 for name in names}
    start = time.perf_counter()
    i = 0
    while True:
        # Forward then reverse order: each goes first as often as the others.
        for name in (names if i % 2 == 0 else names[::-1]):
            sync(device)
            t0 = time.perf_counter()
            fns[name]()
            sync(device)
            spent[name] += time.perf_counter() - t0
            calls[name] += 1
        i += 1
        if time.perf_counter() - start >= window:
            return {name: calls[name] / spent[name] for name in names}


def paired(fns: Dict[str, Callable], repeats: int, warmup: int, window: float,
           device: str = 'cpu', max_s: float = 0.,
           interleave: bool = False) -> Dict[str, List[float]]:
    """Calls/s of every function in ``repeats`` pairs after ``warmup``
    untimed calls of each; pair ``r`` visits the functions in order for even
    ``r`` and in reverse for odd ``r``.

    With ``max_s`` > 0 no new pair starts once the timed pairs have taken
    ``max_s`` seconds, provided at least ``MIN_PAIRS`` are done. With
    ``interleave`` a pair is one window of :func:`interleaved` calls.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    sync(device)
    rates = {name: [] for name in fns}
    order = list(fns)
    start = time.perf_counter()
    for r in range(repeats):
        if (max_s > 0 and r >= MIN_PAIRS
                and time.perf_counter() - start >= max_s):
            break
        if interleave:
            for name, rate in interleaved(fns, window, device).items():
                rates[name].append(rate)
            continue
        for name in (order if r % 2 == 0 else order[::-1]):
            rates[name].append(timed(fns[name], window, device))
    return rates


def median_ci(values: Sequence[float],
              level: float = 0.95) -> Optional[Tuple[float, float]]:
    """Distribution-free confidence interval of the median.

    ``[x_(k), x_(n+1-k)]`` of the sorted values, with the largest ``k``
    whose coverage ``1 - 2·P(Binomial(n, 1/2) <= k-1)`` is at least
    ``level`` (15 values give the 4th and 12th, 96.5%).

    Returns:
        tuple[float, float] | None: The bounds, or None when there are too
        few values for that level (fewer than 6 at 95%).
    """
    n = len(values)
    xs = sorted(values)
    tail, k = 0., 0
    while k < n // 2:
        tail += math.comb(n, k) / 2**n  # P(B = k)
        if 2 * tail > 1 - level:
            break
        k += 1
    if k == 0:
        return None
    return xs[k - 1], xs[n - k]


def compare(rates: Dict[str, List[float]], name: str, ref: str) -> dict:
    """``time(name) / time(ref)``: median of the per-pair ratios, its 95%
    CI (``None`` if too few pairs) and the pair ratios."""
    ratios = [r / n for n, r in zip(rates[name], rates[ref])]
    ci = median_ci(ratios)
    return dict(time_ratio=statistics.median(ratios),
                time_ratio_ci95=None if ci is None else list(ci),
                pair_ratios=[round(x, 4) for x in ratios])


def summarize(rates: Dict[str, List[float]], batch: int) -> dict:
    """KENT vs baseline: images/s (median) of each and the paired time
    ratio, also as an overhead in percent with its 95% CI."""
    res = compare(rates, 'kent', 'baseline')
    ci = res.pop('time_ratio_ci95')
    return dict(
        kent_img_s=statistics.median(rates['kent']) * batch,
        baseline_img_s=statistics.median(rates['baseline']) * batch,
        time_ratio=res['time_ratio'],
        overhead_pct=(res['time_ratio'] - 1) * 100,
        overhead_ci95_pct=(None if ci is None else
                           [round((c - 1) * 100, 2) for c in ci]),
        pair_ratios=res['pair_ratios'])


def throughput(loader: Iterable, num_batches: int) -> dict:
    """Items/s of a data loader (``len(batch['inputs'])`` items a batch,
    epochs chained); the first batch (worker start-up) is not timed."""

    def chained():
        while True:
            yield from loader

    batches = chained()
    start = time.perf_counter()
    next(batches)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    items = sum(len(next(batches)['inputs']) for _ in range(num_batches))
    return dict(img_s=items / (time.perf_counter() - start),
                first_batch_s=first_s, timed_batches=num_batches)


def fake_batch(batch: int, img_size: int, num_classes: int,
               device: str = 'cpu', seed: int = 0) -> dict:
    """A training batch as the loader gives it: uint8 images and hard
    labels covering every class in turn."""
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (batch, 3, img_size, img_size),
                           generator=g, dtype=torch.uint8).to(device)
    samples = [DataSample().set_gt_label(i % num_classes).to(device)
               for i in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def random_text_file(path: str, class_names: Sequence[str],
                     dim: int) -> str:
    """Random unit text embeddings for ``class_names`` (no CLIP needed):
    speed does not depend on them."""
    from kent_mm.models.text import save_text_cache
    g = torch.Generator().manual_seed(0)
    embeds = torch.nn.functional.normalize(
        torch.randn(len(class_names), dim, generator=g), dim=1)
    save_text_cache(path, embeds, dict(class_names=list(class_names)))
    return path


def build_model(model_cfg: dict, device: str = 'cpu') -> torch.nn.Module:
    """``MODELS.build`` + ``init_weights`` in MMPretrain's scope, quietly."""
    from mmengine.logging import MMLogger
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs a lot
    try:
        model = MODELS.build(model_cfg)
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model.to(device)


def finite(log_vars: dict) -> bool:
    """Whether every value of a ``train_step`` result is finite."""
    return all(bool(torch.isfinite(torch.as_tensor(v)).all())
               for v in log_vars.values())


def new_report(args, argv=None, device: str = 'cpu', **sections) -> dict:
    """Results of a script: its settings (arguments and command line), the
    machine, then ``sections``."""
    settings = {k: v for k, v in vars(args).items()
                if k not in ('out', 'out_json', 'out_md', 'paired')}
    argv = sys.argv[1:] if argv is None else argv
    settings['command'] = ' '.join(
        [osp.relpath(osp.abspath(sys.argv[0]), REPO)] + list(argv))
    return dict(settings=settings, machine=machine_info(device), **sections)


def write_report(res: dict, table: str, t0: float,
                 out_json: Optional[str] = None,
                 out_md: Optional[str] = None) -> None:
    """Finish ``res`` (load at the end, seconds since ``t0``), print the
    markdown table; write it and the JSON results if asked."""
    res['machine']['loadavg_end'] = machine_info().get('loadavg_start')
    res['total_s'] = time.perf_counter() - t0
    print('\n' + table, flush=True)
    if out_md:
        with open(out_md, 'w') as f:
            f.write(table)
    if out_json:
        with open(out_json, 'w') as f:
            json.dump(res, f, indent=2)


def machine_info(device: str = 'cpu') -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(cpu=cpu, logical_cpus=os.cpu_count(),
                torch=torch.__version__, threads=torch.get_num_threads(),
                python=platform.python_version())
    try:
        info['loadavg_start'] = list(os.getloadavg())
    except OSError:
        pass
    if device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info
