"""One-command GPU check of kent_mm: training sanity, speed targets, FER2013.

Steps (each a subprocess of the repository's own tools; a failed step is
recorded and the next one runs; a step that no longer fits the time budget
is skipped):

1. synthetic: a generated synthetic RAF-DB; KENT ResNet-18 and Swin-T
   trained from scratch with ``tools/train.py --amp`` (fp16 on CUDA,
   bfloat16 on CPU) for a few hundred iterations, text features from a
   cache file made offline by ``tools/build_text_embeddings.py
   --random-init``; then ``tools/test.py``. Recorded: finite losses, loss
   falling (first vs last logged), test top-1 vs chance (1/7).
2. speed: ``speed.py --amp`` at 224 px (KENT/baseline training-step and
   inference ratios, training img/s of ResNet-18 and Swin-T) and at 112 px
   for the data loader against ResNet-18 training.
3. fer2013: the baseline and KENT ResNet-18 FER2013 `standard` configs
   (KENT with a random-init CLIP text tower's features) for ``--fer-epochs``
   epochs, the best PublicTest checkpoint tested on PrivateTest.

Writes ``OUT/gpu_check.json`` and ``OUT/gpu_check.md`` (docs/gpu_check.md).
``--tiny`` runs every step on the CPU on tiny data in a few minutes.

Example::

    python tools/benchmarks/gpu_check.py --out-dir gpu_out \\
        --fer2013 data/fer2013.tar.gz
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import tarfile
import time

from gpu_check_report import (CHANCE, environment, markdown, read_losses,
                              strict_json, targets)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTH = {'resnet18': ('configs/kent_resnet18_rafdb.py', 0.1),
         'swin-t': ('configs/kent_swin-t_rafdb.py', 0.02)}  # config, lr
FER = {'baseline': 'configs/benchmarks/baseline_resnet18_fer2013_standard.py',
       'kent': 'configs/benchmarks/kent_resnet18_fer2013_standard.py'}
# Least seconds a step needs on a GPU (skipped when less budget is left).
NEED = dict(synthetic_data=20, text=20, train=60, speed=120, fer_data=10,
            fer_train=60)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--out-dir', required=True)
    add('--fer2013', help='FER2013 folder (train/validation/test) or its '
        '.tar.gz archive; without it the fer2013 step is skipped')
    add('--tiny', action='store_true', help='CPU, tiny data and schedules')
    add('--budget-min', type=float, help='total time budget (default 8; '
        'tiny: 30, for slow machines)')
    add('--steps', nargs='+', choices=['synthetic', 'speed', 'fer2013'],
        default=['synthetic', 'speed', 'fer2013'])
    add('--synthetic-images', type=int, help='default 2560 (tiny: 16)')
    add('--synthetic-epochs', type=int, help='default 8 (tiny: 2)')
    add('--fer-epochs', type=int, help='default 8 (tiny: 2)')
    add('--workers', type=int, help='loader workers (default: up to 8; '
        'tiny: 0)')
    args = p.parse_args(argv)
    tiny = args.tiny
    for key, gpu, cpu in (('budget_min', 8., 30.),
                          ('synthetic_images', 2560, 16),
                          ('synthetic_epochs', 8, 2), ('fer_epochs', 8, 2),
                          ('workers', min(8, os.cpu_count() or 1), 0)):
        if getattr(args, key) is None:
            setattr(args, key, cpu if tiny else gpu)
    if args.synthetic_epochs < 2 or args.fer_epochs < 2:
        p.error('--synthetic-epochs and --fer-epochs must be >= 2 (the '
                'schedules warm up for one epoch)')
    return args


class Check:
    """Runs the steps within the budget; every result goes to ``res``."""

    def __init__(self, args):
        self.args, self.t0 = args, time.time()
        self.out = osp.abspath(args.out_dir)
        self.work = osp.join(self.out, 'work')
        os.makedirs(self.work, exist_ok=True)
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        if args.tiny:
            self.env['CUDA_VISIBLE_DEVICES'] = ''  # everything on the CPU
        self.res = dict(settings=dict(vars(args), command=' '.join(sys.argv)),
                        environment=environment(args.tiny), synthetic={},
                        speed={}, fer2013={}, targets=[])
        self.cuda = self.res['environment']['cuda']

    def left(self) -> float:
        return self.args.budget_min * 60 - (time.time() - self.t0)

    def step(self, section: dict, name: str, need: float, fn, *a) -> dict:
        """Run ``fn(*a)`` as step ``name``; record status, time, errors."""
        start = time.time()
        need = 1 if self.args.tiny else need
        if self.left() < need:
            rec = dict(status='skipped', error=f'time budget: '
                       f'{self.left():.0f} s left, the step needs {need} s')
        else:
            try:
                rec = dict(status='ok', **(fn(*a) or {}))
            except Exception as e:  # recorded; the next step runs
                rec = dict(status='failed', error=f'{type(e).__name__}: {e}')
        rec['seconds'] = round(time.time() - start, 1)
        section[name] = rec
        print(f'[gpu_check] {name}: {rec["status"]} ({rec["seconds"]} s)'
              f'{" - " + rec["error"][:300] if "error" in rec else ""}',
              flush=True)
        self.save()
        return rec

    def run(self, args, log, timeout=None, check=True,
            may_stop=False) -> bool:
        """``python ARGS`` in the repository, output to ``log``. Past
        ``timeout`` (default: the budget left) the process group is killed:
        an error, or with ``may_stop`` a False return. ``check``: a
        non-zero exit is an error."""
        timeout = max(self.left(), 5) if timeout is None else timeout
        with open(log, 'a') as f:
            f.write('$ python ' + ' '.join(args) + '\n')
            f.flush()
            proc = subprocess.Popen([sys.executable] + args, cwd=REPO,
                                    stdout=f, stderr=subprocess.STDOUT,
                                    env=self.env, start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                if may_stop:
                    return False
                raise RuntimeError(f'stopped after {timeout:.0f} s (time '
                                   f'budget); log: {log}')
        if check and rc != 0:
            with open(log) as f:
                tail = f.read()[-1500:]
            raise RuntimeError(f'exit {rc} ({log}): ...{tail}')
        return True

    def text_file(self, config: str, name: str) -> dict:
        path = osp.join(self.work, f'text_{name}.pth')
        if not osp.exists(path):
            self.run(['tools/build_text_embeddings.py', config,
                      '--random-init', '--out', path],
                     osp.join(self.work, f'text_{name}.log'))
        return dict(file=path)

    def save(self):
        with open(osp.join(self.out, 'gpu_check.json'), 'w') as f:
            json.dump(strict_json(self.res), f, indent=2)


def fresh_dir(*parts) -> str:
    """An empty directory (a run's work dir; logs of earlier runs go)."""
    path = osp.join(*parts)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def run_test(chk, config, ckpt, work_dir, opts) -> dict:
    out = osp.join(work_dir, 'test_metrics.json')
    chk.run(['tools/test.py', config, ckpt, '--work-dir',
             osp.join(work_dir, 'test'), '--out', out, '--out-item',
             'metrics', '--cfg-options', *opts],
            osp.join(work_dir, 'test.log'))
    with open(out) as f:
        m = json.load(f)
    return dict(top1=m['accuracy/top1'],
                mean_class_acc=m.get('class_acc/mean'))


# ------------------------------------------------------------------ steps
def synthetic_data(chk) -> dict:
    a = chk.args
    root = osp.join(chk.work, f'synthetic_rafdb_{a.synthetic_images}')
    # The generator writes its label file last: a killed run has none.
    if not osp.exists(osp.join(root, 'EmoLabel', 'list_patition_label.txt')):
        chk.run(['tools/dataset_converters/generate_synthetic_rafdb.py',
                 root, '--num-train', str(a.synthetic_images), '--num-test',
                 str(7 if a.tiny else 448), '--image-size',
                 str(32 if a.tiny else 100)], root + '.log')
    return dict(root=root)


def synthetic_train(chk, key: str, root: str, text: str) -> dict:
    a = chk.args
    config, lr = SYNTH[key]
    wd, e = fresh_dir(chk.work, f'synthetic_{key}'), a.synthetic_epochs
    # Trained without validation: the test split is only tested.
    loaders = ('train_dataloader', 'test_dataloader')
    opts = [f'{x}.dataset.data_root={root}' for x in loaders]
    opts += [f'{x}.num_workers={a.workers}' for x in loaders]
    opts += ['model.backbone.init_cfg=None', 'model.head.logit_scale=20',
             f'model.head.text_embeddings.cache_file={text}',
             'model.head.text_embeddings.pretrained=None',
             'model.head.text_embeddings.allow_random_init=True']
    if a.tiny:  # 32 px; Swin pads its small stage maps
        opts += ['train_dataloader.dataset.pipeline.1.scale=(32,32)',
                 'train_dataloader.dataset.pipeline.2.transforms.0.'
                 'crop_size=32', 'test_dataloader.dataset.pipeline.1.'
                 'scale=(32,32)', 'test_dataloader.batch_size=8']
        if key == 'swin-t':
            opts += ['model.backbone.img_size=32',
                     'model.backbone.pad_small_map=True']
    test_opts = list(opts)
    # From scratch: lr 0.1 (Swin-T 0.02), logit scale 20 (as the demo);
    # the configs' constant warm-up epoch, then cosine over the rest.
    opts += [f'optim_wrapper.optimizer.lr={lr}',
             f'train_dataloader.batch_size={16 if a.tiny else 64}',
             f'train_cfg.max_epochs={e}', f'param_scheduler.1.T_max={e - 1}',
             f'param_scheduler.1.end={e}', f'default_hooks.checkpoint.'
             f'interval={e}', 'default_hooks.logger.interval='
             f'{1 if a.tiny else 10}']
    chk.run(['tools/train.py', config, '--work-dir', wd, '--amp',
             '--no-validate', '--cfg-options', *opts],
            osp.join(wd, 'train.log'))
    rec = dict(read_losses(wd), epochs=e, amp='float16' if chk.cuda else
               'bfloat16')
    rec.update(run_test(chk, config, osp.join(wd, f'epoch_{e}.pth'), wd,
                        test_opts))
    rec['above_chance'] = rec['top1'] > CHANCE
    return rec


def speed(chk) -> dict:
    a, out = chk.args, osp.join(chk.out, 'speed')
    cmd = ['tools/benchmarks/speed.py', '--amp', '--out-json', out + '.json',
           '--out-md', out + '.md', '--num-workers', str(a.workers),
           '--device', 'cuda' if chk.cuda else 'cpu']
    if a.tiny:
        cmd += ['--quick', '--img-size', '32', '--train-throughput-size',
                '112', '--batch-size', '2', '--repeats', '2', '--warmup', '1',
                '--threads', '1']
    else:
        cmd += ['--img-size', '224', '--train-throughput-size', '112',
                '--batch-size', '64', '--repeats', '7', '--warmup', '3',
                '--window', '0.5', '--loader-images', '2048']
    if os.path.exists(out + '.json'):
        os.remove(out + '.json')
    done = chk.run(cmd, out + '.log', check=False, may_stop=True)
    if not osp.exists(out + '.json'):
        raise RuntimeError(f'speed.py wrote no results ({out}.log)' +
                           ('' if done else ', time budget'))
    with open(out + '.json') as f:
        res = json.load(f)
    # A failed measurement is listed in results.errors; the others stand.
    return dict(results=res, markdown=osp.basename(out) + '.md')


def fer_data(chk) -> dict:
    path = osp.abspath(chk.args.fer2013)
    if osp.isfile(path):
        dest = osp.join(chk.work, 'fer2013')
        if not osp.isdir(dest):
            with tarfile.open(path) as tar:
                tar.extractall(dest, filter='data')
        path = dest
    for root, dirs, _ in os.walk(path):
        if {'train', 'test'} <= set(dirs):
            return dict(root=root)
    raise FileNotFoundError(f'no FER2013 folder (train/, validation/, '
                            f'test/) in {chk.args.fer2013}')


def fer_train(chk, variant: str, root: str, text: str, seconds: float) -> dict:
    """Train (at most ``seconds``, test included) and test the best
    PublicTest checkpoint on PrivateTest."""
    a, config = chk.args, FER[variant]
    wd, e = fresh_dir(chk.work, f'fer2013_{variant}'), a.fer_epochs
    opts = [f'{x}.dataset.data_root={root}' for x in LOADERS]
    opts += [f'{x}.num_workers={a.workers}' for x in LOADERS]
    if variant == 'kent':
        opts.append(f'model.head.text_embeddings.file={text}')
    if a.tiny:
        opts += [f'{x}.batch_size=8' for x in LOADERS]
    test_opts = list(opts)
    # Validation (model selection) every epoch: a run cut by the budget
    # still has its best checkpoint.
    opts += [f'train_cfg.max_epochs={e}', 'train_cfg.val_begin=1',
             f'param_scheduler.1.T_max={e - 1}', f'param_scheduler.1.end={e}',
             f'default_hooks.logger.interval={1 if a.tiny else 50}']
    start = time.time()
    done = chk.run(['tools/train.py', config, '--work-dir', wd,
                    '--cfg-options', *opts], osp.join(wd, 'train.log'),
                   timeout=max(seconds - 20, 30), may_stop=True)
    best = sorted(glob.glob(osp.join(wd, 'best_*.pth')))
    if not best:
        raise RuntimeError('no best checkpoint' + ('' if done else
                                                   ' (time budget)'))
    rec = dict(epochs=e, completed=done, train_s=round(time.time() - start),
               checkpoint=osp.basename(best[-1]), **read_losses(wd))
    rec.update(run_test(chk, config, best[-1], wd, test_opts))
    return rec


def main(argv=None):
    args = parse_args(argv)
    chk = Check(args)
    res = chk.res
    skip = dict(status='skipped', seconds=0)
    if 'synthetic' in args.steps:
        sec = res['synthetic']
        data = chk.step(sec, 'data', NEED['synthetic_data'], synthetic_data,
                        chk)
        text = chk.step(sec, 'text', NEED['text'], chk.text_file,
                        SYNTH['resnet18'][0], 'rafdb')
        for key in SYNTH:
            if data['status'] == text['status'] == 'ok':
                chk.step(sec, key, NEED['train'], synthetic_train, chk, key,
                         data['root'], text['file'])
            else:
                sec[key] = dict(skip, error='no data or no text file')
    if 'speed' in args.steps:
        chk.step(res, 'speed', NEED['speed'], speed, chk)
    if 'fer2013' in args.steps:
        sec = res['fer2013']
        if args.fer2013:
            data = chk.step(sec, 'data', NEED['fer_data'], fer_data, chk)
        else:
            data = sec['data'] = dict(skip, error='no --fer2013 given')
        for variant in FER:
            if data['status'] != 'ok':
                sec[variant] = sec['text'] = dict(skip, error='no data')
                continue
            if variant == 'kent':  # the text file, just before it is used
                text = chk.step(sec, 'text', NEED['text'], chk.text_file,
                                'configs/kent_resnet18_fer2013.py', 'fer2013')
                if text['status'] != 'ok':
                    sec[variant] = dict(skip, error='no text file')
                    continue
            # The baseline leaves half the time to KENT and its text file.
            share = (chk.left() - NEED['text']) / 2 if variant == 'baseline' \
                else chk.left()
            chk.step(sec, variant, NEED['fer_train'], fer_train, chk,
                     variant, data['root'], sec.get('text', {}).get('file'),
                     share)
    res['targets'] = targets(res)
    res['total_s'] = round(time.time() - chk.t0, 1)
    res['budget'] = dict(budget_s=args.budget_min * 60,
                         left_s=round(chk.left(), 1))
    chk.save()
    text = markdown(res)
    with open(osp.join(chk.out, 'gpu_check.md'), 'w') as f:
        f.write(text)
    print(text)
    return res


if __name__ == '__main__':
    main()
