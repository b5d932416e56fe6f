"""Speed of KENT against the linear-head baseline, and of the data loader.

In one process, with paired alternating runs (KENT, baseline, then
baseline, KENT, ...: each pair is one KENT run and one baseline run taken
back to back, the order flipped every pair so that a load drift on a shared
machine does not favour either), the script measures:

(a) training step time -- data preprocessor, forward, losses, backward and
    optimizer step (``model.train_step`` with an ``OptimWrapper``) -- of the
    KENT config against its ``baseline_*`` twin (same backbone,
    ``LinearClsHead``), for ResNet-18 and Swin-T;
(b) inference images/s of both models in eval mode (``forward`` in
    ``'tensor'`` mode: backbone, neck, head logits) at batch 1 and 32;
(c) the data-loader throughput of the RAF-DB training pipeline of the config
    (JPEG decode + augmentation, the config's batch size and number of
    workers) on a generated synthetic RAF-DB with 100x100 JPEGs, against the
    training images/s of ResNet-18 from (a).

The reported ratio is the median over pairs of ``time(KENT) / time(baseline)``
(1.03 = KENT costs 3% more), with a distribution-free 95% confidence interval
of that median (order statistics; needs >= 6 pairs). With ``--interleave`` a pair is instead one
window in which the two models' calls alternate one by one (K, B, B, K, ...),
so both sample the same seconds of a noisy machine; the pair's ratio is the
ratio of their mean call times in that window. Models are randomly
initialised and KENT reads random unit text embeddings from a file (speed
does not depend on weights; no CLIP needed).

Example::

    python tools/benchmark.py --threads 2 --repeats 7 --out-json bench.json
    python tools/benchmark.py --device cuda --amp --train-throughput-size 224
"""
import argparse
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.optim import OptimWrapper

import kent_mm  # noqa: F401

MIN_PAIRS = 3
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'resnet18': ('kent_resnet18_rafdb.py', 'baseline_resnet18_rafdb.py'),
    'swin-t': ('kent_swin-t_rafdb.py', 'baseline_swin-t_rafdb.py'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='KENT vs linear-head baseline: training step, inference '
        'and data-loader speed (paired alternating runs)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision (autocast; fp16 with a loss scaler on cuda, '
        'bf16 on cpu, see --amp-dtype)')
    parser.add_argument(
        '--amp-dtype', choices=['float16', 'bfloat16'], default=None,
        help='autocast dtype (default float16 on cuda, bfloat16 on cpu)')
    parser.add_argument(
        '--models', nargs='+', choices=list(CONFIGS),
        default=list(CONFIGS))
    parser.add_argument('--img-size', type=int, default=112)
    parser.add_argument(
        '--batch-size', type=int, default=32,
        help='training batch (and the large inference batch)')
    parser.add_argument(
        '--infer-batch-sizes', type=int, nargs='+', default=None,
        help='inference batches (default: 1 and --batch-size)')
    parser.add_argument(
        '--repeats', type=int, default=7,
        help='timed pairs (one KENT and one baseline run each)')
    parser.add_argument(
        '--max-measure-s', type=float, default=0.,
        help='time budget of one measurement: no new pair starts after this '
        f'many seconds of timed pairs (but at least {MIN_PAIRS} pairs); '
        '0 = none')
    parser.add_argument(
        '--parts', nargs='+', choices=['train', 'infer', 'loader'],
        default=['train', 'infer', 'loader'], help='what to measure')
    parser.add_argument(
        '--warmup', type=int, default=2,
        help='untimed calls of each model before a measurement')
    parser.add_argument(
        '--window', type=float, default=1.0,
        help='a timed run repeats its call until this many seconds have '
        'passed (at least once)')
    parser.add_argument(
        '--interleave', action='store_true',
        help='alternate the two models call by call inside each window '
        '(one window = one pair) instead of one window per model: more '
        'robust to load bursts when a call is short')
    parser.add_argument(
        '--threads', type=int, default=None,
        help='torch threads of this process (default: torch default)')
    parser.add_argument(
        '--loader-images', type=int, default=1024,
        help='training images of the synthetic RAF-DB')
    parser.add_argument(
        '--loader-batches', type=int, default=None,
        help='timed loader batches (default: one epoch minus the first)')
    parser.add_argument(
        '--num-workers', type=int, default=None,
        help='loader workers (default: the config\'s)')
    parser.add_argument(
        '--data-root', default=None,
        help='use this RAF-DB-layout dataset for (c) instead of generating '
        'a synthetic one')
    parser.add_argument(
        '--train-throughput-size', type=int, default=None,
        help='also measure training images/s of both models at this input '
        'size (e.g. 224 with --amp on a GPU)')
    parser.add_argument('--out-json', help='write all results here')
    parser.add_argument('--out-md', help='write the markdown table here')
    parser.add_argument(
        '--quick', action='store_true',
        help='tiny run for tests: short windows, few loader images')
    args = parser.parse_args(argv)
    if args.quick:
        args.window = min(args.window, 0.01)
        args.loader_images = min(args.loader_images, 16)
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but CUDA is not available')
    if args.amp_dtype is None:
        args.amp_dtype = 'float16' if args.device == 'cuda' else 'bfloat16'
    if args.infer_batch_sizes is None:
        args.infer_batch_sizes = sorted({1, args.batch_size})
    return args


# ------------------------------------------------------------------ helpers
def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(fn: Callable, window: float, device: str) -> float:
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
                device: str) -> Dict[str, float]:
    """Calls/s of each of two functions whose calls alternate one by one
    (A, B, B, A, A, B, ...) for at least ``window`` s (>= 1 call each)."""
    names = list(fns)
    spent = {name: 0. for name in names}
    calls = {name: 0 for name in names}
    start = time.perf_counter()
    i = 0
    while True:
        # ABBA order: each model goes first as often as the other.
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
           device: str, max_s: float = 0.,
           interleave: bool = False) -> Dict[str, List[float]]:
    """Calls/s of ``fns['kent']`` and ``fns['baseline']`` in ``repeats``
    pairs, alternating (K, B), (B, K), ... after ``warmup`` calls of each.

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
    ``level`` (no assumption on the noise's distribution; 15 pairs give
    the 4th and 12th values, 96.5%).

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


def summarize(rates: Dict[str, List[float]], batch: int) -> dict:
    """Images/s (median) of each model and the paired time ratio with the
    95% confidence interval of its median (``None`` if too few pairs)."""
    ratios = [b / k for k, b in zip(rates['kent'], rates['baseline'])]
    ratio = statistics.median(ratios)
    ci = median_ci(ratios)
    return dict(
        kent_img_s=statistics.median(rates['kent']) * batch,
        baseline_img_s=statistics.median(rates['baseline']) * batch,
        time_ratio=ratio,
        overhead_pct=(ratio - 1) * 100,
        overhead_ci95_pct=(None if ci is None else
                           [round((c - 1) * 100, 2) for c in ci]),
        pair_ratios=[round(x, 4) for x in ratios])


def write_text_file(path: str, class_names, dim: int) -> str:
    """Random unit text embeddings for ``class_names`` (no CLIP)."""
    from kent_mm.models.text import save_text_cache
    g = torch.Generator().manual_seed(0)
    embeds = torch.nn.functional.normalize(
        torch.randn(len(class_names), dim, generator=g), dim=1)
    save_text_cache(path, embeds, dict(class_names=list(class_names)))
    return path


def load_cfg(name: str, img_size: int, tmp: str):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    if backbone.type == 'SwinTransformer':
        backbone.img_size = img_size
        # Stage maps below the 7x7 window (tiny test inputs) need padding.
        grid = img_size // backbone.get('patch_size', 4) // 8
        if grid < backbone.get('window_size', 7):
            backbone.pad_small_map = True
    head = cfg.model.head
    if head.type == 'KENTHead':
        file = osp.join(tmp, f'text_{len(head.class_names)}.pth')
        if not osp.exists(file):
            write_text_file(file, head.class_names, head.in_channels)
        head.text_embeddings = dict(
            type='PrecomputedTextEmbeddings', file=file)
    return cfg


def build_model(name: str, img_size: int, device: str, tmp: str):
    from mmengine.logging import MMLogger
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs a lot
    try:
        model = MODELS.build(load_cfg(name, img_size, tmp).model)
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model.to(device)


class CPUAmpOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward runs under CPU autocast
    (MMEngine's ``AmpOptimWrapper`` is GPU-only)."""

    def __init__(self, dtype: torch.dtype, **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield


def make_optim_wrapper(model, args):
    from mmengine.optim import AmpOptimWrapper
    # The configs' optimizer (kent_sgd_50e.py).
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.002, momentum=0.9, weight_decay=5e-4)
    if not args.amp:
        return OptimWrapper(optimizer=optimizer)
    if args.device == 'cuda':
        return AmpOptimWrapper(optimizer=optimizer, dtype=args.amp_dtype)
    return CPUAmpOptimWrapper(
        dtype=getattr(torch, args.amp_dtype), optimizer=optimizer)


def fake_batch(batch: int, img_size: int, num_classes: int, device: str,
               seed: int = 0) -> dict:
    """A training batch as the loader gives it, already on the device:
    uint8 images and hard labels covering every class (neutral included)."""
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(
        0, 256, (batch, 3, img_size, img_size), generator=g,
        dtype=torch.uint8).to(device)
    labels = torch.arange(batch) % num_classes
    samples = [
        DataSample().set_gt_label(int(y)).to(device) for y in labels
    ]
    return dict(inputs=inputs, data_samples=samples)


def autocast(args):
    if not args.amp:
        return nullcontext()
    return torch.autocast(args.device, dtype=getattr(torch, args.amp_dtype))


# ------------------------------------------------------------- benchmarks
def bench_train(models: dict, args, img_size: int, batch: int) -> dict:
    steps = {}
    for name, model in models.items():
        model.train()
        wrapper = make_optim_wrapper(model, args)
        data = fake_batch(batch, img_size, model.head.num_classes,
                          args.device)

        def step(model=model, wrapper=wrapper, data=data):
            model.train_step(data, wrapper)

        steps[name] = step
    rates = paired(steps, args.repeats, args.warmup, args.window,
                   args.device, args.max_measure_s, args.interleave)
    for wrapper_model in models.values():
        wrapper_model.zero_grad(set_to_none=True)
    return summarize(rates, batch)


def bench_infer(models: dict, args, img_size: int, batch: int) -> dict:
    fns = {}
    for name, model in models.items():
        model.eval()
        data = fake_batch(batch, img_size, model.head.num_classes,
                          args.device)
        with torch.no_grad():
            inputs = model.data_preprocessor(data, False)['inputs']

        def infer(model=model, inputs=inputs):
            with torch.inference_mode(), autocast(args):
                model(inputs, mode='tensor')

        fns[name] = infer
    return summarize(
        paired(fns, args.repeats, args.warmup, args.window, args.device,
               args.max_measure_s, args.interleave),
        batch)


def bench_loader(args, tmp: str) -> dict:
    from mmengine.runner import Runner
    cfg = load_cfg(CONFIGS['resnet18'][0], args.img_size, tmp)
    root = args.data_root
    gen_s = 0.
    if root is None:
        from kent_mm.testing import generate_synthetic_rafdb
        root = osp.join(tmp, 'rafdb')
        start = time.perf_counter()
        generate_synthetic_rafdb(root, num_train=args.loader_images,
                                 num_test=0, image_size=100, seed=0)
        gen_s = time.perf_counter() - start
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.dataset.data_root = root
    if args.num_workers is not None:
        loader_cfg.num_workers = args.num_workers
    batch = loader_cfg.batch_size
    if args.quick:
        batch = loader_cfg.batch_size = 4
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    n_batches = args.loader_batches or max(len(loader) - 1, 1)

    def batches():
        while True:
            yield from loader

    it = batches()
    start = time.perf_counter()
    next(it)  # worker start-up and the first batch, not timed
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    images = 0
    for _ in range(n_batches):
        images += len(next(it)['inputs'])
    elapsed = time.perf_counter() - start
    del it, loader
    resize = [t for t in loader_cfg.dataset.pipeline if t.type == 'Resize']
    return dict(
        img_s=images / elapsed,
        output_size=list(resize[0].scale) if resize else None,
        batch_size=batch,
        num_workers=loader_cfg.num_workers,
        timed_batches=n_batches,
        first_batch_s=first_s,
        dataset_images=len(os.listdir(osp.join(root, 'Image', 'aligned'))),
        synthetic_generation_s=gen_s,
        data_root=None if args.data_root is None else root)


# ------------------------------------------------------------------ report
def machine_info(args) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu=cpu, logical_cpus=os.cpu_count(), torch=torch.__version__,
        threads=torch.get_num_threads(), python=platform.python_version())
    try:
        info['loadavg_start'] = list(os.getloadavg())
    except OSError:
        pass
    if args.device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info


def markdown(res: dict, args) -> str:
    rows = [
        '| measurement | model | batch | baseline (img/s) | KENT (img/s) '
        '| KENT/baseline time (median of pairs) | pairs | KENT overhead '
        '| 95% CI |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ]

    def row(kind, model, batch, r):
        ci = r.get('overhead_ci95_pct')
        ci = 'n/a' if ci is None else f'{ci[0]:+.1f}% .. {ci[1]:+.1f}%'
        rows.append(f'| {kind} | {model} | {batch} | '
                    f'{r["baseline_img_s"]:.1f} | {r["kent_img_s"]:.1f} | '
                    f'{r["time_ratio"]:.3f} | {len(r["pair_ratios"])} | '
                    f'{r["overhead_pct"]:+.1f}% | {ci} |')

    size = res['settings']['img_size']
    for model, r in res['train'].items():
        row(f'train step {size}px', model, args.batch_size, r)
    for model, by_batch in res['inference'].items():
        for batch, r in by_batch.items():
            row(f'inference {size}px', model, batch, r)
    for tsize, by_model in res.get('train_throughput', {}).items():
        for model, r in by_model.items():
            row(f'train step {tsize}px', model, args.batch_size, r)
    text = '\n'.join(rows) + '\n'
    if 'loader' in res:
        lo = res['loader']
        text += (
            f'\n| data loader (RAF-DB train pipeline, 100x100 JPEG -> '
            f'{lo["output_size"]}) | workers | batch | img/s '
            '| ResNet-18 train img/s (baseline / KENT) | bottleneck |\n'
            '| --- | ---: | ---: | ---: | ---: | --- |\n'
            f'| synthetic RAF-DB, {lo["dataset_images"]} images | '
            f'{lo["num_workers"]} | {lo["batch_size"]} | {lo["img_s"]:.1f} | '
            f'{lo["model_train_img_s"]["baseline"]:.1f} / '
            f'{lo["model_train_img_s"]["kent"]:.1f} | '
            f'{lo["bottleneck"]} |\n')
    return text


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == 'cuda':
        torch.backends.cudnn.benchmark = True
    res = dict(
        settings=dict(
            device=args.device, amp=args.amp,
            amp_dtype=args.amp_dtype if args.amp else None,
            img_size=args.img_size, batch_size=args.batch_size,
            infer_batch_sizes=args.infer_batch_sizes, repeats=args.repeats,
            warmup=args.warmup, window_s=args.window, quick=args.quick,
            max_measure_s=args.max_measure_s, parts=args.parts,
            interleave=args.interleave,
            command=' '.join([osp.relpath(sys.argv[0], REPO)] +
                             (argv if argv is not None else sys.argv[1:]))),
        machine=machine_info(args), train={}, inference={})
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.models:
            kent_cfg, base_cfg = CONFIGS[key]
            print(f'[{key}] building models', flush=True)
            models = dict(
                kent=build_model(kent_cfg, args.img_size, args.device, tmp),
                baseline=build_model(base_cfg, args.img_size, args.device,
                                     tmp))
            if 'train' in args.parts:
                res['train'][key] = bench_train(models, args, args.img_size,
                                                args.batch_size)
                print(f'[{key}] train: {res["train"][key]} '
                      f'({time.perf_counter() - t0:.0f} s)', flush=True)
            for batch in (args.infer_batch_sizes
                          if 'infer' in args.parts else []):
                res['inference'].setdefault(key, {})
                r = bench_infer(models, args, args.img_size, batch)
                res['inference'][key][batch] = r
                print(f'[{key}] inference b{batch}: {r} '
                      f'({time.perf_counter() - t0:.0f} s)', flush=True)
            del models
            if args.train_throughput_size:
                size = args.train_throughput_size
                models = dict(
                    kent=build_model(kent_cfg, size, args.device, tmp),
                    baseline=build_model(base_cfg, size, args.device, tmp))
                r = bench_train(models, args, size, args.batch_size)
                res.setdefault('train_throughput', {}).setdefault(
                    size, {})[key] = r
                print(f'[{key}] train {size}px: {r}', flush=True)
                del models
            if args.device == 'cuda':
                torch.cuda.empty_cache()
        if 'loader' in args.parts:
            print('[loader] measuring', flush=True)
            lo = bench_loader(args, tmp)
            if 'resnet18' in res['train']:
                tr = res['train']['resnet18']
                lo['model_train_img_s'] = dict(
                    baseline=tr['baseline_img_s'], kent=tr['kent_img_s'])
                slower = min(tr['baseline_img_s'], tr['kent_img_s'])
                lo['loader_over_model'] = lo['img_s'] / slower
                lo['bottleneck'] = ('model' if lo['img_s'] >= slower else
                                    'data loader')
            else:
                lo['model_train_img_s'] = dict(baseline=0., kent=0.)
                lo['loader_over_model'] = None
                lo['bottleneck'] = 'n/a (no ResNet-18 run)'
            res['loader'] = lo
            print(f'[loader] {lo}', flush=True)
    try:
        res['machine']['loadavg_end'] = list(os.getloadavg())
    except OSError:
        pass
    res['total_s'] = time.perf_counter() - t0
    table = markdown(res, args)
    print('\n' + table)
    if args.out_md:
        with open(args.out_md, 'w') as f:
            f.write(table)
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == '__main__':
    main()
