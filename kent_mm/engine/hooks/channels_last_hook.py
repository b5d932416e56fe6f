"""Train (and evaluate) a convolutional model in channels-last layout."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model's 4-D weights to ``torch.channels_last`` before the
    run.

    oneDNN (CPU) and cuDNN run convolutions in NHWC faster than in NCHW,
    most of all under bfloat16/float16 autocast. Only the memory layout
    changes: values, checkpoints (saved as ordinary tensors) and results are
    the same. The first convolution returns channels-last output for an
    NCHW input when its weight is channels-last, so the inputs need no
    conversion.

    Example:
        ``custom_hooks = [dict(type='ChannelsLastHook')]``
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        model.to(memory_format=torch.channels_last)
