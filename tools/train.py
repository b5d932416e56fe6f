"""Train with MMPretrain's own ``tools/train.py``, kent_mm imported.

Same arguments as MMPretrain's script (``python tools/train.py -h``). On a
machine without CUDA, ``kent_mm.apis.prepare_mmpretrain_tool`` adds what
the script needs there: ``gloo`` for ``--launcher pytorch``, no pinned
memory, and bfloat16 autocast (``BF16OptimWrapper``) for ``--amp``.
"""
import runpy
import sys

import kent_mm  # noqa: F401  registers kent_mm's components
from kent_mm.apis import prepare_mmpretrain_tool

if __name__ == '__main__':
    sys.argv = prepare_mmpretrain_tool('train', sys.argv[1:])
    runpy.run_path(sys.argv[0], run_name='__main__')
