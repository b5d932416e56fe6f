# AffectNet-7 (expression + valence/arousal) and FEC triplets, trained in one
# loop: train_dataloader is AffectNet (task 'expression'), the FEC loader is
# train_cfg.extra_dataloaders.triplet (task 'triplet'), set by the top config
# as `dict(triplet={{_base_.fec_train_dataloader}})`.
_base_ = ['./affectnet7_bs64_112.py']

img_size = {{_base_.img_size}}
# Valence and arousal travel from the AffectNet rows to the data samples:
# the shared pipelines with two keys more for PackInputs.
va_keys = ('valence', 'arousal')
train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(type='PackInputs', algorithm_keys=va_keys)
]
test_pipeline = [
    *_base_.test_pipeline[:-1],
    dict(type='PackInputs', algorithm_keys=va_keys)
]
# Per image of a triplet (no erasing: it could hide the expression cue).
fec_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
fec_test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

fec_root = 'data/fec'
# 32 triplets = 96 face crops per iteration next to 64 AffectNet images.
fec_train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='fer_triplet_collate'),
    dataset=dict(type='FEC', data_root=fec_root, split='train',
                 on_tie='drop', pipeline=fec_pipeline))
# FEC test split (triplet accuracy): see configs/deepfever_*_fec-test.py
# (_delete_: it replaces the AffectNet test_dataloader there).
fec_test_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='fer_triplet_collate'),
    dataset=dict(type='FEC', data_root=fec_root, split='test',
                 on_tie='drop', pipeline=fec_test_pipeline))
fec_test_evaluator = [dict(type='TripletAccuracy')]

val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='SingleLabelMetric', items=('recall', 'f1-score'),
         average='macro'),
    dict(type='ValenceArousalMetric'),  # va/{valence,arousal}_{rmse,ccc}
]
test_evaluator = val_evaluator
