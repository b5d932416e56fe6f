"""Work that one process of a distributed run does for all of them."""
from typing import Callable, TypeVar

from mmengine.dist import broadcast_object_list, get_rank, get_world_size

T = TypeVar('T')


def compute_on_rank_zero(fn: Callable[[], T]) -> T:
    """``fn()`` computed by rank 0 only and returned on every rank.

    Outside a distributed run (or with one process) this is ``fn()``. In one,
    the other ranks wait in MMEngine's ``broadcast_object_list`` and receive
    rank 0's result, so every rank must call it, as every rank initialises
    the model. If ``fn`` raises on rank 0, the other ranks raise a
    ``RuntimeError`` naming that error instead of waiting for ever.

    Args:
        fn (Callable[[], T]): The work; its result must be picklable.

    Returns:
        T: Rank 0's ``fn()``.
    """
    if get_world_size() == 1:
        return fn()
    payload = [None, None]  # [result, error message of rank 0]
    if get_rank() == 0:
        try:
            payload[0] = fn()
        except Exception as e:
            payload[1] = f'{type(e).__name__}: {e}'
            broadcast_object_list(payload, src=0)
            raise
    broadcast_object_list(payload, src=0)
    result, error = payload
    if error is not None:
        raise RuntimeError(f'rank 0 failed, so this rank stops too: {error}')
    return result
