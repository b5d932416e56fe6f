"""Packaging of the text tower: the open_clip pin and offline caches."""
import hashlib
import os.path as osp
import re
import runpy
import sys

import open_clip
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from packaging.requirements import Requirement

import kent_mm  # noqa: F401
from kent_mm.models.heads import KENTHead
from kent_mm.models.text import load_text_cache
from kent_testing import REPO, cached_config

CONFIG = osp.join(REPO, 'configs', 'kent_resnet18_rafdb.py')


def test_open_clip_pin_admits_only_releases_with_kent_text_tower():
    # 'ViT-B-16-quickgelu' + 'openai' resolves from open_clip 2.29 on.
    with open(osp.join(REPO, 'setup.py')) as f:
        pins = re.findall(r"'(open_clip_torch[^']*)'", f.read())
    assert len(pins) == 1
    spec = Requirement(pins[0]).specifier
    assert '2.28.0' not in spec and '2.24.0' not in spec
    assert '2.29.0' in spec
    assert open_clip.__version__ in spec
    cfg = open_clip.pretrained.get_pretrained_cfg('ViT-B-16-quickgelu',
                                                  'openai')
    assert cfg and cfg.get('quick_gelu')


def _tiny_clip():
    torch.manual_seed(0)
    return open_clip.CLIP(
        embed_dim=8,
        vision_cfg=dict(layers=1, width=16, head_width=8, patch_size=8,
                        image_size=16),
        text_cfg=dict(layers=1, width=16, heads=2, context_length=77,
                      vocab_size=49408),
        quick_gelu=True)


def test_local_weights_file_makes_a_cache_the_unchanged_config_accepts(
        tmp_path, monkeypatch):
    weights = tmp_path / 'open_clip_vit_b16.bin'
    weights.write_bytes(b'local copy of the openai weights')
    out = str(tmp_path / 'rafdb_text.pth')
    loaded = []

    def create_model(name, pretrained=None, device='cpu'):
        loaded.append((name, pretrained))
        return _tiny_clip()

    monkeypatch.setattr(open_clip, 'create_model', create_model)
    monkeypatch.setattr(sys, 'argv', [
        'build_text_embeddings.py', CONFIG, '--pretrained', str(weights),
        '--out', out
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'build_text_embeddings.py'),
                   run_name='__main__')
    assert loaded == [('ViT-B-16-quickgelu', str(weights))]
    meta = load_text_cache(out)['meta']
    # The tag, not the path; the file's hash for provenance.
    assert meta['pretrained'] == 'openai'
    assert str(tmp_path) not in str(meta)
    assert meta['weights_sha256'] == hashlib.sha256(
        weights.read_bytes()).hexdigest()

    # The config as shipped (pretrained='openai') reads it and builds no
    # text tower.
    monkeypatch.setattr(open_clip, 'create_model',
                        lambda *a, **k: pytest.fail('CLIP was rebuilt'))
    head_cfg = cached_config(CONFIG).model.head
    assert head_cfg.text_embeddings.pretrained == 'openai'
    head_cfg.text_embeddings.cache_file = out
    head_cfg.in_channels = 8  # the tiny tower's width
    # MMPretrain's scope, as the runner sets it (an earlier test in this
    # process may have left another default scope).
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        head = MODELS.build(head_cfg)
        head.init_weights()
    feats = load_text_cache(out)['features']
    assert len(feats) == len(KENTHead.text_names(head_cfg.class_names))
    torch.testing.assert_close(head.text_feats, feats)


def test_old_cache_without_raw_features_is_refused_with_the_fix(tmp_path):
    old = str(tmp_path / 'old.pth')
    torch.save(dict(version=1, embeddings=torch.eye(3),
                    meta=dict(class_names=['a', 'b', 'c'])), old)
    with pytest.raises(ValueError, match='raw text features.*'
                       'build_text_embeddings'):
        load_text_cache(old)
