# FER2013 `standard` CPU benchmark, baseline: LinearClsHead.
_base_ = ['./_base_/baseline_fer2013_48.py', './_base_/standard_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
