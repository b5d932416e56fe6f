"""Test with MMPretrain's own ``tools/test.py``, kent_mm imported.

Same arguments as MMPretrain's script (``python tools/test.py -h``). On a
machine without CUDA, ``kent_mm.apis.prepare_mmpretrain_tool`` adds what
the script needs there: ``gloo`` for ``--launcher pytorch`` and no pinned
memory.
"""
import runpy
import sys

import kent_mm  # noqa: F401  registers kent_mm's components
from kent_mm.apis import prepare_mmpretrain_tool

if __name__ == '__main__':
    sys.argv = prepare_mmpretrain_tool('test', sys.argv[1:])
    runpy.run_path(sys.argv[0], run_name='__main__')
