# DeepFEVER real-data proxy on FER2013 at a small CPU budget (its encoder
# is compared by linear probe, docs/deepfever.md): expression CE + label
# triplets (batch 16 triplets = 48 images) per iteration, 48x48 input,
# from scratch, 768 iterations (each sees 64 expression + 48 triplet
# images: 86k images, 3 epochs of FER2013).
_base_ = ['../deepfever_resnet18_fer2013.py']
img_size = 48
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomCrop', crop_size=img_size, padding=6),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
triplet_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
model = dict(backbone=dict(init_cfg=None))  # from scratch, offline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
max_iters = 768
optim_wrapper = dict(optimizer=dict(lr=0.1))  # linear heads, as baseline
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=300),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters),
]
train_cfg = dict(
    max_iters=max_iters,
    val_interval=384,
    extra_dataloaders=dict(
        triplet=dict(
            batch_size=16,
            num_workers=1,
            dataset=dict(dataset=dict(pipeline=triplet_pipeline)))))
default_hooks = dict(checkpoint=dict(interval=384))
