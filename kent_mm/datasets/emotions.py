"""Canonical emotion vocabulary shared by every dataset.

Each dataset keeps its own class order (``METAINFO['classes']``) but spells
its classes with these canonical names, so that any two datasets can be
compared class by class (cross-dataset evaluation, text prompts).
"""
from typing import Dict, NamedTuple, Sequence, Tuple

#: The eight canonical expression classes (Ekman's seven + contempt).
CANONICAL_EMOTIONS: Tuple[str, ...] = ('neutral', 'happiness', 'sadness',
                                       'surprise', 'fear', 'disgust',
                                       'anger', 'contempt')

#: Other spellings met in datasets and folder layouts.
_ALIASES: Dict[str, str] = {
    'happy': 'happiness',
    'sad': 'sadness',
    'surprised': 'surprise',
    'fearful': 'fear',
    'disgusted': 'disgust',
    'angry': 'anger',
    'contemptuous': 'contempt',
    'neutrality': 'neutral',
}


def to_canonical(name: str) -> str:
    """Map a class name (any case, common aliases) to the canonical name.

    Raises:
        KeyError: If the name is no known emotion.
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in CANONICAL_EMOTIONS:
        raise KeyError(f'{name!r} is not a known emotion; expected one of '
                       f'{CANONICAL_EMOTIONS} or aliases {sorted(_ALIASES)}')
    return key


# ---------------------------------------------------------------------------
# Native label codes of each dataset -> canonical names. The dataset classes
# keep these orders as their class-index orders (``METAINFO['classes']``).

#: RAF-DB basic, ``EmoLabel/list_patition_label.txt`` codes 1..7.
RAFDB_CODES: Dict[int, str] = {
    1: 'surprise', 2: 'fear', 3: 'disgust', 4: 'happiness', 5: 'sadness',
    6: 'anger', 7: 'neutral'
}

#: AffectNet ``expression`` codes 0..7 (classes). 8-10 are never classes.
AFFECTNET_CODES: Dict[int, str] = {
    0: 'neutral', 1: 'happiness', 2: 'sadness', 3: 'surprise', 4: 'fear',
    5: 'disgust', 6: 'anger', 7: 'contempt'
}
#: AffectNet codes that the official protocol drops (not expressions).
AFFECTNET_EXCLUDED_CODES: Dict[int, str] = {
    8: 'none', 9: 'uncertain', 10: 'no-face'
}

#: CK+ ``Emotion/*_emotion.txt`` codes 0..7.
CKPLUS_CODES: Dict[int, str] = {
    0: 'neutral', 1: 'anger', 2: 'contempt', 3: 'disgust', 4: 'fear',
    5: 'happiness', 6: 'sadness', 7: 'surprise'
}

#: FER2013 ``fer2013.csv`` ``emotion`` codes 0..6.
FER2013_CODES: Dict[int, str] = {
    0: 'anger', 1: 'disgust', 2: 'fear', 3: 'happiness', 4: 'sadness',
    5: 'surprise', 6: 'neutral'
}
#: Class folders of the common FER2013 folder layout.
FER2013_FOLDERS: Dict[str, str] = {
    'angry': 'anger', 'disgust': 'disgust', 'fear': 'fear',
    'happy': 'happiness', 'sad': 'sadness', 'surprise': 'surprise',
    'neutral': 'neutral'
}

#: FERPlus ``fer2013new.csv`` vote columns that are classes, in file order.
FERPLUS_COLUMNS: Dict[str, str] = {
    'neutral': 'neutral', 'happiness': 'happiness', 'surprise': 'surprise',
    'sadness': 'sadness', 'anger': 'anger', 'disgust': 'disgust',
    'fear': 'fear', 'contempt': 'contempt'
}
#: FERPlus vote columns that are not classes (rows they win are dropped).
FERPLUS_EXTRA_COLUMNS: Tuple[str, ...] = ('unknown', 'NF')


class ClassIntersection(NamedTuple):
    """How a model's classes meet a target dataset's classes.

    Attributes:
        shared (tuple[str]): Canonical names of the shared classes, in the
            target's label order. Index ``k`` in this tuple is the label
            space of the cross-dataset evaluation.
        source_index (tuple[int]): For each shared class, its index in
            the source classes (e.g. the logit kept).
        target_index (tuple[int]): For each shared class, its label in the
            target dataset.
        excluded_target (tuple[str]): Target classes the source lacks.
        dropped_source (tuple[str]): Source classes the target lacks.
    """
    shared: Tuple[str, ...]
    source_index: Tuple[int, ...]
    target_index: Tuple[int, ...]
    excluded_target: Tuple[str, ...]
    dropped_source: Tuple[str, ...]


def class_intersection(source: Sequence[str],
                       target: Sequence[str]) -> ClassIntersection:
    """Match two class lists class by class through the canonical names.

    ``dict(zip(r.source_index, r.target_index))`` of the result is the
    class-index map from ``source`` labels to ``target`` labels.

    Args:
        source (Sequence[str]): Source classes (e.g. a model's), label order.
        target (Sequence[str]): Target classes (e.g. a dataset's), label
            order.

    Returns:
        ClassIntersection: Shared classes and index maps.

    Raises:
        ValueError: If a list names a canonical class twice.
    """
    src = [to_canonical(c) for c in source]
    tgt = [to_canonical(c) for c in target]
    for name, names in (('source', src), ('target', tgt)):
        if len(set(names)) != len(names):
            raise ValueError(f'{name} classes repeat a canonical class: '
                             f'{names}')
    shared = tuple(c for c in tgt if c in src)
    return ClassIntersection(
        shared=shared,
        source_index=tuple(src.index(c) for c in shared),
        target_index=tuple(tgt.index(c) for c in shared),
        excluded_target=tuple(c for c in tgt if c not in src),
        dropped_source=tuple(c for c in src if c not in tgt))
