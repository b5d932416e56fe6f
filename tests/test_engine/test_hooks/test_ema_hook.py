"""TTAEMAHook: under ``tools/test.py --tta`` (MMPretrain wraps the
classifier in ``AverageClsScoreTTA``) the test runs on the checkpoint's
weights, as it does without TTA."""
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.runner import Runner

from kent_mm.utils import checkpoint_safe_globals


class _WeightsAtTestStart(Hook):
    """Records which checkpoint tensors the classifier does not hold when
    the test epoch starts (after every other hook)."""
    priority = 'LOWEST'

    def __init__(self, checkpoint: str, out: list) -> None:
        with checkpoint_safe_globals():
            self.state = torch.load(checkpoint, map_location='cpu')[
                'state_dict']
        self.out = out

    def before_test_epoch(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        held = model.state_dict()
        self.out.append(sorted(k for k, v in self.state.items()
                               if not torch.equal(held[k], v)))


def _test_start(kent_checkpoint, tmp_path, ema_type: str, tta: bool):
    """The checkpoint tensors missing at the test start of a Runner built as
    MMPretrain's ``tools/test.py [--tta]`` builds it, with ``ema_type``."""
    cfg = Config.fromfile(kent_checkpoint['config'])
    cfg.custom_hooks = [*cfg.get('custom_hooks', []),
                        dict(type=ema_type, momentum=1e-3,
                             update_buffers=True, priority='ABOVE_NORMAL')]
    if tta:  # as MMPretrain's tools/test.py --tta does without tta_* fields
        cfg.model = ConfigDict(type='AverageClsScoreTTA', module=cfg.model)
        pipeline = cfg.test_dataloader.dataset.pipeline
        pipeline[-1] = dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip',
                                                    prob=0.)],
            [pipeline[-1]]])
    # A checkpoint as EMAHook saves it: the averaged weights in
    # `state_dict`, the raw ones (here: others) in `ema_state_dict`.
    with checkpoint_safe_globals():
        ckpt = torch.load(kent_checkpoint['checkpoint'], map_location='cpu')
    ckpt['ema_state_dict'] = dict(
        steps=torch.tensor(3),
        **{f'module.{k}': v + 1 if v.is_floating_point() else v
           for k, v in ckpt['state_dict'].items()})
    cfg.load_from = str(tmp_path / 'ema.pth')
    torch.save(ckpt, cfg.load_from)
    cfg.work_dir = str(tmp_path / f'{ema_type}_{tta}')
    runner = Runner.from_cfg(cfg)
    missing = []
    runner.register_hook(_WeightsAtTestStart(cfg.load_from, missing))
    with checkpoint_safe_globals():
        runner.test()
    return missing[0]


@pytest.mark.parametrize('tta', [False, True])
def test_the_test_runs_on_the_checkpoint_weights(kent_checkpoint, tmp_path,
                                                 lean_runner, tta):
    assert _test_start(kent_checkpoint, tmp_path, 'TTAEMAHook', tta) == []


def test_mmengine_emahook_still_loses_the_weights_under_tta(
        kent_checkpoint, tmp_path, lean_runner):
    """The reason for TTAEMAHook: if this fails, MMEngine's EMAHook handles
    TTA models itself and the configs can go back to it."""
    assert _test_start(kent_checkpoint, tmp_path, 'EMAHook', False) == []
    assert _test_start(kent_checkpoint, tmp_path, 'EMAHook', True) != []
