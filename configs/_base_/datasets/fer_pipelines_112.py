# Official KE2NT augmentation at 112x112 (shared by the FER datasets).
img_size = 112
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
    # (the data preprocessor flips them to RGB): the fill is the ImageNet
    # mean in BGR order, rounded to uint8, so erased pixels normalise to
    # within 0.01 of 0.
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.25,
        mode='const',
        fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
