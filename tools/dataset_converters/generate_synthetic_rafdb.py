"""Generate a synthetic dataset in the official RAF-DB "basic" layout.

Example::

    python tools/dataset_converters/generate_synthetic_rafdb.py \\
        data/rafdb_synthetic --num-train 3000 --num-test 700

The output can be used anywhere the real RAF-DB basic release is expected
(``EmoLabel/list_patition_label.txt`` + ``Image/aligned/*_aligned.jpg``).
"""

import argparse
import json
import sys
import time

from kent_mm.datasets.emotions import RAFDB_CODES
from kent_mm.testing import generate_synthetic_rafdb


def parse_args(argv=None) -> argparse.Namespace:
    """Parse command line arguments.

    Args:
        argv: Argument list; ``None`` reads ``sys.argv``.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Generate a synthetic RAF-DB (basic) dataset of cartoon '
        'faces whose expression is carried only by brow/eye/mouth shape.')
    parser.add_argument('out_dir', help='dataset root to create')
    parser.add_argument('--num-train', type=int, default=3000,
                        help='number of training images (default: 3000)')
    parser.add_argument('--num-test', type=int, default=700,
                        help='number of test images (default: 700)')
    parser.add_argument('--image-size', type=int, default=100,
                        help='side of the square images in px (default: 100,'
                        ' like the official aligned images)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (default: 0)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing dataset in OUT_DIR')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the generator and print the per-split, per-label counts."""
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = generate_synthetic_rafdb(
            args.out_dir,
            num_train=args.num_train,
            num_test=args.num_test,
            image_size=args.image_size,
            seed=args.seed,
            overwrite=args.overwrite)
    except FileExistsError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    for split in ('train', 'test'):
        counts = summary[split]['per_label']
        per = ', '.join(f'{RAFDB_CODES[k]}={v}' for k, v in counts.items())
        print(f'{split}: {summary[split]["total"]} images ({per})')
    print(f'label file: {summary["label_file"]}')
    print(f'done in {elapsed:.1f}s')
    print(json.dumps({s: summary[s] for s in ('train', 'test')}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
