"""Text-feature cache files: raw features plus the metadata that made them."""
import os.path as osp
from typing import Any, Dict, Sequence

import torch

from kent_mm.utils import atomic_torch_save, safe_load

#: Format of the cache files: raw (unnormalised) features in ``features``.
CACHE_VERSION = 2
#: Metadata fields that must match between a cache and its user.
CHECKED_FIELDS = ('model_name', 'pretrained', 'class_names', 'prompts')


def save_text_cache(path: str, features: torch.Tensor,
                    meta: Dict[str, Any]) -> None:
    """Write raw ``features`` ``(C, D)`` and ``meta`` atomically to
    ``path``."""
    atomic_torch_save(
        dict(version=CACHE_VERSION, features=features.float().cpu(),
             meta=dict(meta)), path)


def load_text_cache(path: str) -> Dict[str, Any]:
    """Load a cache with ``weights_only=True`` and check its structure.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is no kent_mm text cache, has another format
            version, or its features do not match its class names.
    """
    rebuild = ('Rebuild it with `python tools/build_text_embeddings.py CONFIG '
               f'--out {path}`.')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Text-feature file {path} does not exist; make it with '
            '`python tools/build_text_embeddings.py CONFIG --out FILE`.')
    data = safe_load(path)
    if not isinstance(data, dict) or 'meta' not in data:
        raise ValueError(f'{path} is not a kent_mm text-feature file '
                         '(expected keys "version", "features" and "meta").')
    if data.get('version') != CACHE_VERSION:
        raise ValueError(
            f'{path}: text-feature file format {data.get("version")!r}, '
            f'expected {CACHE_VERSION}: a (C, D) tensor "features" of the raw '
            'text features, which KENT\'s L_t subtracts. ' + rebuild)
    feats = data.get('features')
    names = data['meta'].get('class_names', ())
    if (not torch.is_tensor(feats) or feats.ndim != 2
            or feats.shape[0] != len(names)):
        raise ValueError(
            f'{path}: field "features" must be a (C, D) tensor with one row '
            f'per entry of meta.class_names ({len(names)}), got '
            f'{tuple(getattr(feats, "shape", ()))}. ' + rebuild)
    return data


def check_text_cache(path: str, meta: Dict[str, Any],
                     expected: Dict[str, Any],
                     fields: Sequence[str] = CHECKED_FIELDS) -> None:
    """Raise ``ValueError`` naming the first field where ``meta`` differs."""
    for field in fields:
        if field not in expected:
            continue
        have, want = meta.get(field), expected[field]
        if isinstance(have, (list, tuple)):
            have, want = _to_lists(have), _to_lists(want)
        if have != want:
            raise ValueError(
                f'Text-feature file {path} does not match the config: field '
                f'"{field}" is {have!r} in the file but {want!r} in the '
                'config. Rebuild it with tools/build_text_embeddings.py or '
                'fix the config.')


def _to_lists(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_to_lists(i) for i in x]
    return x
