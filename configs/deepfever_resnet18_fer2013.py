# Real-data proxy of the DeepFEVER recipe on FER2013 (no AffectNet/FEC here):
# the expression head (CE; FER2013 has no valence/arousal) and expression
# triplets formed from the FER2013 labels (two images of one class + one of
# another = the odd one, TWO_CLASS_TRIPLET, margin 0.2), one batch of each
# per iteration. Probe the encoder afterwards (docs/deepfever.md).
_base_ = [
    './_base_/models/deepfever_resnet18.py',
    './_base_/datasets/fer2013_bs64_112.py',
    './_base_/schedules/deepfever_sgd_iter.py',
    './_base_/deepfever_runtime.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    heads=dict(
        expression=dict(num_classes=_base_.num_classes, loss_va=None)),
    task_weights=dict(expression=1.0, triplet=1.0))

triplet_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(_base_.img_size, _base_.img_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
label_triplet_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='fer_triplet_collate'),
    dataset=dict(
        type='LabelTripletDataset',
        triplet_type='TWO_CLASS_TRIPLET',
        seed=29,
        dataset=dict(
            type=_base_.dataset_type,
            data_root=_base_.data_root,
            split='train',
            pipeline=triplet_pipeline)))

train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True))

# 22,400 iterations = 50 FER2013 epochs at batch 64, as the KENT FER2013
# config (50 epochs); validation on PublicTest every ~2 epochs.
max_iters = 22400
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500,
         end=max_iters),
]
train_cfg = dict(
    max_iters=max_iters,
    val_interval=898,
    main_task='expression',
    extra_dataloaders=dict(triplet=label_triplet_dataloader))
default_hooks = dict(checkpoint=dict(_base_.model_selection, interval=898))
