"""Class text features from an open_clip text tower."""
import hashlib
import os.path as osp
import warnings
from typing import Any, Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmpretrain.registry import MODELS

from kent_mm.utils import compute_on_rank_zero
from .base import BaseTextEmbeddings
from .cache import check_text_cache, load_text_cache, save_text_cache
from .prompts import KENT_TEMPLATES


def file_sha256(path: str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


@MODELS.register_module()
class OpenCLIPTextEmbeddings(BaseTextEmbeddings):
    """Frozen open_clip text tower -> one raw text feature per class.

    The CLIP model is built, used once under ``torch.no_grad`` and dropped:
    it is never part of the classifier, so it never reaches the optimizer or
    a checkpoint. In a distributed run, where every rank initialises the
    head, rank 0 alone reads the cache or builds CLIP (and writes the cache);
    the other ranks receive its features.

    Args:
        model_name (str): open_clip model name. KENT's official code uses
            CLIP ViT-B/16 with OpenAI weights (``'ViT-B-16-quickgelu'``).
        pretrained (str, optional): open_clip pretrained tag (``'openai'``)
            or a local checkpoint path (recorded in caches by its sha256, so
            a cache does not depend on where the file lies). ``None`` builds
            random weights and is refused unless ``allow_random_init=True``.
        weights_file (str, optional): A local copy of the ``pretrained``
            tag's weights, loaded instead of downloading them. Caches record
            the tag (and the file's sha256 as ``weights_sha256``), so a cache
            built from a local copy is accepted by a config that names the
            tag.
        templates (Sequence[str]): Prompt templates; several are averaged.
        prompt_names (dict, optional): Words used in prompts per class.
        cache_file (str, optional): If given and present, features are read
            from it (after checking model, weights, classes and prompts);
            if absent, they are computed and written there atomically.
        allow_random_init (bool): Allow ``pretrained=None``. Only for tests
            and offline smoke runs: the features then carry no language
            knowledge, and a warning says so.
        device (str): Where to run the text tower.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16-quickgelu',
                 pretrained: Optional[str] = 'openai',
                 weights_file: Optional[str] = None,
                 templates: Sequence[str] = KENT_TEMPLATES,
                 prompt_names: Optional[Dict[str, str]] = None,
                 cache_file: Optional[str] = None,
                 allow_random_init: bool = False,
                 device: str = 'cpu') -> None:
        super().__init__(templates=templates, prompt_names=prompt_names)
        if pretrained is None and not allow_random_init:
            raise ValueError(
                'OpenCLIPTextEmbeddings: `pretrained` is None, which would '
                'give random text features without language knowledge. Set '
                '`pretrained` to an open_clip tag or a local checkpoint, use '
                'a cache file made by tools/build_text_embeddings.py, or set '
                '`allow_random_init=True` for tests/offline smoke runs.')
        if weights_file is not None and pretrained is None:
            raise ValueError('OpenCLIPTextEmbeddings: `weights_file` is a '
                             'local copy of the `pretrained` tag; set both.')
        self.model_name = model_name
        self.pretrained = pretrained
        self.weights_file = weights_file
        self.cache_file = cache_file
        self.allow_random_init = allow_random_init
        self.device = device

    def weights_id(self) -> Optional[str]:
        """How caches name the weights: the tag, ``sha256:<hex>`` for a
        local file given as ``pretrained``, or None for random weights."""
        if self.pretrained is not None and osp.isfile(self.pretrained):
            return 'sha256:' + file_sha256(self.pretrained)
        return self.pretrained

    def meta(self, class_names: Sequence[str]) -> Dict[str, Any]:
        """Metadata recorded with (and checked against) cached features."""
        return dict(
            source='open_clip',
            model_name=self.model_name,
            pretrained=self.weights_id(),
            class_names=list(class_names),
            templates=list(self.templates),
            prompts=self.prompts(class_names))

    def __call__(self, class_names: Sequence[str]) -> torch.Tensor:
        """``(len(class_names), D)`` raw features, computed on rank 0 only.
        """
        return compute_on_rank_zero(lambda: self.features(class_names))

    def features(self, class_names: Sequence[str]) -> torch.Tensor:
        """Read the cache, or encode the prompts (and write the cache)."""
        meta = self.meta(class_names)
        if self.cache_file and osp.isfile(self.cache_file):
            data = load_text_cache(self.cache_file)
            check_text_cache(self.cache_file, data['meta'], meta)
            print_log(f'Loaded text features from {self.cache_file}',
                      logger='current')
            return data['features']
        feats, logit_scale = self.encode(meta['prompts'])
        if self.cache_file:
            if self.weights_file is not None:
                meta['weights_sha256'] = file_sha256(self.weights_file)
            save_text_cache(self.cache_file, feats,
                            dict(meta, logit_scale=logit_scale))
            print_log(f'Saved text features to {self.cache_file}',
                      logger='current')
        return feats

    @torch.no_grad()
    def encode(self, prompts: Sequence[Sequence[str]]):
        """Encode ``prompts[c][k]`` -> ``((C, D) raw features, logit scale)``.
        """
        try:
            import open_clip
        except ImportError as e:  # pragma: no cover - a hard dependency
            raise ImportError('OpenCLIPTextEmbeddings needs open_clip_torch: '
                              'pip install open_clip_torch') from e
        if self.pretrained is None:
            msg = (f'!!! Text features come from a RANDOMLY INITIALISED '
                   f'{self.model_name} text tower (allow_random_init=True). '
                   'They carry no language knowledge: use this only for '
                   'tests and offline smoke runs, never for reported results.')
            warnings.warn(msg, stacklevel=2)
            print_log(msg, logger='current', level=30)
        model = open_clip.create_model(
            self.model_name,
            pretrained=self.weights_file or self.pretrained,
            device=self.device)
        model.eval()
        tokenizer = open_clip.get_tokenizer(self.model_name)
        num_classes, num_templates = len(prompts), len(prompts[0])
        flat = [p for per_class in prompts for p in per_class]
        tokens = tokenizer(flat).to(self.device)
        feats = model.encode_text(tokens).float().cpu()
        logit_scale = float(model.logit_scale.exp().item())
        del model  # the text tower is never kept
        feats = feats.view(num_classes, num_templates, -1)
        return self.average_templates(feats), logit_scale
