# KENT on ResNet-18: the backbone of its twin ./baseline_resnet18.py (ImageNet
# weights) -> E2N neck (n, v) -> text-embedding head.
_base_ = ['./baseline_resnet18.py']

model = dict(
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
