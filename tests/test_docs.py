"""Every Python snippet of README.md and docs/*.md works as written.

Code snippets run in a scratch folder (``configs/`` linked in): each
checkpoint a snippet loads (``pretrained='*.pth'`` of ``get_model`` or
``ImageClassificationInferencer``) is made there as a tiny published model of
the named config or model-zoo name, and each image it reads is a generated
face, so a wrong model name, config path, keyword or API fails here. Config
fragments (``_delete_``, ``custom_imports``, ``*_dataloader = ``) are
checked for syntax and for every ``type=`` naming a registered component.
"""
import ast
import glob
import os
import os.path as osp
import re
import shutil

import pytest

from kent_testing import REPO, run_script, write_text_file

DOCS = [osp.join(REPO, 'README.md')] + sorted(
    glob.glob(osp.join(REPO, 'docs', '*.md')))
LOADERS = {'get_model', 'ImageClassificationInferencer'}


def _snippets():
    for path in DOCS:
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r'^```python\n(.*?)^```', text, re.M | re.S):
            line = text.count('\n', 0, m.start()) + 1
            yield pytest.param(m.group(1),
                               id=f'{osp.relpath(path, REPO)}:{line}')


SNIPPETS = list(_snippets())


def _is_config(code: str) -> bool:
    return bool(re.search(r'_delete_|custom_imports|^\w+_dataloader = ',
                          code, re.M))


def test_docs_have_snippets():
    assert len(SNIPPETS) >= 4, [p.id for p in SNIPPETS]


def _loads(tree):
    """(model, checkpoint) of each literal ``get_model(model,
    pretrained='x.pth')`` / ``ImageClassificationInferencer(...)`` call."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(
                node.func, ast.Name) and node.func.id in LOADERS):
            continue
        model = node.args[0] if node.args else None
        ckpt = {k.arg: k.value for k in node.keywords}.get('pretrained')
        if (isinstance(model, ast.Constant) and isinstance(ckpt, ast.Constant)
                and str(ckpt.value).endswith('.pth')):
            yield model.value, ckpt.value


def _publish_tiny(model: str, out: str, tmp_path) -> None:
    """A randomly initialised model of ``model`` (config path or zoo name),
    published by publish_model.py as ``out``."""
    import torch
    from mmengine.config import Config
    from mmpretrain.apis import ModelHub
    from mmpretrain.registry import MODELS

    import kent_mm  # noqa: F401  registers the zoo
    # A wrong zoo name or config path raises here.
    cfg = (Config.fromfile(osp.join(REPO, model)) if model.endswith('.py')
           else ModelHub.get(model).config)
    cfg.model.backbone.init_cfg = None
    head = cfg.model.head
    classes = tuple(cfg.get('classes') or head.get('class_names'))
    if head.type == 'KENTHead':
        text = write_text_file(tmp_path / f'{len(os.listdir(tmp_path))}.pth',
                               class_names=head.class_names,
                               dim=head.in_channels)
        head.text_embeddings = dict(type='PrecomputedTextEmbeddings',
                                    file=text)
    net = MODELS.build(cfg.model)
    net.init_weights()
    raw = tmp_path / 'raw.pth'
    torch.save(dict(meta=dict(dataset_meta=dict(classes=classes)),
                    state_dict=net.state_dict()), raw)
    run_script('model_converters/publish_model.py',
               [raw, tmp_path / 'tiny.pth'])
    released, = glob.glob(str(tmp_path / 'tiny_*.pth'))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    shutil.move(released, out)


@pytest.mark.parametrize('code', SNIPPETS)
def test_snippet(code, tmp_path, monkeypatch):
    tree = ast.parse(code)
    if _is_config(code):
        from mmengine.registry import DefaultScope
        from mmpretrain import registry

        import kent_mm  # noqa: F401
        names = [k.value.value for n in ast.walk(tree)
                 if isinstance(n, ast.Call) for k in n.keywords
                 if k.arg == 'type' and isinstance(k.value, ast.Constant)]
        assert names
        regs = [getattr(registry, r) for r in dir(registry)
                if isinstance(getattr(registry, r), type(registry.MODELS))]
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            for name in names:
                assert any(r.get(name) for r in regs), name
        return
    work = tmp_path / 'work'
    work.mkdir()
    os.symlink(osp.join(REPO, 'configs'), work / 'configs')
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    for model, ckpt in _loads(tree):
        _publish_tiny(model, str(work / ckpt), scratch)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and node.value.endswith('.yml')):
            # The reader's own model index: one model of a repository config.
            index = work / node.value
            index.parent.mkdir(parents=True, exist_ok=True)
            config = osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py')
            index.write_text(f'Models:\n  - Name: my_kent_{tmp_path.name}\n'
                             f'    Config: {config}\n')
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and node.value.endswith(('.jpg', '.png'))):
            import mmcv
            import numpy as np
            face = np.random.RandomState(0).randint(0, 255, (96, 96, 3))
            mmcv.imwrite(face.astype(np.uint8), str(work / node.value))
    monkeypatch.chdir(work)
    exec(compile(tree, 'snippet', 'exec'), {'__name__': '__snippet__'})
