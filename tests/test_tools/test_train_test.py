"""End-to-end: tools/train.py, tools/test.py, dist, Swin-T, plug-in, --amp.

The command-line cases run the real tools on a tiny synthetic RAF-DB at
32x32; the KENT ResNet-18 they share is the session's ``kent_checkpoint``
(trained by tools/train.py) and its ``kent_test_run`` (tools/test.py).
Resuming from the command line is covered by tests/test_reliability.
"""
import os
import os.path as osp
import pickle
import re
import subprocess

import pytest
import torch
from mmengine.hooks import Hook

from kent_mm.utils import checkpoint_safe_globals

from kent_testing import (REPO, RAFDB_CLASSES, build_runner, cached_config,
                          check, free_port, run_tool, write_tiny_config)


def test_train_saves_checkpoint_with_text_buffers_and_meta(kent_checkpoint):
    from kent_mm.utils import safe_load
    state = safe_load(kent_checkpoint['checkpoint'])
    assert state['state_dict']['head.text_ready'].item() is True
    assert state['state_dict']['head.text_embeds'].shape == (7, 512)
    assert tuple(state['meta']['dataset_meta']['classes']) == RAFDB_CLASSES


def test_test_tool_needs_no_text_encoder(kent_test_run):
    # kent_test_run's config names a text file that does not exist:
    # test.py predicts from the checkpoint alone.
    assert re.search(r'accuracy/top1: \d+\.\d+', kent_test_run['log'])


def test_save_load_predict_round_trip_without_text_encoder(
        kent_checkpoint, kent_test_run, rafdb_root, monkeypatch):
    from mmpretrain import ImageClassificationInferencer, get_model

    from kent_mm.models.text import PrecomputedTextEmbeddings
    from kent_mm.utils import checkpoint_safe_globals, safe_load
    monkeypatch.setattr(PrecomputedTextEmbeddings, '__call__',
                        lambda *a: pytest.fail('text source used at load'))
    ckpt = kent_checkpoint['checkpoint']
    with checkpoint_safe_globals():  # a training checkpoint
        model = get_model(kent_checkpoint['config'], pretrained=ckpt,
                          device='cpu')
    state = safe_load(ckpt)
    assert torch.equal(model.head.text_embeds,
                       state['state_dict']['head.text_embeds'])
    with open(kent_test_run['preds'], 'rb') as f:
        by_path = {d['img_path']: d for d in pickle.load(f)}
    images = sorted(by_path)[:3]
    assert all(osp.dirname(p) == osp.join(rafdb_root, 'Image', 'aligned')
               for p in images)
    results = ImageClassificationInferencer(model)(images)
    assert [r['pred_class'] in RAFDB_CLASSES for r in results] == [True] * 3
    for path, res in zip(images, results):
        assert abs(res['pred_scores'].sum() - 1) < 1e-4
        # The same prediction as tools/test.py on the same checkpoint.
        ref = by_path[path]
        assert res['pred_label'] == int(ref['pred_label'])
        assert torch.allclose(torch.as_tensor(res['pred_scores']),
                              ref['pred_score'].float(), atol=1e-5)


def test_gradients_reach_backbone_and_neck_not_text(kent_checkpoint):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg = cached_config(kent_checkpoint['config'])
    model = MODELS.build(cfg.model)
    model.init_weights()
    before = model.head.text_embeds.clone()
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = torch.randn(4, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in (0, 3, 6, 5)]
    losses = model(inputs, samples, mode='loss')
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.neck.embed[0].weight.grad.abs().sum() > 0
    assert model.neck.neutral[0].weight.grad.abs().sum() > 0
    assert all('text' not in n for n, _ in model.named_parameters())
    optim.step()
    assert torch.equal(model.head.text_embeds, before)


class _CountIters(Hook):

    def __init__(self):
        self.count = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.count += 1


def test_swin_t_trains_to_checkpoint_and_resumes(rafdb_root, rafdb_text,
                                                 tmp_path, lean_runner):
    """KENT Swin-T (32 px, padded windows): one epoch of one iteration to
    a checkpoint, then a resumed run does epoch 2 only."""
    cfg = write_tiny_config(
        tmp_path / 'cfg.py', 'kent_swin-t_rafdb.py', rafdb_root, rafdb_text,
        max_epochs=1, train_dataset=dict(indices=4),
        extra='val_dataloader = None\nval_cfg = None\nval_evaluator = None')
    work = tmp_path / 'work'
    build_runner(cfg, work).train()
    assert osp.isfile(work / 'epoch_1.pth')
    resumed = cached_config(cfg)
    resumed.train_cfg.max_epochs = 2
    resumed.resume = True
    runner = build_runner(resumed, work)
    count = _CountIters()
    runner.register_hook(count)
    with checkpoint_safe_globals():  # resume loads MMEngine runner state
        runner.train()
    assert (runner.epoch, runner.iter, count.count) == (2, 2, 1)
    assert osp.isfile(work / 'epoch_2.pth')


@pytest.mark.runtime(22)
def test_dist_train_and_test_two_cpu_processes(rafdb_root, rafdb_text,
                                               tmp_path):
    cfg = write_tiny_config(tmp_path / 'cfg.py', 'kent_resnet18_rafdb.py',
                            rafdb_root, rafdb_text, max_epochs=1)
    work_dir = str(tmp_path / 'work')
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', work_dir],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = check(proc)
    # World size 2, and each rank trained on half of the 14 images: one
    # iteration of batch 4 per epoch (a single process runs 3).
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # MMEngine's name for the world size
    assert re.search(r'Epoch\(train\) \[1\]\[1/1\]', log), log[-3000:]
    assert "backend='gloo'" in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

    env['PORT'] = str(free_port())
    proc = subprocess.run(
        ['bash', 'tools/dist_test.sh', cfg,
         osp.join(work_dir, 'epoch_1.pth'), '2', '--work-dir',
         str(tmp_path / 'test')],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = check(proc)
    assert 'GPU number: 2' in log
    assert re.search(r'accuracy/top1: \d+\.\d+', log)


def test_plugin_config_outside_package_with_mmpretrain_bases(
        rafdb_root, rafdb_text, tmp_path):
    """Another project: mmpretrain:: bases + custom_imports, MMPretrain's own
    tools/train.py, one iteration."""
    import mmpretrain
    text = rafdb_text
    cfg = tmp_path / 'my_project_cfg.py'
    cfg.write_text(f"""
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['kent_mm'], allow_failed_imports=False)
classes = {RAFDB_CLASSES!r}
model = dict(
    neck=dict(_delete_=True, type='E2NNeck', in_channels=512),
    head=dict(_delete_=True, type='KENTHead', num_classes=7,
              class_names=classes, in_channels=512,
              text_embeddings=dict(type='PrecomputedTextEmbeddings',
                                   file={text!r})))
pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=32),
            dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0,
    dataset=dict(type='RAFDB', data_root={rafdb_root!r}, split='train',
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True), drop_last=True)
train_cfg = dict(_delete_=True, by_epoch=False, max_iters=1, val_interval=100)
val_cfg = None
test_cfg = None
param_scheduler = None
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=1))
log_processor = dict(by_epoch=False)
""")
    mm_train = osp.join(mmpretrain.__path__[0], '.mim', 'tools', 'train.py')
    work_dir = str(tmp_path / 'work')
    log = check(
        run_tool([mm_train, str(cfg), '--work-dir', work_dir,
                  '--no-persistent-workers', '--no-pin-memory'],
                 cwd=str(tmp_path)))
    assert re.search(r'Iter\(train\) \[1/1\].*loss_s', log)
    assert osp.isfile(osp.join(work_dir, 'iter_1.pth'))


def test_amp_on_cpu_trains_in_bfloat16(rafdb_root, rafdb_text, tmp_path):
    """Without CUDA, ``--amp`` selects ``BF16OptimWrapper`` (MMPretrain's
    script asks for ``AmpOptimWrapper``, which needs a GPU)."""
    if torch.cuda.is_available():
        pytest.skip('--amp keeps AmpOptimWrapper where CUDA is available')
    cfg = write_tiny_config(tmp_path / 'cfg.py', 'kent_resnet18_rafdb.py',
                            rafdb_root, rafdb_text, max_epochs=1)
    work_dir = str(tmp_path / 'work')
    log = check(
        run_tool([
            'tools/train.py', cfg, '--work-dir', work_dir, '--amp',
            '--no-validate', '--cfg-options',
            'train_dataloader.dataset.indices=4'
        ]))
    assert re.search(r"optim_wrapper = dict\(\s*loss_scale='dynamic',.*?"
                     r"type='BF16OptimWrapper'\)", log, re.S), log[-3000:]
    (line, ) = re.findall(r'Epoch\(train\) \[1\]\[1/1\].*', log)
    loss = float(re.search(r' loss: (\S+)', line).group(1))
    assert torch.isfinite(torch.tensor(loss)), line
    from kent_mm.utils import safe_load
    state = safe_load(osp.join(work_dir, 'epoch_1.pth'))
    assert state['state_dict']['backbone.conv1.weight'].dtype == torch.float32


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_launchers_are_thin(tool):
    with open(osp.join(REPO, 'tools', f'{tool}.py')) as f:
        assert len(f.read().splitlines()) <= 40


def test_launch_arguments_per_machine(monkeypatch):
    """What the launchers add to MMPretrain's command line, with and
    without CUDA (building it starts no process group)."""
    import mmpretrain
    import torch.distributed as dist

    from kent_mm.apis import prepare_mmpretrain_tool
    monkeypatch.setattr(dist, 'init_process_group',
                        lambda **kw: pytest.fail('gloo started'))
    script = osp.join(mmpretrain.__path__[0], '.mim', 'tools', 'train.py')
    args = ['cfg.py', '--amp', '--launcher', 'pytorch']

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    # GPU: MMPretrain's command line (AmpOptimWrapper for --amp, NCCL).
    assert prepare_mmpretrain_tool('train', args) == [script] + args
    workers = ['--cfg-options', 'train_dataloader.num_workers=0']
    assert prepare_mmpretrain_tool('train', ['c.py'] + workers) == [
        script, 'c.py'] + workers + ['--no-persistent-workers']

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    argv = prepare_mmpretrain_tool('train', args)
    assert argv[:len(args) + 1] == [script] + args
    extra = argv[len(args) + 1:]
    assert extra[:2] == ['--no-pin-memory', '--cfg-options']
    assert set(extra[2:]) == {
        'optim_wrapper.type=BF16OptimWrapper', 'env_cfg.dist_cfg.backend=gloo',
        'model_wrapper_cfg.type=MMDistributedDataParallel',
        'model_wrapper_cfg.device_ids=None',
        'model_wrapper_cfg.broadcast_buffers=False'}
    # test.py has no --amp training and no --no-persistent-workers.
    argv = prepare_mmpretrain_tool('test', ['c.py', 'w.pth', '--amp'])
    assert argv[0].endswith(osp.join('tools', 'test.py'))
    assert argv[1:] == ['c.py', 'w.pth', '--amp', '--no-pin-memory']
