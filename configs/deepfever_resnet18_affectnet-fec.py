# DeepFEVER recipe on ResNet-18: AffectNet-7 (expression CE + valence/arousal
# CCC) and FEC triplets (type-dependent margins) in one loop. See
# docs/deepfever.md. The trained encoder is a feature extractor:
# model.extract_feat(inputs) -> (N, 512); configs/deepfever_resnet18_encoder.py
# loads the checkpoint as a plain MMPretrain ImageClassifier (no heads).
_base_ = [
    './_base_/models/deepfever_resnet18.py',
    './_base_/datasets/affectnet7-fec_bs64_112.py',
    './_base_/schedules/deepfever_sgd_iter.py',
    './_base_/deepfever_runtime.py',
]

# Loss weights (the model base's `model.task_weights` and each loss's
# `loss_weight`) are set with --cfg-options, e.g.
# model.task_weights.triplet=0.5 model.heads.expression.loss_va.loss_weight=2

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    heads=dict(expression=dict(num_classes={{_base_.num_classes}})))
default_hooks = dict(checkpoint={{_base_.model_selection}})

# One AffectNet batch (train_dataloader) and one FEC batch per iteration.
train_cfg = dict(
    main_task='expression',
    extra_dataloaders=dict(triplet={{_base_.fec_train_dataloader}}))
