from .model_zoo import default_model_index, register_kent_model_index
from .runtime import adapt_cfg_to_machine

__all__ = [
    'adapt_cfg_to_machine', 'default_model_index', 'register_kent_model_index'
]
