"""Pictures of the analysis tools: confusion matrix, t-SNE scatter.

Only the tools that draw import this module. PNGs are drawn with
matplotlib's object-oriented API on an Agg canvas (no display, no global
pyplot state) and saved without tight bounding boxes, so a figure of ``W x
H`` inches at ``dpi`` is exactly ``round(W * dpi) x round(H * dpi)`` pixels.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from kent_mm.evaluation.scores import normalize_confusion


def _figure(figsize: Tuple[float, float], dpi: int) -> Figure:
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_file: str, dpi: int) -> str:
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out_file, dpi=dpi)
    return out_file


def default_cm_figsize(num_classes: int) -> Tuple[float, float]:
    """Figure size (inches) of a confusion matrix: 0.75 in per class."""
    side = 3.0 + 0.75 * num_classes
    return side, side


def plot_confusion_matrix(cm: np.ndarray,
                          class_names: Sequence[str],
                          out_file: str,
                          normalize: bool = True,
                          title: Optional[str] = None,
                          figsize: Optional[Tuple[float, float]] = None,
                          dpi: int = 100,
                          cmap: str = 'Blues') -> str:
    """Draw a confusion matrix with class names and a number in each cell.

    Args:
        cm (np.ndarray): Counts ``(C, C)``, rows = ground truth.
        class_names (Sequence[str]): C names.
        out_file (str): PNG path (folders are created).
        normalize (bool): Show row-normalised percentages (each true class
            sums to 100) instead of counts. Rows without samples show
            ``-``.
        title (str, optional): Figure title.
        figsize (tuple[float], optional): Inches; defaults to
            :func:`default_cm_figsize`.
        dpi (int): Dots per inch.
        cmap (str): Matplotlib colour map.

    Returns:
        str: ``out_file``.
    """
    cm = np.asarray(cm)
    n = cm.shape[0]
    figsize = tuple(figsize) if figsize else default_cm_figsize(n)
    support = cm.sum(axis=1)
    values = normalize_confusion(cm) * 100 if normalize else cm
    fig = _figure(figsize, dpi)
    ax = fig.add_axes((0.22, 0.2, 0.6, 0.65))
    cax = fig.add_axes((0.85, 0.2, 0.03, 0.65))
    vmax = 100 if normalize else max(1, int(cm.max()))
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax)
    fig.colorbar(im, cax=cax)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(class_names, rotation=45, ha='right')
    ax.set_yticklabels(
        [f'{c} ({s})' for c, s in zip(class_names, support)]
        if normalize else class_names)
    ax.set_xlabel('predicted')
    ax.set_ylabel('ground truth (samples)' if normalize else 'ground truth')
    fontsize = max(6, min(11, int(60 / max(n, 1))))
    for t in range(n):
        for p in range(n):
            if normalize:
                text = f'{values[t, p]:.1f}' if support[t] else '-'
            else:
                text = str(int(values[t, p]))
            dark = values[t, p] > 0.5 * vmax
            ax.text(p, t, text, ha='center', va='center',
                    fontsize=fontsize, color='white' if dark else 'black')
    if title:
        fig.suptitle(title)
    return _save(fig, out_file, dpi)


def tsne_embed(features: np.ndarray,
               perplexity: float = 30.,
               seed: int = 0,
               pca_dims: int = 50) -> np.ndarray:
    """2-D t-SNE of features (scikit-learn), after PCA to ``pca_dims``.

    The perplexity is capped at ``(N - 1) / 3`` so that small sets work.

    Args:
        features (np.ndarray): ``(N, D)``.
        perplexity (float): t-SNE perplexity.
        seed (int): Random state of PCA-initialised t-SNE.
        pca_dims (int): Reduce to this many dimensions first (0: never).

    Returns:
        np.ndarray: ``(N, 2)`` coordinates.
    """
    try:
        from sklearn.manifold import TSNE
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            't-SNE needs scikit-learn: pip install "kent_mm[analysis]" '
            '(or pip install scikit-learn)') from e
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise ValueError(f't-SNE needs (N >= 3, D) features, got {x.shape}')
    x = x - x.mean(axis=0)
    if pca_dims and x.shape[1] > pca_dims and x.shape[0] > pca_dims:
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        x = x @ vt[:pca_dims].T
    perplexity = float(min(perplexity, max(1., (x.shape[0] - 1) / 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca',
                learning_rate='auto', random_state=seed)
    return tsne.fit_transform(x)


def class_colours(num_classes: int) -> List:
    """Distinct RGBA colours (tab10, then tab20)."""
    cmap = colormaps['tab10' if num_classes <= 10 else 'tab20']
    return [cmap(i % cmap.N) for i in range(num_classes)]


def plot_embedding(coords: np.ndarray,
                   labels: Sequence[int],
                   class_names: Sequence[str],
                   out_file: str,
                   kinds: Optional[Sequence[str]] = None,
                   title: Optional[str] = None,
                   figsize: Tuple[float, float] = (8., 8.),
                   dpi: int = 100) -> str:
    """Scatter 2-D points coloured by class, with a legend.

    Args:
        coords (np.ndarray): ``(N, 2)``.
        labels (Sequence[int]): Class of each point ``(N, )``.
        class_names (Sequence[str]): Names of the labels.
        out_file (str): PNG path.
        kinds (Sequence[str], optional): Kind of each point: ``'v'``
            (dot), ``'n'`` (cross, neutral representation) or ``'text'``
            (large star with the class name). Defaults to all ``'v'``.
        title (str, optional): Figure title.
        figsize (tuple[float]): Inches.
        dpi (int): Dots per inch.

    Returns:
        str: ``out_file``.
    """
    coords = np.asarray(coords)
    labels = np.asarray(labels, dtype=np.int64)
    kinds = np.asarray(kinds if kinds is not None else ['v'] * len(labels))
    colours = class_colours(len(class_names))
    fig = _figure(tuple(figsize), dpi)
    ax = fig.add_axes((0.05, 0.05, 0.68, 0.88))
    styles = dict(v=dict(marker='o', s=12, alpha=0.7, linewidths=0),
                  n=dict(marker='x', s=16, alpha=0.7, linewidths=1),
                  text=dict(marker='*', s=400, alpha=1.0, linewidths=1.2,
                            edgecolors='black'))
    for kind in ('v', 'n', 'text'):
        for c in range(len(class_names)):
            sel = (kinds == kind) & (labels == c)
            if sel.any():
                ax.scatter(coords[sel, 0], coords[sel, 1],
                           color=colours[c], **styles[kind])
    for (x, y), c in zip(coords[kinds == 'text'], labels[kinds == 'text']):
        ax.annotate(class_names[c], (x, y), textcoords='offset points',
                    xytext=(8, 8), fontsize=9, weight='bold')
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [
        Line2D([], [], marker='o', linestyle='', color=colours[c],
               label=f'{name} ({int(((labels == c) & (kinds == "v")).sum())})')
        for c, name in enumerate(class_names)
    ]
    extra = {'n': ('x', 'n (neutral repr.)'), 'text': ('*', 'text embedding')}
    for kind, (marker, label) in extra.items():
        if (kinds == kind).any():
            handles.append(Line2D([], [], marker=marker, linestyle='',
                                  color='grey', markersize=9, label=label))
    fig.legend(handles=handles, loc='center right', fontsize=9,
               frameon=False)
    if title:
        fig.suptitle(title)
    return _save(fig, out_file, dpi)
