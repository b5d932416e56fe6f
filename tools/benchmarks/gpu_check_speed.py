"""Item (f) of ``gpu_check.py``: KENT against its baseline at each
backbone's real input size, with peak memory.

For ResNet-18 and Swin-T at ``--img-size`` (112: both backbones' configs;
Swin-T with its patch size 2, a 56x56 token grid as a standard Swin-T has
at 224 px), batch ``--batch-size``: the paired training-step and
inference time ratios of ``speed.py`` (``--amp``: fp16 autocast on CUDA,
bfloat16 on a CPU), then each model alone for the peak memory of a
training step and of batch inference (``torch.cuda.max_memory_allocated``;
not measured on a CPU), then the RAF-DB data loader against ResNet-18
training when ``--data-root`` is given. Writes ``--out-json`` and
``--out-md``.

Example::

    python tools/benchmarks/gpu_check_speed.py --device cuda --amp \\
        --out-json speed.json --out-md speed.md
"""
import argparse
import sys
import tempfile
import time

import torch

import speed
from timing import fake_batch, new_report, write_report

LABELS = {'resnet18': 'ResNet-18 {s}px',
          'swin-t': 'Swin-T {s}px (patch {p}: {g}x{g} tokens)'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--device', choices=['cpu', 'cuda'], default='cuda')
    add('--amp', action='store_true')
    add('--img-size', type=int, default=112)
    add('--batch-size', type=int, default=64)
    add('--repeats', type=int, default=6, help='timed pairs (6: the '
        'fewest with a 95%% CI of the median)')
    add('--warmup', type=int, default=3)
    add('--window', type=float, default=0.25, help='seconds per window')
    add('--max-measure-s', type=float, default=10.)
    add('--threads', type=int)
    add('--data-root', help='RAF-DB layout for the loader measurement')
    add('--num-workers', type=int, default=8)
    add('--loader-batches', type=int, default=20)
    add('--quick', action='store_true', help="speed.py's tiny run (tests)")
    add('--out-json', required=True)
    add('--out-md', required=True)
    return p.parse_args(argv)


def speed_args(args) -> argparse.Namespace:
    """``speed.py``'s options for the same measurement."""
    argv = ['--device', args.device, '--img-size', str(args.img_size),
            '--batch-size', str(args.batch_size), '--repeats',
            str(args.repeats), '--warmup', str(args.warmup), '--window',
            str(args.window), '--max-measure-s', str(args.max_measure_s),
            '--num-workers', str(args.num_workers), '--loader-batches',
            str(args.loader_batches)]
    argv += ['--amp'] if args.amp else []
    argv += ['--quick'] if args.quick else []
    argv += ['--data-root', args.data_root] if args.data_root else []
    return speed.parse_args(argv)


def label(key: str, sargs, tmp: str) -> str:
    """``'Swin-T 112px (patch 2: 56x56 tokens)'``: the size as trained."""
    backbone = speed.load_cfg(speed.CONFIGS[key][0], sargs.img_size,
                              tmp).model.backbone
    patch = backbone.get('patch_size', 4)
    return LABELS[key].format(s=sargs.img_size, p=patch,
                              g=sargs.img_size // patch)


def peak_memory(key: str, sargs, tmp: str) -> dict:
    """Peak memory (MB) of a training step and of batch inference, each
    model alone on the device (``None`` on a CPU: no allocator stats)."""
    cuda = sargs.device == 'cuda'
    out = {}
    for name, cfg in zip(('kent', 'baseline'), speed.CONFIGS[key]):
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        model = speed.load_model(cfg, sargs.img_size, sargs, tmp).train()
        wrapper = speed.make_optim_wrapper(model, sargs)
        data = fake_batch(sargs.batch_size, sargs.img_size,
                          model.head.num_classes, sargs.device)
        for _ in range(2):  # the second step holds the optimizer state
            model.train_step(data, wrapper)
        train_mb = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
        del wrapper  # with the optimizer state
        model.zero_grad(set_to_none=True)
        model.eval()
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        inputs = model.data_preprocessor(data, False)['inputs']
        dtype = torch.float16 if cuda else torch.bfloat16
        with torch.inference_mode(), torch.autocast(
                sargs.device, dtype=dtype, enabled=sargs.amp):
            model(inputs, mode='tensor')
        infer_mb = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
        out[name] = dict(train_mb=train_mb, infer_mb=infer_mb)
        del model, inputs
    if not cuda:
        out['note'] = 'CUDA only (torch.cuda.max_memory_allocated)'
    return out


def markdown(res: dict) -> str:
    rows = [speed.markdown(res).rstrip('\n'), '',
            '| model | peak MB train step (baseline / KENT) | peak MB '
            'inference (baseline / KENT) |', '| --- | ---: | ---: |']
    for key, mem in res['memory'].items():
        def mb(name, part):
            v = mem[name][part]
            return '-' if v is None else f'{v:.0f}'
        rows.append(f'| {res["labels"][key]} | {mb("baseline", "train_mb")}'
                    f' / {mb("kent", "train_mb")} | '
                    f'{mb("baseline", "infer_mb")} / {mb("kent", "infer_mb")}'
                    ' |')
    return '\n'.join(rows) + '\n'


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sargs = speed_args(args)
    torch.backends.cudnn.benchmark = True
    res = new_report(args, argv, args.device, train={}, inference={},
                     memory={}, labels={}, errors={})
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for key in speed.CONFIGS:
            try:
                res['labels'][key] = label(key, sargs, tmp)
                speed.measure(key, sargs.img_size, ['infer', 'train'],
                              sargs, tmp, res)
                if args.device == 'cuda':
                    torch.cuda.empty_cache()
                res['memory'][key] = peak_memory(key, sargs, tmp)
            except Exception as e:  # recorded; the next model runs
                res['errors'][key] = f'{type(e).__name__}: {e}'
                print(f'[{key}] failed: {e!r}', flush=True)
        if args.data_root:
            try:
                lo = speed.bench_loader(sargs, tmp)
                res['loader'] = dict(lo, **speed.loader_vs_model(lo, res))
            except Exception as e:
                res['errors']['loader'] = f'{type(e).__name__}: {e}'
    write_report(res, markdown(res), t0, args.out_json, args.out_md)
    return res


if __name__ == '__main__':
    sys.exit(1 if main()['errors'] else 0)
