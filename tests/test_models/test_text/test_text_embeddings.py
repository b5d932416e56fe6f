import os

import pytest
import torch
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401
from kent_mm.models.text import (KENT_TEMPLATES, build_prompts,
                                 load_text_cache, save_text_cache)

CLASSES = ['anger', 'happiness', 'neutral']


def test_kent_prompt_uses_article():
    prompts = build_prompts(CLASSES, KENT_TEMPLATES)
    assert prompts[0] == [
        'a photo of a person making an anger facial expression.'
    ]
    assert prompts[1][0].startswith('a photo of a person making a happiness')


def test_template_without_placeholder_is_rejected():
    with pytest.raises(ValueError, match='no "{}"'):
        build_prompts(CLASSES, ['a photo of a face'])


def test_random_init_needs_explicit_option():
    with pytest.raises(ValueError, match='allow_random_init'):
        MODELS.build(dict(type='OpenCLIPTextEmbeddings', pretrained=None))


@pytest.fixture(scope='module')
def random_clip_cache(tmp_path_factory):
    """One random-init CLIP run, cached: (path, embeddings)."""
    path = str(tmp_path_factory.mktemp('text') / 'clip.pth')
    source = MODELS.build(
        dict(type='OpenCLIPTextEmbeddings', pretrained=None,
             allow_random_init=True, cache_file=path,
             templates=['a photo of {article} {} face.', 'a {} face.']))
    with pytest.warns(UserWarning, match='RANDOMLY INITIALISED'):
        embeds = source(CLASSES)
    return path, embeds


def test_open_clip_features_are_raw_and_cached(random_clip_cache):
    # Raw encoder outputs (L_t subtracts them before normalising), the
    # mean over the templates.
    path, feats = random_clip_cache
    assert feats.shape == (3, 512)
    assert not torch.allclose(feats.norm(dim=1), torch.ones(3), atol=1e-2)
    data = load_text_cache(path)
    assert torch.equal(data['features'], feats)
    meta = data['meta']
    assert meta['class_names'] == CLASSES
    assert meta['model_name'] == 'ViT-B-16-quickgelu'
    assert meta['pretrained'] is None
    assert meta['prompts'][0] == ['a photo of an anger face.',
                                  'a anger face.']
    # No temporary file is left beside the cache.
    assert os.listdir(os.path.dirname(path)) == ['clip.pth']


def test_cache_is_reused_without_building_clip(random_clip_cache,
                                               monkeypatch):
    path, embeds = random_clip_cache
    source = MODELS.build(
        dict(type='OpenCLIPTextEmbeddings', pretrained=None,
             allow_random_init=True, cache_file=path,
             templates=['a photo of {article} {} face.', 'a {} face.']))
    monkeypatch.setattr(type(source), 'encode',
                        lambda *a: pytest.fail('CLIP was rebuilt'))
    assert torch.equal(source(CLASSES), embeds)


def test_cache_mismatch_names_the_field(random_clip_cache):
    path, _ = random_clip_cache
    other_prompts = MODELS.build(
        dict(type='OpenCLIPTextEmbeddings', pretrained=None,
             allow_random_init=True, cache_file=path))
    with pytest.raises(ValueError, match='field "prompts"'):
        other_prompts(CLASSES)
    other_classes = MODELS.build(
        dict(type='PrecomputedTextEmbeddings', file=path))
    with pytest.raises(ValueError, match='field "class_names"'):
        other_classes(['happiness', 'anger', 'neutral'])
    other_weights = MODELS.build(
        dict(type='PrecomputedTextEmbeddings', file=path,
             pretrained='openai'))
    with pytest.raises(ValueError, match='field "pretrained"'):
        other_weights(CLASSES)


def test_precomputed_file_checks(tmp_path):
    missing = MODELS.build(
        dict(type='PrecomputedTextEmbeddings', file=str(tmp_path / 'x.pth')))
    with pytest.raises(FileNotFoundError, match='build_text_embeddings'):
        missing(CLASSES)
    bad = str(tmp_path / 'bad.pth')
    torch.save({'weights': torch.zeros(3)}, bad)
    with pytest.raises(ValueError, match='not a kent_mm text-feature file'):
        load_text_cache(bad)
    wrong_rows = str(tmp_path / 'rows.pth')
    save_text_cache(wrong_rows, torch.zeros(2, 4),
                    dict(class_names=CLASSES))
    with pytest.raises(ValueError, match='one row per entry'):
        load_text_cache(wrong_rows)
