"""Pictures of the analysis tools: sizes, content, t-SNE."""
import numpy as np
from PIL import Image

from kent_mm.evaluation.plotting import (default_cm_figsize,
                                         plot_confusion_matrix,
                                         plot_embedding, tsne_embed)
from kent_mm.evaluation.scores import confusion_matrix

TARGET = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 2, 2, 2, 0, 1]
NAMES = ('a', 'b', 'c')


def _png(path):
    with Image.open(path) as img:
        img.load()
        return img.size, np.asarray(img.convert('RGB'))


def test_confusion_png_decodes_with_the_expected_size(tmp_path):
    cm = confusion_matrix(PRED, TARGET, 3)
    out = plot_confusion_matrix(cm, NAMES, str(tmp_path / 'sub' / 'cm.png'))
    w, h = default_cm_figsize(3)
    size, pixels = _png(out)
    assert size == (round(w * 100), round(h * 100))
    assert pixels.std() > 10  # not a blank picture
    out2 = plot_confusion_matrix(cm, NAMES, str(tmp_path / 'cm2.png'),
                                 normalize=False, figsize=(4, 3), dpi=50)
    assert _png(out2)[0] == (200, 150)


def test_confusion_png_shows_the_matrix(tmp_path):
    # A perfect and a totally wrong classifier must look different.
    right = plot_confusion_matrix(np.eye(3, dtype=int) * 5, NAMES,
                                  str(tmp_path / 'right.png'))
    wrong = plot_confusion_matrix(np.roll(np.eye(3, dtype=int) * 5, 1, 1),
                                  NAMES, str(tmp_path / 'wrong.png'))
    assert np.abs(_png(right)[1].astype(int) -
                  _png(wrong)[1].astype(int)).sum() > 0


def test_tsne_and_embedding_png(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)
    feats = rng.normal(size=(18, 16)) + 10 * np.eye(16)[labels]
    coords = tsne_embed(feats, perplexity=30, seed=0)  # capped to 17/3
    assert coords.shape == (18, 2) and np.isfinite(coords).all()
    kinds = ['v'] * 15 + ['text'] * 3
    out = plot_embedding(coords, np.r_[labels[:15], [0, 1, 2]], NAMES,
                         str(tmp_path / 'tsne.png'), kinds=kinds,
                         figsize=(5, 4), dpi=60)
    size, pixels = _png(out)
    assert size == (300, 240)
    assert pixels.std() > 10

