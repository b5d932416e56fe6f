# FER2013 low-data CPU benchmark, KENT (same subset, iterations and seeds as
# the baseline).
_base_ = ['./_base_/kent_fer2013_48.py', './_base_/lowdata_cpu.py']
default_hooks = dict(checkpoint={{_base_.model_selection}})
train_dataloader = dict(
    dataset=dict(
        subset_file='tools/benchmarks/splits/fer2013_train_10pct.txt'))
