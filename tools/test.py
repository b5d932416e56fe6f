"""Test with MMPretrain's own ``tools/test.py``, kent_mm imported.

Same arguments as MMPretrain's script (``python tools/test.py -h``).
``kent_mm.apis.run_mmpretrain_tool`` runs it with what this machine needs
(without CUDA: ``gloo`` for ``--launcher pytorch``, no pinned memory) and
loads the checkpoint with kent_mm's ``weights_only`` allow-list.
"""
import sys

import kent_mm  # noqa: F401  registers kent_mm's components
from kent_mm.apis import run_mmpretrain_tool

if __name__ == '__main__':
    run_mmpretrain_tool('test', sys.argv[1:])
