# Baseline model on FER2013 48x48: ResNet-18 from scratch + MMPretrain's
# LinearClsHead with label smoothing 0.1.
_base_ = [
    '../../_base_/models/baseline_resnet18.py',
    './fer2013_bs64_48.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(init_cfg=None),  # from scratch, offline
    head=dict(
        num_classes={{_base_.num_classes}},
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original')))
