"""Export a kent_mm checkpoint to ONNX (softmax output, class names inside).

The graph takes RGB float32 ``(N, 3, H, W)`` images with values 0..255,
already resized to the config's test size (normalisation is inside), and
returns softmax probabilities. The ONNX metadata holds ``class_names``
(JSON), ``input_size``, ``grayscale`` (feed grey faces, repeated to 3
channels, when true) and the source checkpoint.

Examples::

    python tools/deployment/export_onnx.py configs/kent_resnet18_rafdb.py \\
        epoch_50.pth --out kent_r18_rafdb.onnx --dynamic-batch --verify
    python tools/deployment/export_onnx.py configs/kent_swin-t_rafdb.py \\
        epoch_50.pth --out kent_swin-t_rafdb.onnx --batch-size 1 --verify
    python tools/deployment/export_onnx.py kent_resnet18_fer2013 \\
        kent_resnet18_fer2013_20250101-0123abcd.pth --verify   # zoo name

Needs ``pip install "kent_mm[deploy]"`` (onnx, onnxruntime).
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmpretrain import get_model

import kent_mm  # noqa: F401  registers kent_mm components and model zoo
from kent_mm.apis.deploy import (class_names_of, config_image_size,
                                 export_onnx, is_grayscale_model, verify_onnx)
from kent_mm.utils import checkpoint_safe_globals


def parse_args():
    parser = argparse.ArgumentParser(
        description='Export a kent_mm / MMPretrain classifier to ONNX')
    parser.add_argument('config', help='config file or model-zoo name')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--out', help='output .onnx (default: checkpoint name + .onnx)')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs='+',
        help='input H [W] (default: the test pipeline size)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='traced batch size')
    parser.add_argument(
        '--dynamic-batch',
        action='store_true',
        help='dynamic batch axis (checked at another batch size; Swin '
        'models need a fixed batch size)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset')
    parser.add_argument(
        '--dynamo',
        action='store_true',
        help='use the torch.export-based exporter (needs onnxscript) instead '
        'of the TorchScript one')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime with PyTorch on random inputs')
    parser.add_argument(
        '--num-verify', type=int, default=16, help='inputs for --verify')
    parser.add_argument(
        '--tolerance',
        type=float,
        default=1e-4,
        help='max abs probability difference accepted by --verify')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the model config (model.* keys)')
    return parser.parse_args()


def main():
    args = parse_args()
    config = args.config
    if config.endswith('.py'):
        config = Config.fromfile(config)
        config.merge_from_dict(args.cfg_options or {})
    elif args.cfg_options:
        raise ValueError('--cfg-options needs a config file, not a name')
    with checkpoint_safe_globals():
        model = get_model(config, pretrained=args.checkpoint, device='cpu')
    # MMPretrain's get_model keeps the config as `model._config` (its own
    # inferencers read it there; no public accessor).
    cfg = model._config
    if args.img_size:
        h = args.img_size[0]
        w = args.img_size[-1]
        img_size = (h, w)
    else:
        img_size = config_image_size(cfg)
    out = args.out or osp.splitext(args.checkpoint.split('/')[-1])[0] + \
        '.onnx'
    names = class_names_of(model)
    metadata = dict(
        class_names=json.dumps(names),
        grayscale=json.dumps(is_grayscale_model(cfg)),
        source_checkpoint=osp.basename(args.checkpoint),
        model=args.config if not args.config.endswith('.py') else
        osp.basename(args.config),
        kent_mm_version=kent_mm.__version__)
    export_onnx(model, out, img_size=img_size, batch_size=args.batch_size,
                dynamic_batch=args.dynamic_batch, opset=args.opset,
                dynamo=args.dynamo, metadata=metadata,
                check_tolerance=args.tolerance)
    print(f'Exported {out} (input Nx3x{img_size[0]}x{img_size[1]} RGB 0..255'
          f', batch {"dynamic" if args.dynamic_batch else args.batch_size}, '
          f'classes {names})')
    if args.verify:
        diff = verify_onnx(model, out, num_inputs=args.num_verify,
                           img_size=img_size)
        ok = diff <= args.tolerance
        print(f'Verify: max abs probability difference onnxruntime vs '
              f'PyTorch on {args.num_verify} random inputs = {diff:.3g} '
              f'({"OK" if ok else "FAILED"}, tolerance {args.tolerance:g})')
        if not ok:
            sys.exit(1)


if __name__ == '__main__':
    main()
