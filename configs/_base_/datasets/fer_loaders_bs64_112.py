# Dataloaders, metrics, pipelines and normalisation shared by the FER
# datasets. A dataset file sets type, data_root and the splits, its
# `classes` (the dataset's label order), `num_classes = len(classes)` (also
# in its data preprocessor) and, with an official validation split, its
# model selection (see ./fer2013_bs64_112.py).
_base_ = ['./fer_pipelines_112.py', './fer_metrics.py']

# Model selection, merged by every config into default_hooks.checkpoint:
# none here, the last epoch is reported. A dataset without an official
# validation split validates on its test split, for monitoring only.
model_selection = dict()

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(split='train', pipeline={{_base_.train_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,  # BatchNorm1d in the neck needs > 1 sample per batch
)
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(split='val', pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(split='test', pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
