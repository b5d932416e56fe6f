# Swin-T as KENT's official code runs it: 112x112 faces with patch size 2
# (the token grid of 224/4), drop path 0.1. Variables for the Swin-T model
# files (`backbone={{_base_.swin_backbone}}` replaces their ResNet-18).
swin_backbone = dict(
    _delete_=True,
    type='SwinTransformer',
    arch='tiny',
    img_size=112,
    patch_size=2,
    drop_path_rate=0.1,
    out_indices=(3, ),
    # ImageNet weights; the 4x4 patch kernel is folded into 2x2 while they
    # load (the patch-2 tokens of a 112 px face equal the patch-4 tokens of
    # the face upsampled to 224). Offline: init_cfg=None.
    init_cfg=[
        dict(type='mmpretrain.PatchFold'),
        dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'swin-transformer/swin_tiny_224_b16x64_300e_imagenet_'
            '20210616_090925-66df6be6.pth',
            prefix='backbone')
    ])
# MMPretrain's Swin initialisation of the other layers (from scratch).
swin_init_cfg = [
    dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
]
