# FER2013 at its native 48x48 for the CPU benchmarks: upscaling to the
# official 112 costs 5x more compute per image. RandomResizedCrop (60-100%
# of the face) + horizontal flip; grey faces normalised with mean 128, std 64.
_base_ = ['../../_base_/datasets/fer2013_bs64_112.py']
img_size = 48
data_preprocessor = dict(
    mean=[128., 128., 128.], std=[64., 64., 64.], to_rgb=False)
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomResizedCrop', scale=img_size,
         crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
