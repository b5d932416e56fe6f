# FER2013 model-zoo CPU schedule: the `standard` one (SGD Nesterov lr 0.1,
# wd 5e-4, batch 64, one warm-up epoch then cosine, bfloat16 autocast +
# channels-last) for 40 epochs, with an exponential moving average of the
# weights (MMEngine's EMAHook as TTAEMAHook, which also serves `--tta`:
# validation, the saved `state_dict` and so the
# published model use the averaged weights; time constant 1,000 iterations,
# about 2 epochs). Model selection on PublicTest, reported on PrivateTest.
_base_ = ['./standard_cpu.py']
max_epochs = 40
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True,
         begin=1, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs // 2)
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='TTAEMAHook', momentum=1e-3, update_buffers=True,
         priority='ABOVE_NORMAL'),
]

# Data: the 48x48 faces upsampled to 112 (the
# official KENT input size: ResNet-18's stride-4 stem leaves a 28x28 map
# instead of 12x12), RandomResizedCrop (60-100% of the face) + horizontal
# flip, RandAugment (2 of timm's increasing policies, magnitude 7 of 10) and
# random erasing. Mixup/CutMix are left out: they mix labels, which KENT's
# label-indexed L_t and L_c cannot take, and both heads get one recipe.
# The leaves set them as their dataloaders' pipelines (a base that also
# set the dataloaders would clash with the dataset base).
zoo_img_size = 112
zoo_train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomResizedCrop', scale=zoo_img_size,
         crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=7,
        magnitude_std=0.5,
        hparams=dict(pad_val=128, interpolation='bilinear')),
    dict(type='RandomErasing', erase_prob=0.25, min_area_ratio=0.02,
         max_area_ratio=0.2, mode='const', fill_color=128),
    dict(type='PackInputs'),
]
zoo_test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(zoo_img_size, zoo_img_size)),
    dict(type='PackInputs'),
]
# `tools/test.py --tta`: the mean of the softmax scores of the face, its
# mirror image, and both at 90% zoom (resize to 124, centre crop 112).
tta_model = dict(type='AverageClsScoreTTA')
tta_pipeline = [
    dict(type='LoadFERImage'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(zoo_img_size, zoo_img_size)),
             dict(type='Compose', transforms=[
                 dict(type='Resize', scale=(124, 124)),
                 dict(type='CenterCrop', crop_size=zoo_img_size)])],
            [dict(type='RandomFlip', prob=1.),
             dict(type='RandomFlip', prob=0.)],
            [dict(type='PackInputs')],
        ]),
]
