# FER2013 model-zoo recipe, KENT (same data, schedule and seed as the
# baseline); text features from a file, as in the `standard` benchmark.
_base_ = ['./_base_/kent_fer2013_48.py', './_base_/zoo_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
train_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.zoo_test_pipeline}}))
