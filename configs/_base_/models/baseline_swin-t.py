# Plain-label twin of KENT Swin-T: the same backbone setting, GAP +
# LinearClsHead with plain cross-entropy (no Mixup/CutMix/label smoothing,
# as KENT).
_base_ = ['./baseline_resnet18.py', './swin-t_112.py']

model = dict(
    backbone={{_base_.swin_backbone}},
    head=dict(in_channels=768),
    init_cfg={{_base_.swin_init_cfg}})
