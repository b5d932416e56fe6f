# FER2013 model-zoo recipe, baseline: LinearClsHead (label smoothing 0.1).
# Model-zoo config of baseline_resnet18_fer2013-112px.
_base_ = ['./_base_/baseline_fer2013_48.py', './_base_/zoo_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
train_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_test_pipeline}}))
