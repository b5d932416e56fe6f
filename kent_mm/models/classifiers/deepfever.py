"""DeepFEVER: one encoder, several FER tasks, one optimiser step."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .multi_task_preprocessor import (MultiTaskDataPreprocessor,
                                      is_multi_task_batch)


def _is_multi_task_type(type_) -> bool:
    """Whether a config ``type`` names :class:`MultiTaskDataPreprocessor`."""
    if isinstance(type_, str):
        type_ = MODELS.get(type_)
    return isinstance(type_, type) and issubclass(type_,
                                                  MultiTaskDataPreprocessor)


def _build_multi_task(cfg: dict,
                      train_cfg: Optional[dict]) -> MultiTaskDataPreprocessor:
    """Build an explicit ``MultiTaskDataPreprocessor`` config, with the
    defaults ``ImageClassifier`` gives a plain one (type, batch augments)
    applied to the per-batch preprocessor."""
    cfg = dict(cfg)
    inner = cfg.get('preprocessor')
    if not isinstance(inner, nn.Module):
        inner = dict(inner or {})
        inner.setdefault('type', 'ClsDataPreprocessor')
        inner.setdefault('batch_augments', train_cfg)
        cfg['preprocessor'] = inner
    return MODELS.build(cfg)


@MODELS.register_module()
class DeepFEVER(ImageClassifier):
    """A general facial-expression feature extractor trained on several
    tasks at once (after Schoneveld & Othmani, 2022).

    One encoder (``backbone`` + ``neck``) feeds one head per task, e.g.
    ``heads=dict(expression=ExpressionVAHead(...), triplet=FECTripletHead(
    ...))``. A training step receives a **dict of batches keyed by task
    name** (``{'expression': affectnet_batch, 'triplet': fec_batch}``, as
    :class:`~kent_mm.engine.MultiTaskIterBasedTrainLoop` yields them), sends
    every batch through the shared encoder (one forward pass when the image
    sizes agree, so BatchNorm sees both sources), routes the features of each
    batch to the head of its task, and optimises::

        L = Σ_task task_weights[task] · Σ (losses of heads[task])

    Loss names in the log are ``<task>.<loss name>``. The ``{task: batch}``
    dict is a regular model input: :class:`MultiTaskDataPreprocessor`
    preprocesses each task's batch and ``forward(inputs={task: ...},
    data_samples={task: ...}, mode='loss')`` returns the losses, so MMEngine's
    own ``train_step`` (one process, or ``MMDistributedDataParallel``'s)
    trains the model. A plain batch (no task
    keys, e.g. from MMEngine's standard loops) is routed by its content:
    samples with triplet metainfo go to ``triplet_task``, others to
    ``main_task``. ``predict`` follows the same rule, so validation on an
    expression dataset evaluates the expression head, and on FEC the
    embedding.

    As a feature extractor: :meth:`extract_feat` (inherited from
    ``ImageClassifier``) returns the pooled encoder features, e.g.
    ``(N, 512)`` for ResNet-18, ``(N, 768)`` for Swin-T.

    Args:
        backbone (dict): Backbone config.
        neck (dict, optional): Neck config (``GlobalAveragePooling``).
        heads (dict[str, dict]): Head config per task name.
        task_weights (dict[str, float], optional): Weight of each task's
            losses (default 1 for each task).
        main_task (str): Task of plain (non-triplet) batches, of
            ``forward(mode='tensor')`` and of :attr:`head`.
        triplet_task (str): Task of batches with triplet metainfo.
        pretrained (str, optional): Checkpoint of the whole model.
        train_cfg (dict, optional): Batch augments (apply to every task).
        data_preprocessor (dict | nn.Module, optional): The per-batch
            preprocessor (``ClsDataPreprocessor`` by default), shared by all
            tasks. It is wrapped in :class:`MultiTaskDataPreprocessor`,
            which runs it on each batch of a ``{task: batch}`` dict (an
            explicit ``MultiTaskDataPreprocessor`` config is used as is).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 heads: Optional[Dict[str, dict]] = None,
                 task_weights: Optional[Dict[str, float]] = None,
                 main_task: str = 'expression',
                 triplet_task: str = 'triplet',
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict) and _is_multi_task_type(
                data_preprocessor.get('type')):
            data_preprocessor = _build_multi_task(data_preprocessor,
                                                  train_cfg)
        super().__init__(backbone=backbone, neck=neck, head=None,
                         pretrained=pretrained, train_cfg=train_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        # The configured preprocessor handles one batch; the wrapper runs it
        # on every task's batch of a {task: batch} dict.
        if not isinstance(self.data_preprocessor, MultiTaskDataPreprocessor):
            self.data_preprocessor = MultiTaskDataPreprocessor(
                self.data_preprocessor)
        if not heads:
            raise ValueError('DeepFEVER needs at least one head (field '
                             '`model.heads`, a dict task name -> head).')
        if main_task not in heads:
            raise ValueError(f'DeepFEVER: main_task={main_task!r} is not a '
                             f'key of model.heads {sorted(heads)}.')
        task_weights = dict(task_weights or {})
        unknown = set(task_weights) - set(heads)
        if unknown:
            raise ValueError(f'DeepFEVER: model.task_weights names unknown '
                             f'task(s) {sorted(unknown)}; heads are '
                             f'{sorted(heads)}.')
        self.heads = nn.ModuleDict({
            name: cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)
            for name, cfg in heads.items()
        })
        self.task_weights = {
            name: float(task_weights.get(name, 1.0))
            for name in self.heads
        }
        self.main_task = main_task
        self.triplet_task = triplet_task

    # Tools and hooks read the head from ``model.head``; DeepFEVER's heads
    # (one per task, fed by different datasets) live in ``heads``, so
    # ``head`` is a property returning the main task's head (registered
    # once: no duplicate checkpoint keys). No public MMPretrain API replaces
    # it; it relies on ``ImageClassifier.__init__`` assigning only its
    # ``head`` argument (None here) to ``self.head``, which
    # test_deepfever.py checks.
    @property
    def head(self) -> Optional[nn.Module]:
        """The head of :attr:`main_task`."""
        # None while ``__init__`` has not set the heads yet.
        heads = getattr(self, 'heads', None)
        task = getattr(self, 'main_task', None)
        return heads[task] if heads is not None and task else None

    @head.setter
    def head(self, value) -> None:
        if value is not None:
            raise AttributeError('DeepFEVER: set model.heads, not head.')

    # --------------------------------------------------------------- routing
    @staticmethod
    def is_multi_task_batch(data) -> bool:
        """Whether ``data`` is ``{task: batch}`` rather than one batch."""
        return is_multi_task_batch(data)

    def task_of(self, data_samples: Optional[List[DataSample]]) -> str:
        """The task of a plain batch, from its samples' metainfo."""
        if data_samples and data_samples[0] is not None and \
                'triplet_pos' in data_samples[0]:
            if self.triplet_task not in self.heads:
                raise ValueError(
                    'DeepFEVER: a triplet batch arrived but there is no '
                    f'head {self.triplet_task!r} (model.triplet_task).')
            return self.triplet_task
        return self.main_task

    # ------------------------------------------------------------- training
    # No ``train_step`` override: MMEngine's ``BaseModel.train_step`` (one
    # process) and ``MMDistributedDataParallel.train_step`` (DDP, which never
    # calls the module's) both run ``data_preprocessor`` on the
    # ``{task: batch}`` dict (:class:`MultiTaskDataPreprocessor`) and then
    # ``forward(**data, mode='loss')``. So both go through the same code, and
    # under DDP the forward runs in the wrapper: gradients are all-reduced.
    def forward(self,
                inputs: Union[torch.Tensor, Dict[str, torch.Tensor]],
                data_samples: Union[List[DataSample],
                                    Dict[str, List[DataSample]], None] = None,
                mode: str = 'tensor'):
        """The entry of ``train_step``, ``val_step`` and ``test_step``.

        Args:
            inputs (Tensor | dict[str, Tensor]): One batch ``(N, C, H, W)``
                or, in ``'loss'`` mode, ``{task: (N_t, C, H_t, W_t)}`` (a
                preprocessed multi-task batch).
            data_samples (list[DataSample] | dict[str, list], optional):
                The batch's samples, or ``{task: samples}`` with a dict
                ``inputs``.
            mode (str): ``'tensor'``, ``'predict'`` or ``'loss'``.

        Returns:
            As ``ImageClassifier.forward``; in ``'loss'`` mode the losses
            ``'<task>.<name>'`` (see :meth:`multi_task_loss`).
        """
        if isinstance(inputs, dict) and mode != 'loss':
            raise ValueError(
                f'DeepFEVER: a {{task: batch}} input only has losses (mode='
                f"'loss'), got mode={mode!r}; predict one batch at a time.")
        return super().forward(inputs, data_samples, mode)

    def encode_batches(self, batches: Dict[str, dict]
                       ) -> Dict[str, Tuple[torch.Tensor, ...]]:
        """Encoder features of each task's batch.

        Batches whose inputs have the same ``(C, H, W)`` go through the
        encoder together (one pass); otherwise one pass per batch.

        Args:
            batches (dict[str, dict]): ``{task: dict(inputs=(N_t, C, H, W),
                ...)}`` (preprocessed).

        Returns:
            dict[str, tuple[Tensor]]: ``{task: neck outputs of its N_t
            images}``.
        """
        tasks = list(batches)
        inputs = [batches[t]['inputs'] for t in tasks]
        if len({tuple(x.shape[1:]) for x in inputs}) == 1:
            feats = self.extract_feat(torch.cat(inputs))
            sizes = [x.size(0) for x in inputs]
            split = [f.split(sizes) for f in feats]
            return {t: tuple(s[i] for s in split) for i, t in enumerate(tasks)}
        return {t: self.extract_feat(x) for t, x in zip(tasks, inputs)}

    def multi_task_loss(self, batches: Dict[str, dict]
                        ) -> Dict[str, torch.Tensor]:
        """Weighted losses of every task.

        Args:
            batches (dict[str, dict]): Preprocessed ``{task: batch}``.

        Returns:
            dict[str, Tensor]: ``'<task>.<name>'`` → value; loss terms are
            multiplied by ``task_weights[task]``.
        """
        unknown = set(batches) - set(self.heads)
        if unknown:
            raise KeyError(f'DeepFEVER: batches for unknown task(s) '
                           f'{sorted(unknown)}; heads are {sorted(self.heads)}'
                           ' (loop dataloader names must match model.heads).')
        feats = self.encode_batches(batches)
        losses = {}
        for task, batch in batches.items():
            weight = self.task_weights[task]
            for name, value in self.heads[task].loss(
                    feats[task], batch['data_samples']).items():
                if 'loss' in name:
                    value = weight * value
                losses[f'{task}.{name}'] = value
        return losses

    def loss(self,
             inputs: Union[torch.Tensor, Dict[str, torch.Tensor]],
             data_samples: Union[List[DataSample],
                                 Dict[str, List[DataSample]]]) -> dict:
        """Losses of a multi-task batch, or of one batch routed by
        :meth:`task_of`.

        Args:
            inputs (Tensor | dict[str, Tensor]): ``(N, C, H, W)`` or
                ``{task: (N_t, C, H_t, W_t)}`` (preprocessed).
            data_samples (list[DataSample] | dict[str, list]): The samples
                of ``inputs`` (a dict with the same keys for a dict).

        Returns:
            dict[str, Tensor]: See :meth:`multi_task_loss`.
        """
        if isinstance(inputs, dict):
            if not isinstance(data_samples, dict) or \
                    set(data_samples) != set(inputs):
                raise ValueError(
                    'DeepFEVER: a multi-task batch needs data_samples with '
                    f'the same task keys as inputs {sorted(inputs)}.')
            return self.multi_task_loss({
                task: dict(inputs=x, data_samples=data_samples[task])
                for task, x in inputs.items()
            })
        task = self.task_of(data_samples)
        return self.multi_task_loss(
            {task: dict(inputs=inputs, data_samples=data_samples)})

    # ------------------------------------------------------------ inference
    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Predictions of the head that fits the batch (see ``task_of``)."""
        feats = self.extract_feat(inputs)
        return self.heads[self.task_of(data_samples)].predict(
            feats, data_samples, **kwargs)
