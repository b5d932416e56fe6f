"""One rank of the 2-process text-feature test (``torch.distributed.run``).

Every rank initialises a KENTHead whose ``OpenCLIPTextEmbeddings`` has a
cache file that does not exist yet, as every rank of a distributed training
does. ``open_clip.create_model`` is replaced by a tiny CLIP seeded by the
rank, and each call appends the rank to ``<out>/builds.txt``: so the test
sees who built a text encoder, and ranks that encoded their own prompts
would end with different features. Then rank 0 meets a cache that does not
match the config; every rank writes the error it got to
``<out>/error<rank>.txt``.

Usage: ``python -m torch.distributed.run --nproc_per_node 2 THIS OUT``.
"""
import os.path as osp
import sys

import open_clip
import torch
import torch.distributed as dist
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401

CLASSES = ('anger', 'happiness', 'neutral')


def main(out: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()

    def create_model(name, pretrained=None, device='cpu'):
        with open(osp.join(out, 'builds.txt'), 'a') as f:
            f.write(f'{rank}\n')
        torch.manual_seed(rank)
        return open_clip.CLIP(
            embed_dim=8,
            vision_cfg=dict(layers=1, width=16, head_width=8, patch_size=8,
                            image_size=16),
            text_cfg=dict(layers=1, width=16, heads=2, context_length=77,
                          vocab_size=49408),
            quick_gelu=True)

    open_clip.create_model = create_model
    text = dict(type='OpenCLIPTextEmbeddings', pretrained=None,
                allow_random_init=True,
                cache_file=osp.join(out, 'text_cache.pth'))
    head = MODELS.build(dict(type='KENTHead', num_classes=None,
                             class_names=CLASSES, in_channels=8,
                             text_embeddings=text))
    head.init_weights()
    torch.save(dict(text_feats=head.text_feats, text_embeds=head.text_embeds),
               osp.join(out, f'rank{rank}.pth'))

    # A cache made with other prompts: rank 0 refuses it.
    other = MODELS.build(dict(text, templates=['a {} face.']))
    try:
        other(list(CLASSES))
        error = 'none'
    except Exception as e:  # noqa: BLE001  (written for the test to read)
        error = f'{type(e).__name__}: {e}'
    with open(osp.join(out, f'error{rank}.txt'), 'w') as f:
        f.write(error)
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
