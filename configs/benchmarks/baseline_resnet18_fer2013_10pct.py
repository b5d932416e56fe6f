# FER2013 low-data CPU benchmark, baseline: LinearClsHead.
_base_ = ['./_base_/baseline_fer2013_48.py', './_base_/lowdata_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
train_dataloader = dict(
    dataset=dict(
        subset_file='tools/benchmarks/splits/fer2013_train_10pct.txt'))
