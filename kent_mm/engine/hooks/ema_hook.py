"""MMEngine's ``EMAHook``, also under ``tools/test.py --tta``."""
from mmengine.hooks import EMAHook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import MODELS
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class TTAEMAHook(EMAHook):
    """``EMAHook`` that averages the classifier inside a TTA model.

    ``tools/test.py --tta`` wraps the model in a
    :class:`~mmengine.model.BaseTTAModel` (``AverageClsScoreTTA``), which
    ``is_model_wrapper`` does not unwrap, so MMEngine's hook averages the
    wrapper instead of the classifier. With a checkpoint that the hook saved
    (averaged weights in ``state_dict``, the raw ones in ``ema_state_dict``)
    the classifier then starts the test on other weights than the
    checkpoint's ``state_dict`` (MMEngine 0.10.7; the FER2013 zoo KENT model
    scored 11.6% PrivateTest top-1 with TTA against 66.0% without;
    ``tests/test_engine/test_hooks/test_ema_hook.py`` checks that upstream
    still does this). This hook averages the classifier inside the wrapper;
    everywhere else (training, validation, single-crop testing, the saved
    checkpoints) it is ``EMAHook``, with the same arguments.

    Example:
        ``custom_hooks = [dict(type='TTAEMAHook', momentum=1e-3)]``
    """

    def before_run(self, runner) -> None:
        """Create the EMA copy of the classifier (as ``EMAHook`` does for a
        model that is not wrapped for test-time augmentation)."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if isinstance(model, BaseTTAModel):
            model = model.module
        self.src_model = model
        self.ema_model = MODELS.build(
            self.ema_cfg, default_args=dict(model=self.src_model))
