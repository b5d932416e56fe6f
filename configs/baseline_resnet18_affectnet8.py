_base_ = [
    './_base_/models/baseline_resnet18.py',
    './_base_/datasets/affectnet8_bs64_112.py',
    './_base_/schedules/kent_sgd_50e.py',
    './_base_/default_runtime.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes={{_base_.num_classes}}))
default_hooks = dict(checkpoint={{_base_.model_selection}})
