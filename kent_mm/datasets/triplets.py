"""Expression triplets: the triplet types, per-image pipelines, collation.

A triplet sample holds three images and the answer of the annotators: the
image (1, 2 or 3) whose expression is *most different*. Datasets of triplets
(:class:`~kent_mm.datasets.FEC`, :class:`~kent_mm.datasets.
LabelTripletDataset`) return the three images packed one by one
(:class:`TripletCompose`); ``collate_fn=dict(type='fer_triplet_collate')``
makes a flat batch of them.
"""
from typing import Callable, List, Optional, Sequence

from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS

#: Triplet types in code order (the code is the ``triplet_type`` of samples).
TRIPLET_TYPES = ('ONE_CLASS_TRIPLET', 'TWO_CLASS_TRIPLET',
                 'THREE_CLASS_TRIPLET')


class TripletCompose:
    """Run a single-image pipeline on the three images of a triplet.

    The triplet's data info lists its three members under ``members_key``;
    each member is passed to ``pipeline`` as ``member_key`` of a copy of the
    info (without the member list and the ``triplet_votes``). The result is
    a list of three packed samples (``inputs``, ``data_samples``); each
    ``DataSample`` gets the metainfo ``triplet_idx`` (dataset index),
    ``triplet_pos`` (0, 1, 2), ``triplet_type`` (code of
    :data:`TRIPLET_TYPES`) and ``triplet_answer`` (1, 2 or 3: the image most
    different in expression). Collate such samples with
    ``collate_fn=dict(type='fer_triplet_collate')``.

    Args:
        pipeline (Callable): The per-image pipeline (ending in
            ``PackInputs``).
        members_key (str): Key of the three members in the triplet's info
            (FEC: ``'img_paths'``, three image files).
        member_key (str): Key of one member in the per-image info.
    """

    def __init__(self,
                 pipeline: Callable,
                 members_key: str = 'img_paths',
                 member_key: str = 'img_path') -> None:
        self.pipeline = pipeline
        self.members_key = members_key
        self.member_key = member_key

    def __call__(self, info: dict) -> Optional[List[dict]]:
        shared = {
            k: v
            for k, v in info.items()
            if k not in (self.members_key, 'triplet_votes')
        }
        out = []
        for pos, member in enumerate(info[self.members_key]):
            packed = self.pipeline(dict(shared, **{self.member_key: member}))
            if packed is None:
                return None
            packed['data_samples'].set_metainfo(
                dict(triplet_idx=int(info['sample_idx']), triplet_pos=pos,
                     triplet_type=int(info['triplet_type']),
                     triplet_answer=int(info['triplet_answer'])))
            out.append(packed)
        return out

    @property
    def transforms(self) -> list:
        """The per-image transforms (for ``BaseDataset.__repr__``)."""
        return list(getattr(self.pipeline, 'transforms', []))

    def __repr__(self) -> str:
        return f'TripletCompose({self.pipeline!r})'


@FUNCTIONS.register_module()
def fer_triplet_collate(data_batch: Sequence[List[dict]]) -> dict:
    """Collate triplet samples into one flat batch of ``3B`` images.

    Args:
        data_batch (Sequence[list[dict]]): ``B`` samples of
            :class:`TripletCompose` (three packed images each).

    Returns:
        dict: ``pseudo_collate`` of the ``3B`` images, triplet-major
        (``a1, b1, c1, a2, b2, c2, ...``): ``inputs`` a list of ``3B``
        tensors ``(C, H, W)``, ``data_samples`` the matching list.
    """
    return pseudo_collate([img for triplet in data_batch for img in triplet])
