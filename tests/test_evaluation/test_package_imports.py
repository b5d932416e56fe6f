"""``kent_mm.evaluation`` holds metrics and scores, not tool code: no
command-line parsing and no plotting library (those helpers live beside the
tools, in ``tools/analysis_tools/utils``)."""
import ast
import glob
import os.path as osp

from kent_testing import REPO

TOOL_ONLY = {'argparse', 'matplotlib'}


def _imported_roots(path: str) -> set:
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split('.')[0])
    return roots


def test_evaluation_package_imports_no_argparse_and_no_plotting():
    files = glob.glob(osp.join(REPO, 'kent_mm', 'evaluation', '**', '*.py'),
                      recursive=True)
    assert len(files) >= 5
    found = {osp.relpath(p, REPO): sorted(_imported_roots(p) & TOOL_ONLY)
             for p in files}
    assert {p: r for p, r in found.items() if r} == {}
