"""Compute a KENT config's class text features once and save them.

The file (raw features + model name, pretrained tag, class names, prompts)
lets training run offline: the config's ``OpenCLIPTextEmbeddings`` reads it
as its ``cache_file``, or a ``PrecomputedTextEmbeddings`` source points at it.
A local weights file (``--pretrained FILE``) is taken as a copy of the
config's tag (``openai``): the file records the tag and the file's sha256,
never its path, so the unchanged config accepts it.

Examples:
    # On a machine with the CLIP weights (downloaded or a local file):
    python tools/build_text_embeddings.py configs/kent_resnet18_rafdb.py
    python tools/build_text_embeddings.py configs/kent_resnet18_rafdb.py \\
        --pretrained /path/to/open_clip_vit_b16.bin
    # Offline smoke runs only (no language knowledge, loud warning):
    python tools/build_text_embeddings.py CONFIG --random-init --out t.pth
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead


def parse_args():
    parser = argparse.ArgumentParser(
        description='Build the text-embedding file of a KENT config')
    parser.add_argument('config', help='KENT config file')
    parser.add_argument(
        '--out',
        help='output file (default: the config\'s '
        'model.head.text_embeddings.cache_file)')
    parser.add_argument('--model-name', help='open_clip model name override')
    parser.add_argument(
        '--pretrained',
        help='open_clip pretrained tag, or a local copy of the config\'s '
        'tag\'s weights')
    parser.add_argument(
        '--random-init',
        action='store_true',
        help='random text tower (tests/offline smoke runs only)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings (key=value)')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    head = cfg.model.head
    if head.get('type') != 'KENTHead':
        raise SystemExit(f'{args.config}: model.head.type is '
                         f'{head.get("type")!r}, not KENTHead.')
    text_cfg = dict(head.text_embeddings)
    if text_cfg.get('type') != 'OpenCLIPTextEmbeddings':
        raise SystemExit('This tool builds open_clip embeddings; the config '
                         f'uses {text_cfg.get("type")!r}.')
    out = args.out or text_cfg.get('cache_file')
    if not out:
        raise SystemExit('No output: pass --out or set '
                         'model.head.text_embeddings.cache_file.')
    if osp.exists(out):
        raise SystemExit(f'{out} exists; remove it to rebuild.')
    if args.model_name:
        text_cfg['model_name'] = args.model_name
    if args.pretrained and osp.isfile(args.pretrained):
        text_cfg['weights_file'] = args.pretrained
    elif args.pretrained:
        text_cfg['pretrained'] = args.pretrained
    if args.random_init:
        text_cfg.update(pretrained=None, allow_random_init=True)
    text_cfg.update(cache_file=out, device=args.device)
    names = KENTHead.text_names(head.class_names,
                                head.get('neutral_class', 'neutral'))
    # MMPretrain's scope, whatever scope the process set before.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        feats = MODELS.build(text_cfg)(names)
    print(f'Saved {tuple(feats.shape)} text features for {names} to {out}')


if __name__ == '__main__':
    main()
