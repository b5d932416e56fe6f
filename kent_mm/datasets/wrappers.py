"""Looking through dataset wrappers, for datasets and their configs alike."""
from typing import Any, List


def _wrapped(dataset: Any) -> List[Any]:
    """What one wrapper holds: ``datasets`` (concatenation) or ``dataset``
    (``ClassBalancedDataset``, ``RepeatDataset``, ``Subset``, a dataloader,
    ...); nothing for a plain dataset."""
    if isinstance(dataset, dict):
        inner, single = dataset.get('datasets'), dataset.get('dataset')
    else:
        inner = getattr(dataset, 'datasets', None)
        single = getattr(dataset, 'dataset', None)
    if inner:
        return list(inner)
    return [] if single is None else [single]


def inner_datasets(dataset: Any) -> List[Any]:
    """The innermost datasets (or dataset configs) of ``dataset``.

    Wrappers are looked through recursively; a plain dataset is its own
    innermost dataset.

    Args:
        dataset: A dataset, a wrapper of datasets, a dataloader, or the
            config dict of any of them.

    Returns:
        list: The innermost datasets (configs), in order.
    """
    wrapped = _wrapped(dataset)
    if not wrapped:
        return [dataset]
    return [leaf for inner in wrapped for leaf in inner_datasets(inner)]


def unwrap_dataset(dataset: Any) -> Any:
    """The innermost dataset (config) of ``dataset``; the first one of a
    concatenation (see :func:`inner_datasets`)."""
    return inner_datasets(dataset)[0]
