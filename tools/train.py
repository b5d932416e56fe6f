"""Train with MMPretrain's own ``tools/train.py``, kent_mm imported.

Same arguments as MMPretrain's script (``python tools/train.py -h``).
``kent_mm.apis.run_mmpretrain_tool`` runs it with what this machine needs
(without CUDA: ``gloo`` for ``--launcher pytorch``, no pinned memory,
bfloat16 autocast (``BF16OptimWrapper``) for ``--amp``) and loads
checkpoints (``--resume``, ``load_from``) with kent_mm's ``weights_only``
allow-list.
"""
import sys

import kent_mm  # noqa: F401  registers kent_mm's components
from kent_mm.apis import run_mmpretrain_tool

if __name__ == '__main__':
    run_mmpretrain_tool('train', sys.argv[1:])
