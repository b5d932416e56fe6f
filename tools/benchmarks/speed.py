"""Speed of KENT against the linear-head baseline, and of the data loader.

In one process, KENT and its ``baseline_*`` twin (same backbone,
``LinearClsHead``) are timed side by side in pairs (``timing.paired``):

(a) training step -- data preprocessor, forward, losses, backward and
    optimizer step (``model.train_step`` with the optim wrapper that
    ``tools/train.py`` uses: ``OptimWrapper``; with ``--amp`` MMEngine's
    ``AmpOptimWrapper`` on CUDA, kent_mm's ``BF16OptimWrapper`` on CPU),
    for ResNet-18 and Swin-T;
(b) inference images/s in eval mode (``forward(mode='tensor')``) at batch 1
    and ``--batch-size``, after ``switch_to_deploy()`` of every module that
    has it (KENT's fused embedding head, as deployment uses; ``--no-deploy``
    times the training-time modules);
(c) the data loader of the RAF-DB training pipeline of the config (JPEG
    decode + augmentation) on a synthetic RAF-DB with 100x100 JPEGs,
    against ResNet-18's training images/s at the loader's output size.

A ratio is the median over pairs of ``time(KENT) / time(baseline)`` (1.03 =
KENT costs 3% more) with a distribution-free 95% CI of that median (>= 6
pairs). Models are randomly initialised and KENT reads random unit text
embeddings from a file (speed does not depend on weights).

Example::

    python tools/benchmarks/speed.py --threads 2 --repeats 7 --out-json s.json
    python tools/benchmarks/speed.py --device cuda --amp \\
        --train-throughput-size 224
"""
import argparse
import copy
import itertools
import os
import os.path as osp
import sys
import tempfile
import time

import torch

import kent_mm  # noqa: F401
from timing import (REPO, build_model, fake_batch, finite, new_report, paired,
                    random_text_file, summarize, throughput, write_report)

CONFIGS = {
    'resnet18': ('kent_resnet18_rafdb.py', 'baseline_resnet18_rafdb.py'),
    'swin-t': ('kent_swin-t_rafdb.py', 'baseline_swin-t_rafdb.py'),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--device', choices=['cpu', 'cuda'], default='cpu')
    add('--amp', action='store_true', help='mixed precision as '
        'tools/train.py --amp: fp16 on cuda, bf16 on cpu')
    add('--amp-dtype', choices=['float16', 'bfloat16'], default='float16',
        help='autocast dtype on cuda')
    add('--channels-last', action='store_true',
        help='models in channels-last layout (as ChannelsLastHook)')
    add('--models', nargs='+', choices=list(CONFIGS), default=list(CONFIGS))
    add('--img-size', type=int, default=112)
    add('--batch-size', type=int, default=32,
        help='training batch (and the large inference batch)')
    add('--infer-batch-sizes', type=int, nargs='+',
        help='inference batches (default: 1 and --batch-size)')
    add('--repeats', type=int, default=7, help='timed pairs')
    add('--max-measure-s', type=float, default=0., help='no new pair after '
        'this many seconds of a measurement (>= 3 pairs); 0 = no limit')
    add('--parts', nargs='+', choices=['train', 'infer', 'loader'],
        default=['train', 'infer', 'loader'])
    add('--warmup', type=int, default=2, help='untimed calls of each model')
    add('--window', type=float, default=1.0, help='seconds per timed window')
    add('--interleave', action='store_true', help='alternate the models '
        'call by call inside each window (one window = one pair)')
    add('--no-deploy', action='store_true',
        help='time inference without switch_to_deploy()')
    add('--threads', type=int, help='torch threads')
    add('--loader-images', type=int, default=1024,
        help='training images of the synthetic RAF-DB')
    add('--loader-batches', type=int, help='timed loader batches')
    add('--num-workers', type=int, help="loader workers (default: config's)")
    add('--data-root', help='RAF-DB-layout data for (c) instead of a '
        'generated synthetic set')
    add('--train-throughput-size', type=int,
        help='also time the training step of both models at this size')
    add('--out-json')
    add('--out-md')
    add('--quick', action='store_true',
        help='tiny run for tests: short windows, few images')
    args = p.parse_args(argv)
    if args.quick:
        args.window = min(args.window, 0.01)
        args.loader_images = min(args.loader_images, 16)
    if args.device == 'cuda' and not torch.cuda.is_available():
        p.error('--device cuda but CUDA is not available')
    if args.infer_batch_sizes is None:
        args.infer_batch_sizes = sorted({1, args.batch_size})
    args.paired = dict(repeats=args.repeats, warmup=args.warmup,
                       window=args.window, device=args.device,
                       max_s=args.max_measure_s, interleave=args.interleave)
    return args


def load_cfg(name: str, img_size: int, tmp: str):
    """A benchmark config: no pretrained weights, random text features."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    if backbone.type == 'SwinTransformer':
        backbone.img_size = img_size
        # Stage maps below the 7x7 window (tiny inputs) need padding.
        if img_size // backbone.get('patch_size', 4) // 8 < 7:
            backbone.pad_small_map = True
    head = cfg.model.head
    if head.type == 'KENTHead':
        file = osp.join(tmp, f'text_{len(head.class_names)}.pth')
        if not osp.exists(file):
            random_text_file(file, head.class_names, head.in_channels)
        head.text_embeddings = dict(type='PrecomputedTextEmbeddings',
                                    file=file)
    return cfg


def load_model(name: str, img_size: int, args, tmp: str):
    cfg = load_cfg(name, img_size, tmp)
    model = build_model(cfg.model, args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.bench_optim_cfg = cfg.optim_wrapper
    return model


def make_optim_wrapper(model, args):
    """The config's optim wrapper as tools/train.py builds it (``--amp``:
    fp16 ``AmpOptimWrapper`` on cuda, ``BF16OptimWrapper`` on cpu)."""
    from mmengine.optim import build_optim_wrapper
    cfg = copy.deepcopy(model.bench_optim_cfg)
    if args.amp and args.device == 'cuda':
        cfg.update(type='AmpOptimWrapper', dtype=args.amp_dtype)
        cfg.setdefault('loss_scale', 'dynamic')
    elif args.amp:
        cfg.type = 'BF16OptimWrapper'
    return build_optim_wrapper(model, cfg)


def bench_train(models: dict, args, img_size: int) -> dict:
    steps, last = {}, {}
    for name, model in models.items():
        model.train()
        wrapper = make_optim_wrapper(model, args)
        data = fake_batch(args.batch_size, img_size, model.head.num_classes,
                          args.device)

        def step(name=name, model=model, wrapper=wrapper, data=data):
            last[name] = model.train_step(data, wrapper)

        steps[name] = step
    res = summarize(paired(steps, **args.paired), args.batch_size)
    res['finite_losses'] = all(finite(v) for v in last.values())
    for model in models.values():
        model.zero_grad(set_to_none=True)
    return res


def bench_infer(models: dict, args, batch: int) -> dict:
    fns, deployed = {}, {}
    for name, model in models.items():
        model = copy.deepcopy(model).eval()
        deployed[name] = []
        for m in [] if args.no_deploy else list(model.modules()):
            if callable(getattr(m, 'switch_to_deploy', None)):
                m.switch_to_deploy()
                deployed[name].append(type(m).__name__)
        data = fake_batch(batch, args.img_size, model.head.num_classes,
                          args.device)
        with torch.no_grad():
            inputs = model.data_preprocessor(data, False)['inputs']
        dtype = torch.bfloat16 if args.device == 'cpu' else getattr(
            torch, args.amp_dtype)

        def infer(model=model, inputs=inputs):
            with torch.inference_mode(), torch.autocast(
                    args.device, dtype=dtype, enabled=args.amp):
                model(inputs, mode='tensor')

        fns[name] = infer
    return dict(summarize(paired(fns, **args.paired), batch),
                deployed=deployed)


def bench_loader(args, tmp: str) -> dict:
    from mmengine.runner import Runner
    cfg = load_cfg(CONFIGS['resnet18'][0], args.img_size, tmp)
    root, gen_s = args.data_root, 0.
    if root is None:
        from kent_mm.testing import generate_synthetic_rafdb
        root, start = osp.join(tmp, 'rafdb'), time.perf_counter()
        generate_synthetic_rafdb(root, num_train=args.loader_images,
                                 num_test=0, image_size=100, seed=0)
        gen_s = time.perf_counter() - start
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.dataset.data_root = root
    if args.num_workers is not None:
        loader_cfg.num_workers = args.num_workers
    # Workers live on across epochs, as in tools/train.py.
    loader_cfg.persistent_workers = loader_cfg.num_workers > 0
    if args.quick:
        loader_cfg.batch_size = 4
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    res = throughput(loader, args.loader_batches or max(len(loader) - 1, 1))
    resize = [t for t in loader_cfg.dataset.pipeline if t.type == 'Resize']
    return dict(res, output_size=list(resize[0].scale) if resize else None,
                batch_size=loader_cfg.batch_size,
                num_workers=loader_cfg.num_workers,
                dataset_images=len(os.listdir(osp.join(root, 'Image',
                                                       'aligned'))),
                synthetic_generation_s=gen_s, data_root=args.data_root)


def loader_vs_model(lo: dict, res: dict) -> dict:
    """The loader against ResNet-18 training at the loader's output size
    (else at --img-size): which one bounds training."""
    size = lo['output_size'][0] if lo['output_size'] else None
    at = size
    tr = res.get('train_throughput', {}).get(size, {}).get('resnet18')
    if tr is None:
        tr, at = res['train'].get('resnet18'), res['settings']['img_size']
    if tr is None:
        return dict(model_train_img_s=None, loader_over_model=None,
                    bottleneck='n/a (no ResNet-18 training run)')
    slower = min(tr['baseline_img_s'], tr['kent_img_s'])
    return dict(model_train_img_s=dict(baseline=tr['baseline_img_s'],
                                       kent=tr['kent_img_s']),
                model_img_size=at, loader_over_model=lo['img_s'] / slower,
                bottleneck='model' if lo['img_s'] >= slower else 'data loader')


def markdown(res: dict) -> str:
    s = res['settings']
    rows = ['| measurement | model | batch | baseline (img/s) | KENT (img/s) '
            '| KENT/baseline time (median) | pairs | overhead | 95% CI |',
            '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |']
    cells = [(f'train step {s["img_size"]}px', m, s['batch_size'], r)
             for m, r in res['train'].items()]
    cells += [(f'inference {s["img_size"]}px', m, b, r)
              for m, by_b in res['inference'].items() for b, r in by_b.items()]
    cells += [(f'train step {size}px', m, s['batch_size'], r) for size, by_m
              in res.get('train_throughput', {}).items()
              for m, r in by_m.items()]
    for kind, model, batch, r in cells:
        ci = r['overhead_ci95_pct']
        ci = 'n/a' if ci is None else f'{ci[0]:+.1f}% .. {ci[1]:+.1f}%'
        rows.append(f'| {kind} | {model} | {batch} | {r["baseline_img_s"]:.1f}'
                    f' | {r["kent_img_s"]:.1f} | {r["time_ratio"]:.3f} | '
                    f'{len(r["pair_ratios"])} | {r["overhead_pct"]:+.1f}% | '
                    f'{ci} |')
    lo = res.get('loader')
    if lo:
        tr = lo['model_train_img_s'] or dict(baseline=0., kent=0.)
        rows += ['', f'| data loader (RAF-DB train pipeline -> '
                 f'{lo["output_size"]}) | workers | batch | img/s | ResNet-18 '
                 'train img/s (baseline / KENT) | bottleneck |',
                 '| --- | ---: | ---: | ---: | ---: | --- |',
                 f'| {lo["dataset_images"]} images | {lo["num_workers"]} | '
                 f'{lo["batch_size"]} | {lo["img_s"]:.1f} | '
                 f'{tr["baseline"]:.1f} / {tr["kent"]:.1f} | '
                 f'{lo["bottleneck"]} |']
    return '\n'.join(rows) + '\n'


def measure(key: str, size: int, parts: list, args, tmp: str, res: dict):
    """The measurements of one backbone at one input size."""
    models = {name: load_model(cfg, size, args, tmp)
              for name, cfg in zip(('kent', 'baseline'), CONFIGS[key])}
    for batch in args.infer_batch_sizes if 'infer' in parts else []:
        r = res['inference'].setdefault(key, {})[batch] = bench_infer(
            models, args, batch)
        print(f'[{key}] inference b{batch}: {r}', flush=True)
    for part in {'train', 'throughput'} & set(parts):
        r = bench_train(models, args, size)
        dest = res['train'] if part == 'train' else res.setdefault(
            'train_throughput', {}).setdefault(size, {})
        dest[key] = r
        print(f'[{key}] train {size}px: {r}', flush=True)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True
    res = new_report(args, argv, args.device, train={}, inference={},
                     errors={})
    res['settings']['amp_dtype'] = (None if not args.amp else 'bfloat16'
                                    if args.device == 'cpu' else
                                    args.amp_dtype)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(args.img_size, [p for p in ('infer', 'train')
                                 if p in args.parts])]
        if args.train_throughput_size:
            jobs.append((args.train_throughput_size, ['throughput']))
        for key, (size, parts) in itertools.product(args.models, jobs):
            try:
                if parts:
                    measure(key, size, parts, args, tmp, res)
            except Exception as e:  # recorded; the next measurement runs
                res['errors'][f'{key} {size}px'] = f'{type(e).__name__}: {e}'
                print(f'[{key}] {size}px failed: {e!r}', flush=True)
            if args.device == 'cuda':
                torch.cuda.empty_cache()
        try:
            if 'loader' in args.parts:
                lo = bench_loader(args, tmp)
                res['loader'] = lo = dict(lo, **loader_vs_model(lo, res))
                print(f'[loader] {lo}', flush=True)
        except Exception as e:
            res['errors']['loader'] = f'{type(e).__name__}: {e}'
    write_report(res, markdown(res), t0, args.out_json, args.out_md)
    return res


if __name__ == '__main__':
    sys.exit(1 if main()['errors'] else 0)
