"""Expression triplets formed from the labels of a classification set."""
import copy
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from .parsing import check_choice
from .triplets import TRIPLET_TYPES, TripletCompose


@DATASETS.register_module()
class LabelTripletDataset:
    """Expression triplets formed from the labels of a classification set.

    Triplet ``i`` holds two images of one class and one image of another
    class (the odd one, i.e. the FEC answer), at a random position. By
    FEC's definition these are ``TWO_CLASS_TRIPLET`` (two images share a
    class): the default ``triplet_type`` gives them the 0.2 margin of the
    FEC loss; set ``triplet_type='ONE_CLASS_TRIPLET'`` for the 0.1 margin.

    The table of triplets is drawn once from ``seed`` (reproducible); the
    training sampler shuffles it. Classes with fewer than two images are
    never the pair class.

    Args:
        dataset (dict | BaseDataset): A dataset with ``gt_label`` samples
            (e.g. ``FER2013``); its pipeline is used for each image.
        num_triplets (int, optional): Table size; defaults to
            ``len(dataset)``.
        triplet_type (str): Type given to every triplet.
        seed (int): Seed of the table.
        lazy_init (bool): Defer building the table to :meth:`full_init`.
    """

    def __init__(self,
                 dataset,
                 num_triplets: Optional[int] = None,
                 triplet_type: str = 'TWO_CLASS_TRIPLET',
                 seed: int = 0,
                 lazy_init: bool = False) -> None:
        check_choice('LabelTripletDataset', 'triplet_type', triplet_type,
                     TRIPLET_TYPES)
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset: BaseDataset = dataset
        self.num_triplets = num_triplets
        self.triplet_type = TRIPLET_TYPES.index(triplet_type)
        self.seed = seed
        self.triplets: Optional[np.ndarray] = None
        self.pipeline = TripletCompose(
            self._load_one, members_key='triplet_indices',
            member_key='dataset_idx')
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo plus ``triplet_types``."""
        meta = copy.deepcopy(self.dataset.metainfo)
        meta['triplet_types'] = TRIPLET_TYPES
        return meta

    def full_init(self) -> None:
        """Draw the triplet table ``(N, 3)`` of dataset indices and the
        answers ``(N,)``."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        labels = np.array([
            int(np.asarray(self.dataset.get_data_info(i)['gt_label']))
            for i in range(len(self.dataset))
        ])
        by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
        pair_classes = [c for c, idx in by_class.items() if len(idx) >= 2]
        if not pair_classes or len(by_class) < 2:
            raise ValueError(
                'LabelTripletDataset needs a class with at least two images '
                f'and at least two classes; got class sizes '
                f'{ {int(c): len(i) for c, i in by_class.items()} }.')
        n = self.num_triplets or len(self.dataset)
        rng = np.random.default_rng(self.seed)
        triplets = np.empty((n, 3), dtype=np.int64)
        answers = rng.integers(1, 4, size=n)
        all_classes = np.array(sorted(by_class))
        for i in range(n):
            c = pair_classes[rng.integers(len(pair_classes))]
            a, b = rng.choice(by_class[c], size=2, replace=False)
            others = all_classes[all_classes != c]
            d = others[rng.integers(len(others))]
            odd = rng.choice(by_class[d])
            pair = iter((a, b))
            triplets[i] = [
                odd if pos + 1 == answers[i] else next(pair)
                for pos in range(3)
            ]
        self.triplets, self.answers = triplets, answers
        self._fully_initialized = True

    def _load_one(self, info: dict) -> Optional[dict]:
        """The wrapped dataset's pipeline on image ``info['dataset_idx']``."""
        return self.dataset.pipeline(
            self.dataset.get_data_info(info['dataset_idx']))

    def get_data_info(self, idx: int) -> dict:
        """Dataset indices of the three images (``triplet_indices``), type
        and answer of triplet ``idx``."""
        self.full_init()
        return dict(triplet_indices=[int(i) for i in self.triplets[idx]],
                    triplet_type=self.triplet_type,
                    triplet_answer=int(self.answers[idx]), sample_idx=idx)

    def __getitem__(self, idx: int) -> List[dict]:
        return self.pipeline(self.get_data_info(idx))

    def __len__(self) -> int:
        self.full_init()
        return len(self.triplets)

    def __repr__(self) -> str:
        return (f'LabelTripletDataset({len(self)} triplets of '
                f'{type(self.dataset).__name__}, type '
                f'{TRIPLET_TYPES[self.triplet_type]})')
