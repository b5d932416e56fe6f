"""Class text features read from a file."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmpretrain.registry import MODELS

from .base import BaseTextEmbeddings
from .cache import check_text_cache, load_text_cache


@MODELS.register_module()
class PrecomputedTextEmbeddings(BaseTextEmbeddings):
    """Raw text features from a file written by
    ``tools/build_text_embeddings.py`` (or any tool using
    :func:`~kent_mm.models.text.save_text_cache`).

    Any text encoder can produce the file; it stores the model name,
    pretrained tag, class names and prompts next to the ``(C, D)`` tensor.
    The class names must match the head's (same names, same order); the
    optional fields below are checked only when given.

    Args:
        file (str): The feature file.
        model_name (str, optional): Expected ``meta.model_name``.
        pretrained (str, optional): Expected ``meta.pretrained``.
        templates (Sequence[str], optional): If given, the prompts in the
            file must equal these templates filled with the class names.
        prompt_names (dict, optional): As in :class:`BaseTextEmbeddings`.
    """

    def __init__(self,
                 file: str,
                 model_name: Optional[str] = None,
                 pretrained: Optional[str] = None,
                 templates: Optional[Sequence[str]] = None,
                 prompt_names: Optional[Dict[str, str]] = None) -> None:
        super().__init__(templates=templates or ('{}', ),
                         prompt_names=prompt_names)
        self.file = file
        self.expected = {}
        if model_name is not None:
            self.expected['model_name'] = model_name
        if pretrained is not None:
            self.expected['pretrained'] = pretrained
        self.check_prompts = templates is not None

    def __call__(self, class_names: Sequence[str]) -> torch.Tensor:
        data = load_text_cache(self.file)
        meta = data['meta']
        expected = dict(self.expected, class_names=list(class_names))
        if self.check_prompts:
            expected['prompts'] = self.prompts(class_names)
        check_text_cache(self.file, meta, expected)
        if (meta.get('pretrained') is None
                and meta.get('source') == 'open_clip'):
            print_log(f'!!! {self.file} was made by a randomly initialised '
                      'text tower: it carries no language knowledge.',
                      logger='current', level=30)
        return data['features']
