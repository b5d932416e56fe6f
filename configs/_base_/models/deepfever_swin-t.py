# DeepFEVER on Swin-T: the KENT Swin-T setting (./swin-t_112.py) with
# GAP -> 768-D feature and the DeepFEVER heads.
_base_ = ['./deepfever_resnet18.py', './swin-t_112.py']

model = dict(
    backbone={{_base_.swin_backbone}},
    heads=dict(
        expression=dict(in_channels=768),
        triplet=dict(in_channels=768)),
    init_cfg={{_base_.swin_init_cfg}})
