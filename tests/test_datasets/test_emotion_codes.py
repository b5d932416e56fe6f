"""Native-code maps: every dataset speaks the canonical vocabulary, and the
dataset classes' label orders are exactly their code maps."""
import pytest

from kent_mm.datasets import (AFFECTNET_CODES, CANONICAL_EMOTIONS,
                              CKPLUS_CODES, FER2013, FER2013_CODES,
                              FERPLUS_COLUMNS, RAFDB, RAFDB_CODES, AffectNet,
                              CKPlus, FERPlus, class_intersection,
                              to_canonical)
from kent_mm.datasets.emotions import FER2013_FOLDERS

CODE_MAPS = dict(rafdb=RAFDB_CODES, affectnet=AFFECTNET_CODES,
                 ckplus=CKPLUS_CODES, fer2013=FER2013_CODES,
                 fer2013_folders=FER2013_FOLDERS, ferplus=FERPLUS_COLUMNS)


@pytest.mark.parametrize('name', sorted(CODE_MAPS))
def test_code_maps_use_canonical_names_once(name):
    names = list(CODE_MAPS[name].values())
    assert all(to_canonical(n) == n for n in names)
    assert len(set(names)) == len(names)
    assert set(names) <= set(CANONICAL_EMOTIONS)


def test_published_code_meanings():
    # Spot checks against the datasets' own documentation.
    assert RAFDB_CODES[1] == 'surprise' and RAFDB_CODES[7] == 'neutral'
    assert AFFECTNET_CODES[6] == 'anger' and AFFECTNET_CODES[7] == 'contempt'
    assert CKPLUS_CODES[2] == 'contempt' and CKPLUS_CODES[5] == 'happiness'
    assert FER2013_CODES[0] == 'anger' and FER2013_CODES[6] == 'neutral'
    assert list(FERPLUS_COLUMNS) == [
        'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust',
        'fear', 'contempt'
    ]


def test_dataset_class_orders_are_the_code_orders():
    assert RAFDB.METAINFO['classes'] == tuple(RAFDB_CODES.values())
    assert AffectNet.METAINFO['classes'] == tuple(AFFECTNET_CODES.values())
    assert CKPlus.METAINFO['classes'] == tuple(CKPLUS_CODES.values())
    assert FER2013.METAINFO['classes'] == tuple(FER2013_CODES.values())
    assert FERPlus.METAINFO['classes'] == tuple(FERPLUS_COLUMNS.values())


def test_class_intersection_compares_datasets_class_by_class():
    fer = tuple(FER2013_CODES.values())
    raf = tuple(RAFDB_CODES.values())
    inter = class_intersection(fer, raf)
    mapping = dict(zip(inter.source_index, inter.target_index))
    assert len(mapping) == 7
    assert all(fer[s] == raf[t] for s, t in mapping.items())
    # FERPlus contempt has no RAF-DB counterpart: left out, not misplaced.
    plus = tuple(FERPLUS_COLUMNS.values())
    inter = class_intersection(plus, raf)
    to_raf = dict(zip(inter.source_index, inter.target_index))
    assert plus.index('contempt') not in to_raf
    assert inter.dropped_source == ('contempt', )
    assert to_raf[plus.index('happiness')] == raf.index('happiness')


def test_class_intersection_refuses_a_class_named_twice():
    with pytest.raises(ValueError, match='repeat'):
        class_intersection(['happy', 'happiness'], ['anger'])
