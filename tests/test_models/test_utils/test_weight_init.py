"""ImageNet patch-4 Swin weights initialise KENT's patch-2 Swin-T."""
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401
from kent_testing import REPO, cached_config



def test_folded_kernel_on_image_equals_patch4_on_upsampled_image():
    from kent_mm.models.utils import fold_patch_kernel
    torch.manual_seed(0)
    w4 = torch.randn(96, 3, 4, 4)
    img = torch.randn(2, 3, 16, 16)
    up = F.interpolate(img, scale_factor=2, mode='nearest')
    ref = F.conv2d(up, w4, stride=4)
    out = F.conv2d(img, fold_patch_kernel(w4, 2), stride=2)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_kent_swin_config_loads_the_imagenet_patch_kernel(tmp_path):
    # A checkpoint in the ImageNet Swin-T layout (patch size 4), random.
    cfg = cached_config(osp.join(REPO, 'configs', 'kent_swin-t_rafdb.py'))
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.patch_size == 2 and backbone_cfg.img_size == 112
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        imagenet = MODELS.build(dict(backbone_cfg, patch_size=4,
                                     img_size=224, init_cfg=None))
    state = {f'backbone.{k}': (v.clone().normal_()
                               if v.is_floating_point() else v)
             for k, v in imagenet.state_dict().items()}
    ckpt = str(tmp_path / 'swin_tiny_imagenet.pth')
    torch.save(dict(state_dict=state), ckpt)

    init_cfg = dict(backbone_cfg.init_cfg, checkpoint=ckpt)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(backbone_cfg, init_cfg=init_cfg))
        model.init_weights()
    proj = model.patch_embed.projection
    w4 = state['backbone.patch_embed.projection.weight']
    assert proj.weight.shape == (96, 3, 2, 2)
    # Patch 2 on a 112-px image == patch 4 on it upsampled to 224.
    img = torch.randn(1, 3, 112, 112)
    up = F.interpolate(img, scale_factor=2, mode='nearest')
    ref = F.conv2d(up, w4, state['backbone.patch_embed.projection.bias'],
                   stride=4)
    torch.testing.assert_close(proj(img), ref, atol=1e-5, rtol=1e-5)
    # The other weights load as with `Pretrained`.
    torch.testing.assert_close(
        model.stages[0].blocks[0].attn.w_msa.qkv.weight,
        state['backbone.stages.0.blocks.0.attn.w_msa.qkv.weight'])
