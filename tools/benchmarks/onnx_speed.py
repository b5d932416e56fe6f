"""CPU throughput: onnxruntime vs PyTorch eager, images/s.

For each config and batch size the model is exported (fixed batch, as
``tools/deployment/export_onnx.py`` does: ``switch_to_deploy()`` applied)
and both engines run the same graph input -- PyTorch the same deployed
model with the same input wrapper -- timed side by side in pairs
(``timing.paired``: PyTorch, ONNX, then ONNX, PyTorch, ...). Reported: the
median images/s of each engine and the median over pairs of the speed-up
``time(PyTorch) / time(ONNX)`` with a 95% CI. Without ``--checkpoint``
models are randomly initialised (speed does not depend on the weights).

Example::

    OMP_NUM_THREADS=2 python tools/benchmarks/onnx_speed.py \\
        configs/kent_resnet18_rafdb.py configs/kent_swin-t_rafdb.py \\
        --batch-sizes 1 32 --img-size 112 --threads 2 --out bench.md
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import torch

import kent_mm  # noqa: F401
from kent_mm.apis.deploy import (ONNXClassifier, deploy_copy, export_onnx,
                                 onnx_session)
from timing import (build_model, compare, new_report, paired,
                    random_text_file, write_report)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('configs', nargs='+', help='config files')
    add('--checkpoint', nargs='+', help='checkpoints (one per config)')
    add('--batch-sizes', type=int, nargs='+', default=[1, 32])
    add('--img-size', type=int, default=112)
    add('--threads', type=int, default=2, help='threads of both engines')
    add('--rounds', type=int, default=3, help='timed pairs')
    add('--warmup', type=int, default=1, help='untimed calls of each')
    add('--window', type=float, default=2.0, help='seconds per window')
    add('--interleave', action='store_true', help='alternate the engines '
        'call by call inside each window (one window = one pair)')
    add('--out', help='also write the markdown table here')
    add('--out-json', help='write the results here')
    return p.parse_args(argv)


def build(config: str, checkpoint: str, img_size: int, tmp: str):
    from mmengine.config import Config
    from mmpretrain import get_model
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    if 'img_size' in cfg.model.backbone:
        cfg.model.backbone.img_size = img_size
    if checkpoint:
        from kent_mm.utils import checkpoint_safe_globals
        with checkpoint_safe_globals():
            return get_model(cfg, pretrained=checkpoint, device='cpu').eval()
    head = cfg.model.head
    if head.type == 'KENTHead':
        # Random unit text embeddings instead of CLIP (speed only).
        file = random_text_file(osp.join(tmp, 'text.pth'), head.class_names,
                                head.in_channels)
        head.text_embeddings = dict(type='PrecomputedTextEmbeddings',
                                    file=file)
    return build_model(cfg.model).eval()


def bench_one(model, batch: int, args, tmp: str) -> dict:
    onnx_file = osp.join(tmp, f'b{batch}.onnx')
    export_onnx(model, onnx_file, img_size=(args.img_size, args.img_size),
                batch_size=batch)
    session = onnx_session(onnx_file, args.threads)
    wrapper = ONNXClassifier(deploy_copy(model)).eval()
    x = torch.rand(batch, 3, args.img_size, args.img_size) * 255
    x_np = x.numpy()

    def run_torch():
        with torch.inference_mode():
            wrapper(x)

    def run_onnx():
        session.run(None, {'input': x_np})

    rates = paired(dict(torch=run_torch, onnx=run_onnx), args.rounds,
                   args.warmup, args.window, interleave=args.interleave)
    os.remove(onnx_file)
    r = compare(rates, 'torch', 'onnx')  # time(torch) / time(onnx)
    return dict(torch_img_s=statistics.median(rates['torch']) * batch,
                onnx_img_s=statistics.median(rates['onnx']) * batch,
                speedup=r['time_ratio'], speedup_ci95=r['time_ratio_ci95'],
                pair_ratios=r['pair_ratios'])


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    import onnxruntime
    checkpoints = args.checkpoint or [None] * len(args.configs)
    res = new_report(args, argv, results={})
    res['machine']['onnxruntime'] = onnxruntime.__version__
    t0 = time.perf_counter()
    rows = [
        f'CPU: {res["machine"]["cpu"]}, {os.cpu_count()} logical cores '
        f'visible, {args.threads} threads per engine; torch '
        f'{torch.__version__}, onnxruntime {onnxruntime.__version__}; input '
        f'{args.img_size}x{args.img_size}; medians of {args.rounds} pairs '
        f'of {args.window:g} s windows.', '',
        '| config | batch | PyTorch eager (img/s) | onnxruntime (img/s) '
        '| speed-up (median) | pairs |',
        '| --- | ---: | ---: | ---: | ---: | ---: |'
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for config, ckpt in zip(args.configs, checkpoints):
            model = build(config, ckpt, args.img_size, tmp)
            for batch in args.batch_sizes:
                r = bench_one(model, batch, args, tmp)
                res['results'].setdefault(osp.basename(config), {})[batch] = r
                rows.append(f'| {osp.basename(config)} | {batch} | '
                            f'{r["torch_img_s"]:.1f} | {r["onnx_img_s"]:.1f} '
                            f'| {r["speedup"]:.2f}x | {len(r["pair_ratios"])} '
                            '|')
                print(rows[-1], flush=True)
    write_report(res, '\n'.join(rows) + '\n', t0, args.out_json, args.out)
    return res


if __name__ == '__main__':
    main()
