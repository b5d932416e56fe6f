# KENT on ResNet-18: backbone -> E2N neck (v, n) -> text-embedding head.
_base_ = ['mmpretrain::_base_/models/resnet18.py']

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        # ImageNet weights (the official code starts from face-recognition
        # weights that were not released). Offline: set init_cfg=None.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
            prefix='backbone')),
    neck=dict(
        _delete_=True,
        type='E2NNeck',
        in_channels=512,
        out_channels=512,
        neutral_channels=128,
        norm_eps=2e-5),  # the authors' embedding head
    head=dict(
        _delete_=True,
        type='KENTHead',
        num_classes=None,  # len(class_names)
        class_names=None,  # set by the (backbone, dataset) config
        in_channels=512,
        logit_scale=100.,
        text_embeddings=dict(
            type='OpenCLIPTextEmbeddings',
            model_name='ViT-B-16-quickgelu',
            pretrained='openai'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),  # λs
        loss_transform=dict(type='EmotionalToNeutralLoss',
                            loss_weight=1.0),  # λt
        # The authors' all-pairs L_c (mode='matched' is the ablation).
        loss_contrast=dict(type='SelfContrastLoss', mode='all_pairs',
                           loss_weight=1.0),  # λc
    ))
