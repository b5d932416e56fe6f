# FER2013 `standard` CPU schedule (ResNet-18 from scratch, 48x48, batch 64):
# SGD Nesterov lr 0.1, momentum 0.9, wd 5e-4; one warm-up epoch (linear from
# 0.1x), then cosine to 0. bfloat16 autocast + channels-last (about 1.5x
# float32 on CPUs with AVX-512 BF16; BENCHMARKS.md). Model selection on
# PublicTest (`val`), reported on PrivateTest (`test`).
_base_ = ['../../_base_/default_runtime.py']

max_epochs = 28
optim_wrapper = dict(
    type='BF16OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True,
         begin=1, end=max_epochs, convert_to_iter_based=True),
]
# PublicTest from the second half on (model selection; earlier epochs are
# never the best).
train_cfg = dict(
    by_epoch=True,
    max_epochs=max_epochs,
    val_begin=max_epochs // 2,
    val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
# Model selection (the checkpoint hook's `save_best`) is the dataset's
# `model_selection`, set by each leaf.
default_hooks = dict(logger=dict(interval=100))
custom_hooks = [*_base_.custom_hooks, dict(type='ChannelsLastHook')]
