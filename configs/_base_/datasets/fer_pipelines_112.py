# Official KE2NT augmentation at 112x112 and the ImageNet normalisation of
# the pretrained backbones (shared by the FER datasets).
img_size = 112
# MMPretrain's ClsDataPreprocessor: BGR images flipped to RGB, normalised.
# Each dataset file adds its `num_classes`; the configs use it as
# `model.data_preprocessor`.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(
        type='RandomApply',
        transforms=[dict(type='RandomCrop', crop_size=img_size, padding=4)],
        prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # The official torchvision RandomErasing(scale=(0.02, 0.25), value=0)
    # runs after normalisation. Here it runs before, on uint8 BGR images
    # (the data preprocessor flips them to RGB): the fill is the mean above
    # in BGR order, rounded to uint8 (104, 116, 124), so erased pixels
    # normalise to within 0.01 of 0.
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.25,
        mode='const',
        fill_color=tuple(round(c) for c in data_preprocessor['mean'][::-1])),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
