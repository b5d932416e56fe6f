# KENT on Swin-T, official setting (./swin-t_112.py): embedding head
# 768 -> 768 -> 512 and the text head of ./kent_resnet18.py.
_base_ = ['./kent_resnet18.py', './swin-t_112.py']

model = dict(
    backbone={{_base_.swin_backbone}},
    neck=dict(
        in_channels=768,
        mid_channels=768,
        # F_n keeps PyTorch's default initialisation, as the authors' (and
        # as on ResNet-18): the neck's init_cfg runs after the model-wide
        # Swin init below, which reaches every Linear.
        # Scoped name: init_weights() also finds it outside MMPretrain's scope.
        init_cfg=dict(type='mmpretrain.PyTorchDefault',
                      override=dict(name='neutral'))),
    init_cfg={{_base_.swin_init_cfg}})
