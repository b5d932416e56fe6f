from .fileio import AtomicLocalBackend, atomic_torch_save, atomic_write
from .safe_load import register_safe_globals, safe_globals, safe_load

__all__ = [
    'AtomicLocalBackend', 'atomic_write', 'atomic_torch_save',
    'register_safe_globals', 'safe_globals', 'safe_load'
]
