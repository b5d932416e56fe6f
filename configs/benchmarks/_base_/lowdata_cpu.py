# Low-data FER2013 schedule: the `standard` recipe on the committed
# class-stratified 10 % of Training (the leaves' subset_file,
# tools/benchmarks/splits/fer2013_train_10pct.txt: 2,872 faces, 10 % of each
# class drawn with numpy RandomState(0) from the sorted file names): 50
# passes over the subset (44 iterations each, as many as 5 epochs of the
# full set), 2 of them warm-up; the same for every variant.
_base_ = ['./standard_cpu.py']
max_epochs = 50
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, by_epoch=True,
         begin=2, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_begin=25, val_interval=5)
