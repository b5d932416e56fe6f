from .channels_last_hook import ChannelsLastHook
from .consistency_hook import ClassConsistencyHook, check_head_classes
from .corrupt_image_hook import CorruptImageReportHook
from .ema_hook import TTAEMAHook
from .rng_state_hook import RNGStateHook, get_rng_state, set_rng_state

__all__ = [
    'ChannelsLastHook', 'ClassConsistencyHook', 'check_head_classes',
    'CorruptImageReportHook',
    'RNGStateHook', 'get_rng_state', 'set_rng_state', 'TTAEMAHook'
]
