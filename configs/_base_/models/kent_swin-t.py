# KENT on Swin-T, official setting: 112x112 input with patch size 2 (the
# token grid of 224/4), drop path 0.1, embedding head 768 -> 768 -> 512.
_base_ = ['mmpretrain::_base_/models/swin_transformer/tiny_224.py']

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        img_size=112,
        patch_size=2,
        drop_path_rate=0.1,
        out_indices=(3, ),
        # ImageNet weights; the 4x4 patch kernel is folded into 2x2 (the
        # patch-2 tokens of a 112 px face equal the patch-4 tokens of the
        # face upsampled to 224). Offline: init_cfg=None.
        init_cfg=dict(
            type='PatchFoldPretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'swin-transformer/swin_tiny_224_b16x64_300e_imagenet_'
            '20210616_090925-66df6be6.pth',
            prefix='backbone')),
    neck=dict(
        _delete_=True,
        type='E2NNeck',
        in_channels=768,
        mid_channels=768,
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
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        loss_transform=dict(type='EmotionalToNeutralLoss', loss_weight=1.0),
        # The authors' all-pairs L_c (mode='matched' is the ablation).
        loss_contrast=dict(type='SelfContrastLoss', mode='all_pairs',
                           loss_weight=1.0),
    ),
    # KENT's losses need hard labels: no Mixup/CutMix (official code: none).
    train_cfg=None,
)
