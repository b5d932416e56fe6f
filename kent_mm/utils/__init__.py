from .dist import compute_on_rank_zero
from .fileio import AtomicLocalBackend, atomic_torch_save, atomic_write
from .safe_load import checkpoint_globals, checkpoint_safe_globals, safe_load

__all__ = [
    'AtomicLocalBackend', 'atomic_write', 'atomic_torch_save',
    'checkpoint_globals', 'checkpoint_safe_globals', 'compute_on_rank_zero',
    'safe_load'
]
