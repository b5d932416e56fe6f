"""DeepFEVER under a real 2-process distributed launch (CPU, gloo).

``tools/dist_train.sh CONFIG 2`` trains DeepFEVER for a few iterations of
the multi-task loop on tiny AffectNet + FEC fixtures, with
``MMDistributedDataParallel`` as the model wrapper. Every rank writes its
parameters, buffers and RNG state (``ddp_dump_hook``); the tests compare
them across ranks and with the checkpoint that rank 0 saved.
"""
import os
import os.path as osp
import subprocess

import pytest
import torch

from fer_fixtures import learnable_affectnet, learnable_fec
from kent_testing import REPO, check, free_port

HERE = osp.dirname(osp.abspath(__file__))
ITERS = 4
PIPE = """[dict(type='LoadFERImage'), dict(type='Resize', scale=(32, 32)),
        dict(type='PackInputs', algorithm_keys=('valence', 'arousal'))]"""
TRIPLET_PIPE = """[dict(type='LoadFERImage'), dict(type='Resize',
        scale=(32, 32)), dict(type='PackInputs')]"""


def write_config(path, expr_root, fec_root, dump_dir) -> str:
    """The DeepFEVER ResNet-18 recipe at 32 px, ``ITERS`` iterations of 4
    expression images + 2 triplets per rank, rank-dependent seeds (so that
    the ranks' RNG states differ), ``RNGStateHook`` and the dump hook."""
    base = osp.join(REPO, 'configs', 'deepfever_resnet18_affectnet-fec.py')
    text = f"""
_base_ = [{base!r}]
custom_imports = dict(imports=['kent_mm', 'ddp_dump_hook'],
                      allow_failed_imports=False)
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={expr_root!r}, pipeline={PIPE}))
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(max_iters={ITERS}, val_interval=1000,
    extra_dataloaders=dict(triplet=dict(batch_size=2, num_workers=0,
        persistent_workers=False,
        dataset=dict(data_root={fec_root!r}, pipeline={TRIPLET_PIPE}))))
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1000))
custom_hooks = [dict(type='RNGStateHook'),
                dict(type='DumpRankStateHook', out_dir={str(dump_dir)!r})]
randomness = dict(seed=29, diff_rank_seed=True)
"""
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope='module')
def dist_run(shared):
    """Work dir, per-rank dumps and log of one 2-process training run."""

    def build(tmp):
        aff = learnable_affectnet(tmp / 'affectnet', per_class=2,
                                  val_per_class=1)
        fec = osp.dirname(learnable_fec(tmp / 'fec', num=12))
        (tmp / 'dump').mkdir()
        cfg = write_config(tmp / 'cfg.py', aff, fec, tmp / 'dump')
        env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
                   PYTHONWARNINGS='ignore',
                   PYTHONPATH=os.pathsep.join(
                       [HERE, os.environ.get('PYTHONPATH', '')]))
        log = check(subprocess.run(
            ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir',
             str(tmp / 'work'), '--no-validate'],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300))
        (tmp / 'log.txt').write_text(log)

    tmp = shared('deepfever_ddp', build)
    ranks = [torch.load(str(tmp / 'dump' / f'rank{r}.pth'),
                        weights_only=False) for r in range(2)]
    return str(tmp / 'work'), ranks, (tmp / 'log.txt').read_text()


@pytest.mark.runtime(14)
def test_deepfever_ddp_ranks_end_with_identical_weights(dist_run):
    """The multi-task batch goes through MMDistributedDataParallel's own
    train_step and forward, so gradients are all-reduced: after training on
    different data, both ranks hold the same parameters."""
    work, (r0, r1), log = dist_run
    assert 'gloo' in log
    assert r0['wrapper'] == r1['wrapper'] == 'MMDistributedDataParallel'
    assert osp.isfile(osp.join(work, f'iter_{ITERS}.pth'))
    assert r0['params'].keys() == r1['params'].keys()
    # Training moved the weights (DDP had started both ranks from rank 0's).
    moved = [k for k, v in r0['params'].items()
             if not torch.equal(v, r0['init'][k])]
    assert any(k.startswith('backbone.') for k in moved)
    assert any(k.startswith('heads.expression.') for k in moved)
    assert any(k.startswith('heads.triplet.') for k in moved)
    diff = [k for k in r0['params']
            if not torch.equal(r0['params'][k], r1['params'][k])]
    assert not diff, f'parameters differ between ranks: {diff[:5]}'
    # The ranks did see different images: BatchNorm running statistics, not
    # all-reduced, differ. So equal parameters come from the all-reduce.
    assert not torch.equal(r0['buffers']['backbone.bn1.running_mean'],
                           r1['buffers']['backbone.bn1.running_mean'])


def test_rng_state_hook_checkpoints_the_state_of_every_rank(dist_run):
    """Rank 0's checkpoint holds each rank's RNG state, gathered over gloo
    when the last iteration ended (checkpoints are saved by rank 0 only)."""
    from kent_mm.utils import safe_load
    work, ranks, _ = dist_run
    saved = safe_load(osp.join(work, f'iter_{ITERS}.pth'))['rng_state']
    assert saved['world_size'] == 2 and len(saved['ranks']) == 2
    for r, dump in enumerate(ranks):
        state = saved['ranks'][r]
        assert torch.equal(state['torch'], dump['rng_state']['torch']), r
        assert torch.equal(state['python']['state'],
                           dump['rng_state']['python']['state']), r
        assert torch.equal(state['numpy']['keys'],
                           dump['rng_state']['numpy']['keys']), r
    # diff_rank_seed: the two states differ, so rank 1's is not rank 0's.
    assert not torch.equal(saved['ranks'][0]['torch'],
                           saved['ranks'][1]['torch'])
