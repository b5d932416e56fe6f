# FER2013 `standard` CPU benchmark, KENT (same data, schedule and seed as
# the baseline).
_base_ = ['./_base_/kent_fer2013_48.py', './_base_/standard_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
