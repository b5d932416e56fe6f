from .base import GRAY_DATASETS, FERDataset
from .emotions import (AFFECTNET_CODES, CANONICAL_EMOTIONS, CKPLUS_CODES,
                       FER2013_CODES, FERPLUS_COLUMNS, RAFDB_CODES,
                       ClassIntersection, class_intersection, to_canonical)
from .errors import AnnotationError
from .rafdb import RAFDB
from .affectnet import AffectNet
from .ckplus import CKPlus, subject_folds
from .fer2013 import FER2013, decode_fer_pixels
from .ferplus import FERPlus, ferplus_target
from .fec import FEC
from .label_triplets import LabelTripletDataset
from .triplets import TRIPLET_TYPES, TripletCompose, fer_triplet_collate
from .transforms import *  # noqa: F401,F403
from .wrappers import inner_datasets, unwrap_dataset

__all__ = [
    'CANONICAL_EMOTIONS', 'to_canonical', 'ClassIntersection',
    'class_intersection', 'AnnotationError', 'RAFDB', 'FERDataset',
    'AffectNet', 'CKPlus', 'FER2013', 'FERPlus', 'FEC', 'LabelTripletDataset',
    'TRIPLET_TYPES', 'TripletCompose', 'fer_triplet_collate', 'subject_folds',
    'decode_fer_pixels', 'ferplus_target', 'inner_datasets',
    'unwrap_dataset', 'AFFECTNET_CODES', 'CKPLUS_CODES', 'FER2013_CODES',
    'FERPLUS_COLUMNS', 'RAFDB_CODES', 'GRAY_DATASETS'
]
