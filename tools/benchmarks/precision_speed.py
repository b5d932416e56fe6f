"""Training step of one config in float32, bfloat16 autocast, and bfloat16
autocast + channels-last, side by side in one run.

The model and its optim wrapper are built from the config as
``tools/train.py`` builds them (default: the FER2013 `standard` baseline,
ResNet-18 at 48x48, batch 64, trained with kent_mm's ``BF16OptimWrapper``
and ``ChannelsLastHook``):

    fp32     the config's optimizer in a plain ``OptimWrapper``
    bf16     ``BF16OptimWrapper`` (bfloat16 autocast; float32 weights)
    bf16-cl  ``BF16OptimWrapper`` + the model converted by
             ``ChannelsLastHook.before_run``
    bf16-cl-compile  bf16-cl with ``model.train_step`` wrapped in
             ``torch.compile``, as MMEngine's ``compile=True`` config
             option does (``Runner._maybe_compile``); its warm-up steps
             include the compilation (not timed). Not in the default set.

Each variant starts from the same weights and times ``model.train_step``
(data preprocessor, forward, losses, backward, SGD step: what the runner's
training loop calls) on one fixed random batch. Variants are timed in
pairs (``timing.paired``); reported: images/s (median) of each and the
median over pairs of the speed-up ``time(fp32) / time(variant)``, with a
distribution-free 95% CI.

Example::

    OMP_NUM_THREADS=2 python tools/benchmarks/precision_speed.py \\
        --threads 2 --repeats 9 --window 3 --interleave --out-json p.json
"""
import argparse
import copy
import os.path as osp
import statistics
import time
from types import SimpleNamespace

import torch

import kent_mm  # noqa: F401
from timing import (REPO, build_model, compare, fake_batch, finite, new_report,
                    paired, write_report)

CONFIG = 'configs/benchmarks/baseline_resnet18_fer2013_standard.py'
VARIANTS = ('fp32', 'bf16', 'bf16-cl', 'bf16-cl-compile')
DEFAULT_VARIANTS = ('fp32', 'bf16', 'bf16-cl')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--config', default=CONFIG)
    add('--variants', nargs='+', choices=VARIANTS,
        default=list(DEFAULT_VARIANTS))
    add('--device', choices=['cpu', 'cuda'], default='cpu')
    add('--img-size', type=int, default=48)
    add('--batch-size', type=int, default=64)
    add('--repeats', type=int, default=7, help='timed pairs')
    add('--warmup', type=int, default=2, help='untimed steps of each')
    add('--window', type=float, default=1.0, help='seconds per timed window')
    add('--interleave', action='store_true', help='alternate the variants '
        'step by step inside each window (one window = one pair)')
    add('--max-measure-s', type=float, default=0., help='no new pair after '
        'this many seconds (>= 3 pairs); 0 = no limit')
    add('--threads', type=int, help='torch threads')
    add('--out-json')
    add('--out-md')
    add('--quick', action='store_true', help='tiny run for tests')
    args = p.parse_args(argv)
    if args.quick:
        args.window = min(args.window, 0.01)
    if 'fp32' not in args.variants:
        p.error('--variants needs fp32 (the reference)')
    if args.device == 'cuda' and not torch.cuda.is_available():
        p.error('--device cuda but CUDA is not available')
    return args


def build_variants(args) -> dict:
    """``{variant: (model, optim wrapper)}``, all from the same weights."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import HOOKS
    cfg = Config.fromfile(osp.join(REPO, args.config))
    cfg.model.backbone.init_cfg = None
    base = build_model(cfg.model, args.device)
    out = {}
    for name in args.variants:
        model = copy.deepcopy(base)
        wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
        wrapper_cfg.type = 'OptimWrapper' if name == 'fp32' else \
            'BF16OptimWrapper'
        if name.startswith('bf16-cl'):
            HOOKS.build(dict(type='ChannelsLastHook')).before_run(
                SimpleNamespace(model=model))
        if name.endswith('-compile'):
            # What the Runner does for `compile=True` (default options).
            model.train_step = torch.compile(model.train_step)
        out[name] = (model.train(), build_optim_wrapper(model, wrapper_cfg))
    return out


def markdown(res: dict) -> str:
    s = res['settings']
    rows = [f'`{s["config"]}`, {s["img_size"]}x{s["img_size"]}, batch '
            f'{s["batch_size"]}, {s["device"]}, {res["machine"]["threads"]} '
            'threads', '',
            '| variant | optim wrapper | img/s | speed-up vs fp32 (median) '
            '| 95% CI | pairs |', '| --- | --- | ---: | ---: | --- | ---: |']
    for name, r in res['variants'].items():
        ci = r['speedup_ci95']
        ci = 'n/a' if ci is None else f'{ci[0]:.3f} .. {ci[1]:.3f}'
        rows.append(f'| {name} | {r["optim_wrapper"]} | {r["img_s"]:.1f} | '
                    f'{r["speedup"]:.3f} | {ci} | {len(r["pair_ratios"])} |')
    return '\n'.join(rows) + '\n'


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    res = new_report(args, argv, args.device, variants={})
    t0 = time.perf_counter()
    variants = build_variants(args)
    steps, last = {}, {}
    for name, (model, wrapper) in variants.items():
        data = fake_batch(args.batch_size, args.img_size,
                          model.head.num_classes, args.device)

        def step(name=name, model=model, wrapper=wrapper, data=data):
            last[name] = model.train_step(data, wrapper)

        steps[name] = step
    rates = paired(steps, args.repeats, args.warmup, args.window,
                   args.device, args.max_measure_s, args.interleave)
    for name, (model, wrapper) in variants.items():
        # time(fp32) / time(variant), pair by pair.
        r = compare(rates, 'fp32', name)
        res['variants'][name] = dict(
            optim_wrapper=type(wrapper).__name__,
            channels_last='-cl' in name,
            compiled=name.endswith('-compile'),
            img_s=statistics.median(rates[name]) * args.batch_size,
            speedup=r['time_ratio'], speedup_ci95=r['time_ratio_ci95'],
            pair_ratios=r['pair_ratios'], finite_losses=finite(last[name]))
        print(f'[{name}] {res["variants"][name]}', flush=True)
    write_report(res, markdown(res), t0, args.out_json, args.out_md)
    return res


if __name__ == '__main__':
    main()
