# The DeepFEVER Swin-T encoder alone (backbone + GAP -> (N, 768)), see
# ./deepfever_resnet18_encoder.py. Weights come from the checkpoint.
_base_ = [
    './deepfever_resnet18_encoder.py', './_base_/models/swin-t_112.py'
]

model = dict(backbone=dict(_base_.swin_backbone, init_cfg=None))
