"""The items of ``gpu_check.py``, each a run of the repository's own tools
as a user types them (docs/gpu_check.md).

Every function takes the running check (``gpu_check.Check``: options,
device, subprocess runner, prepared data) and the item's ``deadline``, and
returns the item's record; a sub-run that fails is recorded in
``runs[name]`` and the next one runs. ``--cfg-options`` never change a
config's model, schedule or input size, except the ``--tiny`` shrink of
:func:`tiny_opts` and what each item names (data roots, offline backbone
and text features, the number of epochs or images).
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List

from gpu_check_report import compare_losses, read_losses, world_size

KENT = {'swin-t': 'configs/kent_swin-t_rafdb.py',
        'resnet18': 'configs/kent_resnet18_rafdb.py'}
DIST = {'kent_resnet18_rafdb': 'configs/kent_resnet18_rafdb.py',
        'ablation kent_swin-t_rafdb_lc-matched':
        'configs/ablations/kent_swin-t_rafdb_lc-matched.py'}
DEEPFEVER = 'configs/deepfever_resnet18_affectnet-fec.py'
FER = {'baseline': 'configs/benchmarks/baseline_resnet18_fer2013_standard.py',
       'kent': 'configs/benchmarks/kent_resnet18_fer2013_standard.py'}
LOADERS = ('train', 'val', 'test')
TINY_PX = 32


# ---------------------------------------------------------------- helpers
def fresh_dir(*parts) -> str:
    """An empty folder (a run's work dir; what an earlier run left goes)."""
    path = osp.join(*parts)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def free_port() -> int:
    """A TCP port nobody listens on now (torch.distributed's store)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sub_runs(chk, names: List[str], fn: Callable) -> Dict[str, dict]:
    """``fn(name)`` for each name, in order (``--jobs 1``) or all at once;
    an exception is that run's record."""

    def one(name):
        start = time.time()
        try:
            rec = dict(status='ok', **fn(name))
        except Exception as e:  # recorded; the next run goes on
            rec = dict(status='failed', error=f'{type(e).__name__}: {e}')
        rec['seconds'] = round(time.time() - start, 1)
        chk.log(f'  {name}: {rec["status"]}' + (
            f' - {rec["error"][:300]}' if 'error' in rec else ''))
        return rec

    with ThreadPoolExecutor(1 if chk.args.jobs == 1 else len(names)) as p:
        return dict(zip(names, p.map(one, names)))


def tiny_opts(loaders, swin: bool = False, batch: int = 4) -> List[str]:
    """What ``--tiny`` shrinks: 32 px instead of 112 (the Resize of every
    pipeline, the train pipeline's RandomCrop; Swin-T pads its small stage
    maps), ``batch`` images a batch, loaders in the main process, a log
    line every iteration."""
    opts = []
    for loader in loaders:
        key = f'{loader}_dataloader'
        opts += [f'{key}.dataset.pipeline.1.scale=({TINY_PX},{TINY_PX})',
                 f'{key}.batch_size={batch}', f'{key}.num_workers=0']
        if loader == 'train':
            opts.append(f'{key}.dataset.pipeline.2.transforms.0.crop_size='
                        f'{TINY_PX}')
    if swin:
        opts += [f'model.backbone.img_size={TINY_PX}',
                 'model.backbone.pad_small_map=True']
    return opts + ['default_hooks.logger.interval=1']


def rafdb_opts(chk, config: str, loaders=LOADERS) -> List[str]:
    """Synthetic RAF-DB, offline backbone init, the random-init text
    features (``tools/build_text_embeddings.py --random-init``)."""
    opts = [f'{x}_dataloader.dataset.data_root={chk.prep["rafdb"]}'
            for x in loaders]
    opts += ['model.backbone.init_cfg=None',
             f'model.head.text_embeddings.cache_file={chk.prep["text_rafdb"]}',
             'model.head.text_embeddings.pretrained=None',
             'model.head.text_embeddings.allow_random_init=True']
    if chk.args.tiny:
        opts += tiny_opts(loaders, swin='swin' in config)
    return opts


def train(chk, config: str, work_dir: str, opts: List[str], deadline: float,
          *flags: str, env=None) -> str:
    """``tools/train.py CONFIG --work-dir W FLAGS --cfg-options OPTS``;
    returns the log file."""
    log = osp.join(work_dir, 'train.log')
    chk.run(chk.py('tools/train.py', config, '--work-dir', work_dir, *flags,
                   '--cfg-options', *opts), log, deadline, env=env)
    return log


def run_test(chk, config: str, ckpt: str, work_dir: str, opts: List[str],
             deadline: float) -> dict:
    """``tools/test.py`` on ``ckpt``: top-1 and mean class accuracy."""
    out = osp.join(work_dir, 'test_metrics.json')
    chk.run(chk.py('tools/test.py', config, ckpt, '--work-dir',
                   osp.join(work_dir, 'test'), '--out', out, '--out-item',
                   'metrics', '--cfg-options', *opts),
            osp.join(work_dir, 'test.log'), deadline)
    with open(out) as f:
        m = json.load(f)
    return dict(top1=m['accuracy/top1'],
                mean_class_acc=m.get('class_acc/mean'))


def _images(chk, images: int) -> int:
    """``images``, or all the synthetic ones if fewer (``--tiny``)."""
    return chk.args.synthetic_images if chk.args.tiny else min(
        images, chk.args.synthetic_images)


def _subset(chk, images: int) -> str:
    """The first ``images`` training images (tiny: all of them)."""
    return f'train_dataloader.dataset.indices={_images(chk, images)}'


def _batch(chk) -> int:
    return 4 if chk.args.tiny else 64


# ------------------------------------------------------------------ items
def train_test(chk, deadline: float) -> dict:
    """(a) The official KENT configs, unmodified but for data, offline
    weights and length: ``tools/train.py --amp`` for ``--epochs`` epochs
    (validated each epoch, as configured), ``tools/test.py`` on the last
    checkpoint."""
    e = chk.args.epochs

    def run(key):
        config = KENT[key]
        wd = fresh_dir(chk.work, f'a_{key}')
        opts = rafdb_opts(chk, config)
        train(chk, config, wd, opts + [f'train_cfg.max_epochs={e}'],
              deadline, '--amp')
        rec = dict(read_losses(wd), config=config, epochs=e,
                   amp='float16' if chk.cuda else 'bfloat16')
        rec['iterations'] = rec['last_iter']
        rec.update(run_test(chk, config, osp.join(wd, f'epoch_{e}.pth'),
                            wd, opts, deadline))
        return rec

    return dict(runs=sub_runs(chk, list(KENT), run))


def resume(chk, deadline: float) -> dict:
    """(b) An uninterrupted 2-epoch run and one resumed (``--resume``)
    from its epoch-1 checkpoint, with the RNG hook and non-persistent
    workers that exact resumption needs (docs/reliability.md); the losses
    of epoch 2 are compared iteration by iteration."""
    config = osp.join(chk.work, 'b_resume_cfg.py')
    with open(config, 'w') as f:
        f.write(f"_base_ = [{osp.join(chk.repo, KENT['resnet18'])!r}]\n"
                "custom_hooks = [*_base_.custom_hooks, "
                "dict(type='RNGStateHook')]\n")
    opts = rafdb_opts(chk, config) + [
        'train_cfg.max_epochs=2', _subset(chk, 640),
        'default_hooks.logger.interval=1', 'log_processor.window_size=1']
    flags = ('--amp', '--no-persistent-workers')
    full = fresh_dir(chk.work, 'b_uninterrupted')
    train(chk, config, full, opts, deadline, *flags)
    per_epoch = read_losses(full)['last_iter'] // 2
    resumed = fresh_dir(chk.work, 'b_resumed')
    ckpt = osp.join(resumed, 'epoch_1.pth')
    shutil.copy(osp.join(full, 'epoch_1.pth'), ckpt)
    with open(osp.join(resumed, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)  # as a run stopped after epoch 1 leaves it
    log = train(chk, config, resumed, opts, deadline, *flags, '--resume')
    with open(log) as f:
        mark = re.search(r'resumed epoch: (\d+)', f.read())  # MMEngine's
    return dict(resume_epoch=1, resumed_epoch=mark and int(mark[1]),
                iters_per_epoch=per_epoch, uninterrupted=read_losses(full),
                resumed=read_losses(resumed),
                comparison=compare_losses(full, resumed, per_epoch))


def dist_train(chk, deadline: float) -> dict:
    """(c) ``bash tools/dist_train.sh CONFIG 2`` for one epoch of 512
    images. Two ranks cannot share one GPU under NCCL, and MMEngine gives
    rank ``r`` the GPU ``LOCAL_RANK=r``: with one GPU the two processes
    are two one-process nodes (``NNODES=2``, ``tools/dist_train.sh CONFIG
    1`` each, both on GPU 0) with the gloo backend. ``--tiny`` launches
    the ablation config that way too (on the CPU), so that the tests run
    both launches."""
    gpus = chk.gpu_count()
    images, batch = 512, _batch(chk)
    n = _images(chk, images)

    def run(name):
        config = DIST[name]
        wd = fresh_dir(chk.work, 'c_' + name.split()[-1])
        opts = rafdb_opts(chk, config) + [
            'train_cfg.max_epochs=1', _subset(chk, images),
            'default_hooks.logger.interval=1']
        env = dict(PORT=str(free_port()))
        if (chk.cuda and gpus < 2) or (chk.args.tiny and 'ablation' in name):
            opts.append('env_cfg.dist_cfg.backend=gloo')
            launch = ('2 nodes x 1 process' +
                      (' on GPU 0' if chk.cuda else '') + ' (gloo)')
            cmds = [(['bash', 'tools/dist_train.sh', config, '1',
                      '--work-dir', wd, '--cfg-options', *opts],
                     osp.join(wd, f'train_node{r}.log'),
                     dict(env, NNODES='2', NODE_RANK=str(r)))
                    for r in range(2)]
        else:
            launch = ('1 node x 2 processes' +
                      (' (CPU: gloo)' if not chk.cuda else ''))
            cmds = [(['bash', 'tools/dist_train.sh', config, '2',
                      '--work-dir', wd, '--cfg-options', *opts],
                     osp.join(wd, 'train_node0.log'), env)]
        chk.run_all(cmds, deadline)
        with open(cmds[0][1]) as f:
            size = world_size(f.read())
        return dict(read_losses(wd), launch=launch, world_size=size,
                    images=n, batch_size=batch,
                    expected_iters=n // 2 // batch)

    return dict(runs=sub_runs(chk, list(DIST), run))


def deepfever(chk, deadline: float) -> dict:
    """(d) DeepFEVER on synthetic AffectNet + FEC: one pass over the
    AffectNet training images (iterations of 64 faces, each with 32 FEC
    triplets), then AffectNet validation."""
    root = chk.prep['affectnet_fec']
    aff, fec = osp.join(root, 'affectnet'), osp.join(root, 'fec')
    with open(osp.join(aff, 'training.csv')) as f:
        rows = sum(1 for _ in f) - 1
    tiny = chk.args.tiny
    batch = _batch(chk)
    iters = max(rows // batch, 2)
    triplet = 'train_cfg.extra_dataloaders.triplet'
    opts = [f'{x}_dataloader.dataset.data_root={aff}' for x in LOADERS]
    opts += [f'{triplet}.dataset.data_root={fec}',
             'model.backbone.init_cfg=None', f'train_cfg.max_iters={iters}',
             f'train_cfg.val_interval={iters}',
             f'default_hooks.checkpoint.interval={iters}',
             'default_hooks.logger.interval=1']
    if tiny:
        opts += tiny_opts(('train', 'val'))
        opts += [f'{triplet}.dataset.pipeline.1.scale=({TINY_PX},{TINY_PX})',
                 f'{triplet}.batch_size=2', f'{triplet}.num_workers=0',
                 f'{triplet}.persistent_workers=False']
    else:
        opts += [f'{x}.num_workers={chk.args.workers}' for x in
                 ('train_dataloader', 'val_dataloader', triplet)]
    wd = fresh_dir(chk.work, 'd_deepfever')
    train(chk, DEEPFEVER, wd, opts, deadline)
    ckpt = osp.join(wd, f'iter_{iters}.pth')
    return dict(read_losses(wd), iterations=iters, affectnet_images=rows,
                checkpoint=osp.basename(ckpt) if osp.isfile(ckpt) else None)


def deterministic(chk, deadline: float) -> dict:
    """(e) ``randomness.deterministic=True`` (``torch.use_deterministic_
    algorithms``: an op without a deterministic CUDA kernel raises) for a
    few iterations of KENT ResNet-18 (twice: the losses must repeat) and
    KENT Swin-T, float32, with the cuBLAS workspace setting torch requires
    for it."""
    runs = {'kent_resnet18_rafdb': ('resnet18', 'e_resnet18'),
            'kent_resnet18_rafdb, second run': ('resnet18', 'e_resnet18_2'),
            'kent_swin-t_rafdb': ('swin-t', 'e_swin-t')}
    env = dict(CUBLAS_WORKSPACE_CONFIG=':4096:8')

    def run(name):
        key, folder = runs[name]
        config = KENT[key]
        wd = fresh_dir(chk.work, folder)
        opts = rafdb_opts(chk, config, ('train',)) + [
            'randomness.deterministic=True', 'train_cfg.max_epochs=1',
            _subset(chk, 192), 'default_hooks.logger.interval=1',
            'log_processor.window_size=1']
        train(chk, config, wd, opts, deadline, '--no-validate', env=env)
        return dict(read_losses(wd), work_dir=wd)

    rec = dict(runs=sub_runs(chk, list(runs), run))
    first, second = (rec['runs'][k] for k in list(runs)[:2])
    if first['status'] == second['status'] == 'ok':
        rec['repeat'] = compare_losses(first['work_dir'],
                                       second['work_dir'], 0)
    return rec


def speed(chk, deadline: float) -> dict:
    """(f) ``gpu_check_speed.py``: KENT/baseline at 112 px, batch 64,
    AMP, with peak memory; the data loader on the synthetic RAF-DB."""
    out = osp.join(chk.out, 'speed')
    cmd = chk.py('tools/benchmarks/gpu_check_speed.py', '--device',
                 chk.device, '--amp', '--out-json', out + '.json',
                 '--out-md', out + '.md', '--data-root', chk.prep['rafdb'],
                 '--num-workers', str(chk.args.workers))
    if chk.args.tiny:
        cmd += ['--img-size', str(TINY_PX), '--batch-size', '2', '--repeats',
                '2', '--warmup', '1', '--threads', '1', '--quick',
                '--loader-batches', '2']
    for path in (out + '.json', out + '.md'):
        if osp.exists(path):
            os.remove(path)
    chk.run(cmd, out + '.log', deadline, check=False)
    if not osp.exists(out + '.json'):
        raise RuntimeError(f'gpu_check_speed.py wrote no results (log: '
                           f'{out}.log)')
    with open(out + '.json') as f:
        res = json.load(f)
    if res['errors']:
        raise RuntimeError(f'speed measurements failed: {res["errors"]}')
    return dict(results=res)


def fer2013(chk, deadline: float) -> dict:
    """(g) The FER2013 `standard` benchmark configs, baseline then KENT
    (random-init CLIP text features), ``--fer-epochs`` epochs validated
    on PublicTest; the best checkpoint tested on PrivateTest. A variant
    trains until the time left (with ``--jobs 1``, the baseline half of
    it) less what its test needs: a run cut short is tested on its best
    checkpoint so far."""
    root, e = chk.prep['fer2013'], chk.args.fer_epochs
    test_s = 45.

    def run(variant):
        config = FER[variant]
        wd = fresh_dir(chk.work, f'g_{variant}')
        opts = [f'{x}_dataloader.dataset.data_root={root}' for x in LOADERS]
        opts += [f'{x}_dataloader.num_workers={chk.args.workers}'
                 for x in LOADERS]
        if variant == 'kent':
            opts.append('model.head.text_embeddings.file='
                        f'{chk.prep["text_fer2013"]}')
        if chk.args.tiny:
            opts += [f'{x}_dataloader.batch_size=8' for x in LOADERS]
        test_opts = list(opts)
        opts += [f'train_cfg.max_epochs={e}', 'train_cfg.val_begin=1',
                 f'param_scheduler.1.T_max={e - 1}',
                 f'param_scheduler.1.end={e}',
                 f'default_hooks.logger.interval={1 if chk.args.tiny else 50}']
        left = deadline - time.time()
        # One after the other (--jobs 1), the baseline leaves KENT half.
        share = left / 2 if variant == 'baseline' and chk.args.jobs == 1 \
            else left
        start = time.time()
        done = chk.run(chk.py('tools/train.py', config, '--work-dir', wd,
                              '--cfg-options', *opts),
                       osp.join(wd, 'train.log'),
                       min(deadline - test_s, start + share - test_s),
                       may_stop=True)
        best = sorted(glob.glob(osp.join(wd, 'best_*.pth')))
        if not best:
            raise RuntimeError('no best checkpoint' + (
                '' if done else ' (stopped by the time budget)'))
        rec = dict(read_losses(wd), epochs=e, completed=done,
                   train_s=round(time.time() - start),
                   checkpoint=osp.basename(best[-1]))
        rec.update(run_test(chk, config, best[-1], wd, test_opts, deadline))
        return rec

    return dict(runs=sub_runs(chk, list(FER), run))


#: Item -> (function, the prepared data it needs).
ITEM_FUNCS = {
    'a_train_test': (train_test, ('rafdb', 'text_rafdb')),
    'b_resume': (resume, ('rafdb', 'text_rafdb')),
    'c_dist_train': (dist_train, ('rafdb', 'text_rafdb')),
    'd_deepfever': (deepfever, ('affectnet_fec', )),
    'e_deterministic': (deterministic, ('rafdb', 'text_rafdb')),
    'f_speed': (speed, ('rafdb', )),
    'g_fer2013': (fer2013, ('fer2013', 'text_fer2013')),
}
