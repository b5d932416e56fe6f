# Official KE2NT schedule (RAF-DB, Swin-T): SGD 0.002, momentum 0.9, wd 5e-4,
# 50 epochs, batch 64; 1 warm-up epoch at a constant 1e-4, then cosine.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=5e-4))

param_scheduler = [
    # 0.002 * 0.05 = 1e-4 for every iteration of the first epoch. MMEngine's
    # ConstantLR restores the rate at its last step (end - 1): with end=2
    # epochs that is the start of epoch 2, as the official warm-up. (end=1
    # would never restore it; converted to iterations, the last iteration of
    # epoch 1 would already run at 0.002.)
    dict(type='ConstantLR', factor=0.05, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max=50, by_epoch=True, begin=1, end=50),
]

train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# lr above is for a total batch of 64 (--auto-scale-lr rescales it).
auto_scale_lr = dict(base_batch_size=64)
