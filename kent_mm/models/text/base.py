"""Common interface of text-embedding sources."""
from typing import Dict, List, Optional, Sequence

import torch

from .prompts import KENT_TEMPLATES, build_prompts


class BaseTextEmbeddings:
    """A source of frozen class text features.

    A source is called once (when the head is initialised) with the class
    names and returns one *raw* (unnormalised) feature per name, as the text
    encoder outputs it: KENT's L_t subtracts raw features before normalising
    (``normalise(r_y - r_neu)``, as the authors' code), while the logits and
    L_c use the normalised features. With several templates per class the
    raw features of the templates are averaged (with one template, KENT's
    default, this is the encoder output itself).

    Args:
        templates (Sequence[str]): Prompt templates, ``{}`` = class name.
        prompt_names (dict, optional): Words to use in prompts instead of a
            class name, e.g. ``{'happiness': 'happy'}``.
    """

    def __init__(self,
                 templates: Sequence[str] = KENT_TEMPLATES,
                 prompt_names: Optional[Dict[str, str]] = None) -> None:
        self.templates = tuple(templates)
        self.prompt_names = dict(prompt_names or {})

    def prompts(self, class_names: Sequence[str]) -> List[List[str]]:
        """The prompts used for ``class_names`` (``[class][template]``)."""
        words = [self.prompt_names.get(c, c) for c in class_names]
        return build_prompts(words, self.templates)

    def __call__(self, class_names: Sequence[str]) -> torch.Tensor:
        """Return the ``(len(class_names), D)`` raw text features."""
        raise NotImplementedError

    @staticmethod
    def average_templates(feats: torch.Tensor) -> torch.Tensor:
        """``(C, K, D)`` raw per-template features -> ``(C, D)`` raw mean."""
        return feats.float().mean(dim=1)
