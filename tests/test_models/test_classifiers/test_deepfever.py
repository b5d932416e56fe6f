"""DeepFEVER: routing of task batches, loss weights, feature extraction."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS

from test_models.test_heads.test_deepfever_heads import (triplet_samples,
                                                         va_samples)

TINY = dict(
    type='DeepFEVER',
    data_preprocessor=dict(num_classes=7),
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    heads=dict(
        expression=dict(type='ExpressionVAHead', num_classes=7,
                        in_channels=512),
        triplet=dict(type='FECTripletHead', in_channels=512)))


def batch(samples, size=32):
    return dict(inputs=[torch.randint(0, 255, (3, size, size),
                                      dtype=torch.uint8) for _ in samples],
                data_samples=samples)


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(TINY, **kwargs))
    model.init_weights()
    return model


def test_train_step_routes_each_batch_to_its_head():
    model = build()
    ow = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    data = dict(expression=batch(va_samples(4)),
                triplet=batch(triplet_samples()))
    log = model.train_step(data, ow)
    assert set(log) == {'loss', 'expression.loss_cls', 'expression.loss_va',
                        'triplet.loss_triplet'}
    assert log['loss'].item() == pytest.approx(
        sum(v.item() for k, v in log.items() if k != 'loss'), rel=1e-5)
    # A plain triplet batch goes to the triplet head, a plain one to the
    # expression head.
    assert set(model.train_step(batch(triplet_samples()), ow)) == {
        'loss', 'triplet.loss_triplet'}
    assert 'expression.loss_cls' in model.train_step(
        batch(va_samples(4)), ow)
    with pytest.raises(KeyError, match='unknown task'):
        model.train_step(dict(fec=batch(triplet_samples())), ow)


def test_task_weights_scale_each_task():
    model = build()
    model.eval()  # fixed BatchNorm statistics: same features both times
    data = dict(expression=batch(va_samples(4)),
                triplet=batch(triplet_samples()))
    pre = {k: model.data_preprocessor(v, False) for k, v in data.items()}
    base = model.multi_task_loss(pre)
    model.task_weights = dict(expression=2.0, triplet=0.5)
    weighted = model.multi_task_loss(pre)
    for key, value in base.items():
        factor = 2.0 if key.startswith('expression') else 0.5
        assert weighted[key].item() == pytest.approx(factor * value.item(),
                                                     rel=1e-5)


def test_predict_extract_feat_and_head_property():
    model = build()
    model.eval()
    out = model.val_step(batch(va_samples(3)))
    assert 'pred_valence' in out[0] and 'pred_label' in out[0]
    out = model.val_step(batch(triplet_samples()))
    assert out[0].pred_embedding.shape == (16, )
    feats = model.extract_feat(torch.randn(2, 3, 32, 32))
    assert isinstance(feats, tuple) and feats[0].shape == (2, 512)
    assert model.head is model.heads['expression']
    assert model(torch.randn(2, 3, 32, 32), mode='tensor').shape == (2, 7)


def test_image_classifier_init_only_assigns_its_head_argument():
    """DeepFEVER.head is a property standing in for ImageClassifier's head
    attribute: it needs ImageClassifier.__init__ to assign its ``head``
    argument (None for DeepFEVER) to ``self.head`` and nothing else."""
    from mmpretrain.models.classifiers import ImageClassifier
    assigned = []

    class Probe(ImageClassifier):

        @property
        def head(self):
            return None

        @head.setter
        def head(self, value):
            assigned.append(value)

    Probe(backbone=torch.nn.Identity())
    assert assigned == [None]


def test_preprocessor_moved_alone_moves_the_data():
    # data_preprocessor.to(...) called directly (not through the model)
    # must move the inner per-batch preprocessor too: it moves the data.
    from kent_mm.models import MultiTaskDataPreprocessor
    pre = MultiTaskDataPreprocessor(
        dict(mean=[0., 0., 0.], std=[1., 1., 1.])).to('meta')
    data = batch(va_samples(2), size=8)
    assert pre(data)['inputs'].device.type == 'meta'
    out = pre(dict(expression=data), True)
    assert out['inputs']['expression'].device.type == 'meta'


def test_config_errors():
    with pytest.raises(ValueError, match='main_task'):
        build(main_task='va')
    with pytest.raises(ValueError, match='unknown task'):
        build(task_weights=dict(fec=1.0))
    with pytest.raises(ValueError, match='at least one head'):
        build(heads=dict())


def multi_task_data():
    return dict(expression=batch(va_samples(4)),
                triplet=batch(triplet_samples()))


def test_multi_task_batch_is_a_regular_model_input():
    """The preprocessor turns {task: batch} into forward() kwargs, as MMEngine
    (and its DDP wrapper) call it: data_preprocessor(data, True) then
    model(**data, mode='loss')."""
    from kent_mm.models import MultiTaskDataPreprocessor
    model = build()
    assert isinstance(model.data_preprocessor, MultiTaskDataPreprocessor)
    data = model.data_preprocessor(multi_task_data(), True)
    assert set(data) == {'inputs', 'data_samples'}
    assert data['inputs']['expression'].shape == (4, 3, 32, 32)
    assert data['inputs']['triplet'].dtype == torch.float32
    assert len(data['data_samples']['triplet']) == 6
    losses = model(**data, mode='loss')
    assert set(losses) == {'expression.loss_cls', 'expression.loss_va',
                           'triplet.loss_triplet'}
    # A plain batch is preprocessed as by the per-batch preprocessor.
    plain = model.data_preprocessor(batch(va_samples(2)), False)
    assert plain['inputs'].shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="mode='loss'"):
        model(**data, mode='predict')
    # No preprocessor buffers in the checkpoint: old checkpoints still load.
    assert not [k for k in model.state_dict() if 'preprocessor' in k]


def test_explicit_multi_task_preprocessor_config():
    model = build(data_preprocessor=dict(
        type='MultiTaskDataPreprocessor',
        preprocessor=dict(num_classes=7, mean=[0., 0., 0.],
                          std=[255., 255., 255.])))
    inner = model.data_preprocessor.preprocessor
    assert type(inner).__name__ == 'ClsDataPreprocessor'
    data = model.data_preprocessor(multi_task_data(), True)
    assert data['inputs']['expression'].max() <= 1.0


def test_mmengine_ddp_train_step_on_multi_task_batch(tmp_path):
    """MMDistributedDataParallel.train_step (never DeepFEVER's own) on a
    {task: batch} dict, gloo at world size 1: same losses as one process."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    assert not dist.is_initialized()
    dist.init_process_group(
        'gloo', init_method=f"file://{tmp_path / 'pg'}", rank=0,
        world_size=1)
    try:
        model, reference = build(), build()
        model.eval(), reference.eval()  # fixed BatchNorm statistics
        ddp = MMDistributedDataParallel(model)
        ow = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.01))
        data = multi_task_data()
        log = ddp.train_step(data, ow)
        expected = reference.train_step(
            data, OptimWrapper(torch.optim.SGD(reference.parameters(),
                                               lr=0.01)))
        assert set(log) == set(expected)
        for key in log:
            assert log[key].item() == pytest.approx(expected[key].item(),
                                                    rel=1e-5), key
        for (name, p), q in zip(model.named_parameters(),
                                reference.parameters()):
            assert torch.allclose(p, q, atol=1e-6), name
    finally:
        dist.destroy_process_group()
