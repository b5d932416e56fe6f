"""Data preprocessor for ``{task: batch}`` multi-task batches."""
from typing import Any, Union

import torch.nn as nn
from mmengine.model import BaseDataPreprocessor
from mmpretrain.registry import MODELS


def is_multi_task_batch(data: Any) -> bool:
    """Whether ``data`` is ``{task: batch}`` rather than one batch.

    A batch is a dict with ``inputs``; a multi-task batch is a non-empty
    dict of such batches, keyed by task name.
    """
    return isinstance(data, dict) and bool(data) and 'inputs' not in data \
        and all(isinstance(v, dict) and 'inputs' in v for v in data.values())


@MODELS.register_module()
class MultiTaskDataPreprocessor(BaseDataPreprocessor):
    """Preprocess ``{task: batch}`` with one per-batch preprocessor.

    :class:`~kent_mm.engine.MultiTaskIterBasedTrainLoop` yields one batch
    per task, ``{'expression': dict(inputs, data_samples), 'triplet':
    dict(inputs, data_samples)}``. MMEngine's ``BaseModel.train_step`` and
    ``MMDistributedDataParallel.train_step`` both call
    ``model.data_preprocessor(data, True)`` and then ``model(**result,
    mode='loss')``, so the multi-task batch is made a regular model input
    here: every task's batch goes through ``preprocessor`` (normalisation,
    padding, batch augments: as a single-task model) and the result is::

        dict(inputs={task: Tensor (N_t, C, H_t, W_t)},
             data_samples={task: list of N_t DataSample})

    which :class:`~kent_mm.models.DeepFEVER`'s ``forward(..., mode='loss')``
    takes. A plain batch (validation, test, single-task loops) goes through
    ``preprocessor`` unchanged.

    Args:
        preprocessor (dict | BaseDataPreprocessor): The per-batch
            preprocessor or its config (type defaults to
            ``ClsDataPreprocessor``).
    """

    def __init__(self,
                 preprocessor: Union[dict, BaseDataPreprocessor, None] = None
                 ) -> None:
        super().__init__()
        if not isinstance(preprocessor, nn.Module):
            preprocessor = dict(preprocessor or {})
            preprocessor.setdefault('type', 'ClsDataPreprocessor')
            preprocessor = MODELS.build(preprocessor)
        self.preprocessor = preprocessor

    def forward(self, data: dict, training: bool = False) -> dict:
        """Preprocess one batch or a ``{task: batch}`` dict.

        Args:
            data (dict): ``dict(inputs, data_samples)`` or ``{task:
                dict(inputs, data_samples)}`` as collated.
            training (bool): Whether in training (batch augments).

        Returns:
            dict: The preprocessor's output for a plain batch; for a
            multi-task batch ``dict(inputs={task: (N_t, C, H, W)},
            data_samples={task: [DataSample] * N_t})``.
        """
        if not is_multi_task_batch(data):
            return self.preprocessor(data, training)
        inputs, data_samples = {}, {}
        for task, batch in data.items():
            out = self.preprocessor(batch, training)
            inputs[task] = out['inputs']
            data_samples[task] = out.get('data_samples')
        return dict(inputs=inputs, data_samples=data_samples)

    # ``BaseModel.to/cuda/cpu`` move every data preprocessor of the model,
    # but a direct ``data_preprocessor.to(...)`` reaches only this one
    # (``nn.Module.to`` does not call the children's own ``to``): pass the
    # call on to the inner preprocessor, which moves the data.
    def to(self, *args, **kwargs) -> nn.Module:
        super().to(*args, **kwargs)
        self.preprocessor.to(*args, **kwargs)
        return self

    def cuda(self, *args, **kwargs) -> nn.Module:
        super().cuda(*args, **kwargs)
        self.preprocessor.cuda(*args, **kwargs)
        return self

    def cpu(self, *args, **kwargs) -> nn.Module:
        super().cpu(*args, **kwargs)
        self.preprocessor.cpu(*args, **kwargs)
        return self
