# Plain-label twin of KENT ResNet-18 (./kent_resnet18.py builds on it): GAP +
# LinearClsHead (MMPretrain). The (backbone, dataset) config sets
# head.num_classes and the data preprocessor from the dataset file.
_base_ = ['mmpretrain::_base_/models/resnet18.py']

model = dict(
    backbone=dict(
        # ImageNet weights (the official code starts from face-recognition
        # weights that were not released). Offline: set init_cfg=None.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
            prefix='backbone')),
    head=dict(topk=(1, )))
