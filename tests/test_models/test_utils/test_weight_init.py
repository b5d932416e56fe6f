"""ImageNet patch-4 Swin weights initialise KENT's patch-2 Swin-T."""
import os.path as osp
from typing import Union

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import kent_mm  # noqa: F401
from kent_mm.models.utils import fold_patch_kernel
from kent_testing import REPO, cached_config


def test_folded_kernel_on_image_equals_patch4_on_upsampled_image():
    torch.manual_seed(0)
    w4 = torch.randn(96, 3, 4, 4)
    img = torch.randn(2, 3, 16, 16)
    up = F.interpolate(img, scale_factor=2, mode='nearest')
    ref = F.conv2d(up, w4, stride=4)
    out = F.conv2d(img, fold_patch_kernel(w4, 2), stride=2)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def with_checkpoint(init_cfg: Union[dict, list], checkpoint: str):
    """``init_cfg`` (a dict or a list) with every ``checkpoint`` replaced."""
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    out = [dict(c, checkpoint=checkpoint) if 'checkpoint' in c else dict(c)
           for c in cfgs]
    return out if isinstance(init_cfg, list) else out[0]


@pytest.mark.runtime(10)
def test_swin_config_loads_every_imagenet_weight_after_children_init(
        tmp_path):
    # A checkpoint in the ImageNet Swin-T layout (patch 4, `backbone.`
    # prefix), random: no value can come from an initialiser by chance.
    cfg = cached_config(osp.join(REPO, 'configs', 'kent_swin-t_rafdb.py'))
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.patch_size == 2 and backbone_cfg.img_size == 112
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        imagenet = MODELS.build(dict(backbone_cfg, patch_size=4,
                                     img_size=224, init_cfg=None))
    state = {f'backbone.{k}': (v.clone().normal_()
                               if v.is_floating_point() else v)
             for k, v in imagenet.state_dict().items()}
    ckpt = str(tmp_path / 'swin_tiny_imagenet.pth')
    torch.save(dict(state_dict=state), ckpt)

    # The classifier with the config's backbone and model-wide init,
    # initialised as the runner does: `init_weights()` of the whole model
    # (children's own `init_weights` re-draw e.g. Swin's position biases).
    init_cfg = with_checkpoint(backbone_cfg.init_cfg, ckpt)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(
            type='ImageClassifier', init_cfg=cfg.model.init_cfg,
            backbone=dict(backbone_cfg, init_cfg=init_cfg)))
        model.init_weights()
    backbone = model.backbone
    loaded = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    assert loaded.keys() == state.keys()
    kernel = 'backbone.patch_embed.projection.weight'
    for key, value in state.items():
        if key != kernel:
            torch.testing.assert_close(loaded[key], value, rtol=0, atol=0,
                                       msg=f'{key} is not the checkpoint\'s')
    assert sum('relative_position_bias_table' in k for k in state) == 12

    # Patch 2 on a 112-px image == patch 4 on it upsampled to 224.
    proj = backbone.patch_embed.projection
    assert proj.weight.shape == (96, 3, 2, 2)
    torch.testing.assert_close(proj.weight, fold_patch_kernel(state[kernel],
                                                              2))
    img = torch.randn(1, 3, 112, 112)
    up = F.interpolate(img, scale_factor=2, mode='nearest')
    ref = F.conv2d(up, state[kernel],
                   state['backbone.patch_embed.projection.bias'], stride=4)
    torch.testing.assert_close(proj(img), ref, atol=1e-5, rtol=1e-5)


def test_patch_fold_refuses_a_module_without_the_kernel_and_a_bad_fold():
    from kent_mm.models.utils import PatchFoldInit
    module = nn.Sequential(nn.Conv2d(3, 8, 2))
    with pytest.raises(ValueError, match=r'fold_keys=\[.projection'):
        PatchFoldInit(fold_keys=['projection.weight'])(module)
    PatchFoldInit(fold_keys=['0.weight'])(module)
    state = dict(module.state_dict(), **{'0.weight': torch.randn(8, 3, 3, 3)})
    with pytest.raises(ValueError, match=r'^0\.weight: .*3x3.* into 2x2'):
        module.load_state_dict(state)
    # A kernel of the module's own size loads unchanged (e.g. a resume).
    own = torch.randn(8, 3, 2, 2)
    module.load_state_dict(dict(state, **{'0.weight': own}))
    torch.testing.assert_close(module[0].weight, own, rtol=0, atol=0)
