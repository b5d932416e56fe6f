"""Real faces through a model-zoo name.

Loads ``NAME`` with ``mmpretrain.get_model(NAME, pretrained=FILE)`` and runs
``ImageClassificationInferencer`` on the first face (sorted file name) of
each class folder of a FER2013 split; prints the true class, the predicted
class and its score per face.

Example::

    python tools/benchmarks/zoo_check.py kent_resnet18_fer2013-112px-minilm \\
        weights/kent_resnet18_fer2013-112px-minilm_20261206-31e8c3bd.pth \\
        --data-root data/fer2013
"""
import argparse
import json
import os
import os.path as osp

from mmpretrain import ImageClassificationInferencer, get_model

import kent_mm  # noqa: F401  (registers the model-zoo index)
from kent_mm.datasets.emotions import to_canonical


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', help='model-zoo name (list_models)')
    parser.add_argument('checkpoint', help='its checkpoint file')
    parser.add_argument('--data-root', default='data/fer2013',
                        help='FER2013 in folders (train/validation/test)')
    parser.add_argument('--split', default='test',
                        help='folder of the split (test: PrivateTest)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out-json', help='also write the rows here')
    return parser.parse_args()


def main():
    args = parse_args()
    folder = osp.join(args.data_root, args.split)
    classes = sorted(d for d in os.listdir(folder)
                     if osp.isdir(osp.join(folder, d)))
    images = []
    for name in classes:
        files = sorted(os.listdir(osp.join(folder, name)))
        if not files:
            raise FileNotFoundError(f'{osp.join(folder, name)}: no image')
        images.append(osp.join(folder, name, files[0]))
    model = get_model(args.name, pretrained=args.checkpoint,
                      device=args.device)
    results = ImageClassificationInferencer(model)(images)
    rows = [
        dict(image=osp.relpath(path, args.data_root), true=to_canonical(name),
             pred=res['pred_class'], score=round(float(res['pred_score']), 3),
             correct=to_canonical(res['pred_class']) == to_canonical(name))
        for name, path, res in zip(classes, images, results)
    ]
    print('| face | true class | predicted | score |')
    print('| --- | --- | --- | ---: |')
    for r in rows:
        print(f'| {r["image"]} | {r["true"]} | {r["pred"]} | '
              f'{r["score"]:.3f} |')
    print(f'{sum(r["correct"] for r in rows)}/{len(rows)} faces read '
          f'correctly by {args.name}')
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(dict(name=args.name, rows=rows), f, indent=2)


if __name__ == '__main__':
    main()
