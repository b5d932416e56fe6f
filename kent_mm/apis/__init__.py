from .model_zoo import default_model_index, register_kent_model_index
from .runtime import prepare_mmpretrain_tool

__all__ = [
    'default_model_index', 'prepare_mmpretrain_tool',
    'register_kent_model_index'
]
