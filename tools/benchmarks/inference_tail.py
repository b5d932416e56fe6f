"""Where KENT's extra inference time goes: backbone vs neck + head.

Builds the KENT model twice (fused embedding head at inference, the
default, and ``model.neck.fuse_eval=False``) and the linear-head baseline,
as ``tools/benchmark.py`` does (random weights, random unit text
embeddings), then times in eval mode under ``torch.inference_mode()``:

- ``full``: ``model(x, mode='tensor')``;
- ``backbone``: the backbone alone;
- ``tail``: neck + head on the backbone's output, called right after a
  backbone forward, as in a real call: the backbone streams tens of MB of
  weights through the caches, so the tail's weights and Python objects
  are cold. (Timed in a tight loop instead, the tail looks ~3x cheaper.)

Rounds visit the (model, part) cells in one order, then the reverse; the
table gives the median time per cell and each KENT variant's median paired
ratio to the baseline (the same round's calls).

Example:
    OMP_NUM_THREADS=2 python tools/benchmarks/inference_tail.py \\
        --model resnet18 --batch-size 1 --threads 2 --rounds 300
"""
import argparse
import importlib.util
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_benchmark():
    """tools/benchmark.py as a module (model building, fake batches)."""
    spec = importlib.util.spec_from_file_location(
        'kent_benchmark', osp.join(REPO, 'tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=['resnet18', 'swin-t'],
                        default='resnet18')
    parser.add_argument('--img-size', type=int, default=112)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=300,
                        help='timed rounds (each times every cell once)')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--out-json', help='write the results here')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    bench = load_benchmark()
    kent_cfg, base_cfg = bench.CONFIGS[args.model]
    tmp = tempfile.mkdtemp(prefix='kent_tail_')
    models = {
        'kent': bench.build_model(kent_cfg, args.img_size, 'cpu', tmp),
        'kent_unfused': bench.build_model(kent_cfg, args.img_size, 'cpu',
                                          tmp),
        'baseline': bench.build_model(base_cfg, args.img_size, 'cpu', tmp),
    }
    models['kent_unfused'].neck.fuse_eval = False
    data = bench.fake_batch(args.batch_size, args.img_size, 7, 'cpu')
    cells = {}
    with torch.inference_mode():
        for name, model in models.items():
            model.eval()
            x = model.data_preprocessor(data, False)['inputs']
            feats = model.backbone(x)

            def tail(model=model, feats=feats, x=x):
                model.backbone(x)  # what a real call runs just before
                t0 = time.perf_counter()
                model.head(model.neck(feats))
                return time.perf_counter() - t0

            def timed(fn):

                def run():
                    t0 = time.perf_counter()
                    fn()
                    return time.perf_counter() - t0

                return run

            cells[(name, 'full')] = timed(
                lambda model=model, x=x: model(x, mode='tensor'))
            cells[(name, 'backbone')] = timed(
                lambda model=model, x=x: model.backbone(x))
            cells[(name, 'tail')] = tail
        order = list(cells)
        for _ in range(args.warmup):
            for cell in order:
                cells[cell]()
        times = {cell: [] for cell in order}
        for r in range(args.rounds):
            for cell in (order if r % 2 == 0 else order[::-1]):
                times[cell].append(cells[cell]())
    res = dict(settings=vars(args), median_us={}, ratio_to_baseline={})
    for (name, part), ts in times.items():
        res['median_us'].setdefault(name, {})[part] = round(
            statistics.median(ts) * 1e6, 1)
    for name in ('kent', 'kent_unfused'):
        res['ratio_to_baseline'][name] = {
            part: round(statistics.median(
                a / b for a, b in zip(times[(name, part)],
                                      times[('baseline', part)])), 4)
            for part in ('full', 'backbone', 'tail')
        }
    rows = [
        f'| {args.model} b{args.batch_size}, {args.threads} threads '
        '| full (us) | backbone (us) | neck + head, cold (us) '
        '| full / baseline (median of rounds) |',
        '| --- | ---: | ---: | ---: | ---: |'
    ]
    for name in models:
        med = res['median_us'][name]
        ratio = res['ratio_to_baseline'].get(name, {}).get('full', 1.0)
        rows.append(f'| {name} | {med["full"]:.0f} | {med["backbone"]:.0f} '
                    f'| {med["tail"]:.0f} | {ratio:.4f} |')
    print('\n'.join(rows))
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
