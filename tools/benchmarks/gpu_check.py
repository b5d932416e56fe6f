"""One-command check of kent_mm on one GPU: every user journey, each with
its own verdict.

Before anything else, ``--device cuda`` (the default) checks that CUDA
works and refuses at once (exit status 3) if not, naming the torch build,
the driver and the ``pip install`` that fits (``gpu_check_cuda.py``):
tools would otherwise train on the CPU without a word.

Data, made while the first items run: a synthetic RAF-DB
(``kent_mm.testing.generate_synthetic_rafdb``), synthetic AffectNet + FEC
sets (``gpu_check_data.py``), FER2013 from ``--fer2013`` (a folder, or a
``.tar.gz`` unpacked member by member), and the features of a randomly
initialised CLIP text tower (``tools/build_text_embeddings.py
--random-init``; no weights download).

Items (``gpu_check_items.py``), three tools at a time (``--jobs``), (f)
alone at the end:

(a) ``tools/train.py --amp`` on the unmodified ``kent_swin-t_rafdb.py``
    and ``kent_resnet18_rafdb.py`` (112 px, batch 64), then
    ``tools/test.py``;
(b) ``--resume`` from an epoch checkpoint: the same losses as the
    uninterrupted run;
(c) ``bash tools/dist_train.sh CONFIG 2`` on a KENT and an ablation config;
(d) DeepFEVER, one short AffectNet epoch with FEC triplets;
(e) ``randomness.deterministic=True`` for a few iterations;
(f) KENT/baseline training-step and inference time at 112 px, batch 64,
    AMP, with peak memory (``gpu_check_speed.py``);
(g) the FER2013 `standard` configs for a few epochs (with ``--fer2013``).

A failed item is recorded and the next one runs; an item that no longer
fits the time budget is skipped, and a tool still running at its deadline
is stopped. Writes ``OUT/gpu_check.json`` and ``OUT/gpu_check.md``
(``gpu_check_report.py``); the logs are in ``OUT/work``.

``--tiny`` runs every item on the CPU with tiny data (docs/gpu_check.md).

Example::

    python tools/benchmarks/gpu_check.py --out-dir gpu_out \\
        --fer2013 data/fer2013.tar.gz
"""
import argparse
import os
import os.path as osp
import platform
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, List, Optional, Tuple

from gpu_check_cuda import cuda_preflight
from gpu_check_data import find_fer2013, safe_extract, write_affectnet_fec
from gpu_check_items import ITEM_FUNCS
from gpu_check_report import (ITEMS, evaluate, markdown, strict_json,
                              summary_counts)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Least seconds an item needs on a GPU: with less left it is skipped. The
#: items before (f) leave it that much (and, with --jobs 1, each item the
#: ones after it).
NEED = dict(a_train_test=100, b_resume=45, c_dist_train=60, d_deepfever=35,
            e_deterministic=40, f_speed=60, g_fer2013=120)
REFUSED = 3  # exit status: CUDA asked for and not usable
#: Defaults on a GPU and with --tiny.
DEFAULTS = dict(budget_min=(7.5, 30.), epochs=(6, 2),
                synthetic_images=(2560, 16), fer_epochs=(5, 2))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--out-dir', required=True)
    add('--device', choices=['cuda', 'cpu'],
        help='default cuda (--tiny: cpu); cuda is checked first')
    add('--fer2013', help='FER2013 folder (train/, validation/, test/) or '
        'its .tar.gz archive; without it item (g) is skipped')
    add('--tiny', action='store_true',
        help='every item with tiny data and schedules (CPU by default)')
    add('--items', nargs='+', metavar='ITEM',
        choices=list(ITEMS) + [k[0] for k in ITEMS],
        help='a subset, by letter or name (default: all)')
    add('--budget-min', type=float, help='time budget (default 7.5; tiny: '
        '30, for slow machines)')
    add('--jobs', type=int, default=3, help='tools run at once: items '
        'and their runs start together and wait for a free slot; item (f) '
        'runs alone at the end (--tiny: with the others)')
    add('--epochs', type=int, help='epochs of item (a) (default 6: 240 '
        'iterations; tiny 2)')
    add('--synthetic-images', type=int, help='synthetic RAF-DB training '
        'images (default 2560; tiny 16)')
    add('--fer-epochs', type=int, help='default 5 (tiny: 2)')
    add('--workers', type=int, help='loader workers of items (d), (f), '
        '(g) (default: up to 8; tiny: 0); (a)-(c) and (e) keep the '
        "configs' 2")
    args = p.parse_args(argv)
    tiny = args.tiny
    for key, values in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, values[tiny])
    if args.device is None:
        args.device = 'cpu' if tiny else 'cuda'
    if args.workers is None:
        args.workers = 0 if tiny else min(8, os.cpu_count() or 1)
    if args.fer_epochs < 2:
        p.error('--fer-epochs must be >= 2 (one warm-up epoch, then cosine)')
    if min(args.epochs, args.jobs) < 1 or args.synthetic_images < 16:
        p.error('--epochs and --jobs must be >= 1, --synthetic-images >= '
                '16')
    names = {k[0]: k for k in ITEMS}
    args.items = [k for k in ITEMS if k in {names.get(i, i) for i in
                                            (args.items or ITEMS)}]
    return args


class Check:
    """The options, the time budget, the tools' subprocesses and the
    results (``res``, saved after every step)."""

    def __init__(self, args, environment: dict) -> None:
        self.args, self.t0 = args, time.time()
        self.deadline = self.t0 + args.budget_min * 60
        self.device, self.cuda = args.device, args.device == 'cuda'
        self.repo = REPO
        self.out = osp.abspath(args.out_dir)
        self.work = osp.join(self.out, 'work')
        os.makedirs(self.work, exist_ok=True)
        # `python` in shell scripts (tools/dist_train.sh) is this one, also
        # where only `python3` exists.
        bin_dir = osp.join(self.work, 'bin')
        os.makedirs(bin_dir, exist_ok=True)
        if not osp.lexists(osp.join(bin_dir, 'python')):
            os.symlink(sys.executable, osp.join(bin_dir, 'python'))
        self.env = dict(os.environ, PYTHONUNBUFFERED='1', PATH=bin_dir +
                        os.pathsep + os.environ.get('PATH', ''))
        if not self.cuda:
            self.env['CUDA_VISIBLE_DEVICES'] = ''  # every tool on the CPU
        self.prep = {}
        self.lock = threading.RLock()
        self.slots = threading.BoundedSemaphore(args.jobs)
        self.stop = threading.Event()  # set by SIGTERM: tools are stopped
        self.res = dict(settings=dict(vars(args), command=' '.join(sys.argv)),
                        environment=environment, prep={}, items={},
                        targets=[])

    # ------------------------------------------------------------ running
    @staticmethod
    def py(*args) -> List[str]:
        """``python ARGS`` with this interpreter."""
        return [sys.executable] + [str(a) for a in args]

    def log(self, msg: str) -> None:
        print(f'[gpu_check {time.time() - self.t0:4.0f} s] {msg}',
              flush=True)

    def gpu_count(self) -> int:
        import torch
        return torch.cuda.device_count() if self.cuda else 0

    def run(self, cmd: List[str], log: str, deadline: float,
            env: Optional[dict] = None, check: bool = True,
            may_stop: bool = False, slot: bool = True) -> bool:
        """Run ``cmd`` in the repository, output appended to ``log``."""
        return self.run_all([(cmd, log, env)], deadline, check, may_stop,
                            slot)

    def run_all(self, cmds: List[Tuple[List[str], str, Optional[dict]]],
                deadline: float, check: bool = True, may_stop: bool = False,
                slot: bool = True) -> bool:
        """Run commands at once (``(cmd, log, extra env)`` each) until all
        end, in one of the ``--jobs`` slots (``slot``). One failing
        (``check``) stops the others: an error with the end of its log. At
        ``deadline`` all are stopped: an error, or with ``may_stop`` a
        False return."""
        if slot and not self.slots.acquire(
                timeout=max(deadline - time.time(), 0.01)):
            if may_stop:
                return False
            raise RuntimeError(f'time budget: no free slot ({cmds[0][1]})')
        procs = []
        try:
            for cmd, log, env in cmds:
                with open(log, 'a') as f:
                    f.write('$ ' + ' '.join(cmd) + '\n')
                    f.flush()
                    procs.append((subprocess.Popen(
                        cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                        env=dict(self.env, **(env or {})),
                        start_new_session=True), log))
            while True:
                codes = [p.poll() for p, _ in procs]
                bad = [(c, log) for c, (_, log) in zip(codes, procs)
                       if c not in (None, 0)]
                if check and bad:
                    code, log = bad[0]
                    with open(log) as f:
                        tail = f.read()[-1500:]
                    raise RuntimeError(f'exit {code} ({log}): ...{tail}')
                if all(c is not None for c in codes):
                    return True
                if self.stop.is_set():
                    raise RuntimeError(f'stopped by SIGTERM ({cmds[0][1]})')
                if time.time() > deadline:
                    if may_stop:
                        return False
                    raise RuntimeError(
                        f'stopped by the time budget ({cmds[0][1]})')
                time.sleep(0.2)
        finally:
            for p, _ in procs:  # none is left running
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            if slot:
                self.slots.release()

    # ----------------------------------------------------------- recording
    def save(self) -> None:
        import json
        with self.lock:
            path = osp.join(self.out, 'gpu_check.json')
            with open(path + '.tmp', 'w') as f:
                json.dump(strict_json(self.res), f, indent=2)
            os.replace(path + '.tmp', path)

    def prepare(self, name: str, fn: Callable[[], str],
                after: Optional[Future] = None,
                requires: Optional[str] = None) -> None:
        """Make data ``name`` (``fn`` returns its path) once ``after`` is
        done, if data ``requires`` was made."""
        if after is not None:
            after.result()
        start = time.time()
        if requires and requires not in self.prep:
            rec = dict(status='skipped', error=f'no {requires}')
        else:
            try:
                self.prep[name] = fn()
                rec = dict(status='ok', path=self.prep[name])
            except Exception as e:
                rec = dict(status='failed',
                           error=f'{type(e).__name__}: {e}')
        rec['seconds'] = round(time.time() - start, 1)
        self.log(f'data {name}: {rec["status"]} ({rec["seconds"]} s)' + (
            f' - {rec["error"][:300]}' if 'error' in rec else ''))
        with self.lock:
            self.res['prep'][name] = rec
            self.save()

    def item(self, name: str, deadline: float, needs: Tuple[str]) -> None:
        """Run item ``name`` if its data exist and it fits the budget."""
        start, need = time.time(), 1 if self.args.tiny else NEED[name]
        fn = ITEM_FUNCS[name][0]
        missing = [f'{n}: {self.res["prep"].get(n, {}).get("error", "")}'
                   for n in needs if n not in self.prep]
        if self.stop.is_set():
            rec = dict(status='skipped', error='stopped by SIGTERM')
        elif missing:
            rec = dict(status='skipped', error='no data (' +
                       '; '.join(missing)[:300] + ')')
        elif deadline - start < need:
            rec = dict(status='skipped', error=f'time budget: '
                       f'{deadline - start:.0f} s left for it, it needs '
                       f'{need} s')
        else:
            self.log(f'{ITEMS[name]} ...')
            try:
                rec = dict(status='ok', **fn(self, deadline))
            except Exception as e:  # recorded; the next item runs
                rec = dict(status='failed', error=f'{type(e).__name__}: {e}')
        rec['seconds'] = round(time.time() - start, 1)
        self.log(f'{name}: {rec["status"]} ({rec["seconds"]} s)' + (
            f' - {rec["error"][:300]}' if 'error' in rec else ''))
        with self.lock:
            self.res['items'][name] = rec
            self.save()


# ------------------------------------------------------------------- data
def preparations(chk: Check) -> dict:
    """Name -> function making the data (reused if already there)."""
    a, tiny, work = chk.args, chk.args.tiny, chk.work

    def rafdb():
        from kent_mm.testing import generate_synthetic_rafdb
        root = osp.join(work, f'synthetic_rafdb_{a.synthetic_images}')
        # The generator writes its label file last: a killed run has none.
        if not osp.exists(osp.join(root, 'EmoLabel',
                                   'list_patition_label.txt')):
            generate_synthetic_rafdb(root, num_train=a.synthetic_images,
                                     num_test=7 if tiny else 448,
                                     image_size=32 if tiny else 100,
                                     overwrite=True)
        return root

    def text(config, name):
        def make():
            path = osp.join(work, f'text_{name}.pth')
            if not osp.exists(path):  # written atomically by the tool
                chk.run(chk.py('tools/build_text_embeddings.py', config,
                               '--random-init', '--out', path),
                        osp.join(work, f'text_{name}.log'), chk.deadline,
                        slot=False)
            return path
        return make

    def affectnet_fec():
        root = osp.join(work, 'affectnet_fec')
        if not osp.isdir(root):  # renamed into place when complete
            write_affectnet_fec(root, *((2, 1, 8, 32) if tiny else
                                        (92, 8, 320, 112)))
        return root

    def fer2013():
        path = osp.abspath(a.fer2013)
        if osp.isfile(path):
            dest = osp.join(work, 'fer2013')
            if not osp.isdir(dest):  # renamed into place when complete
                safe_extract(path, dest)
            path = dest
        return find_fer2013(path)

    preps = dict(rafdb=rafdb, affectnet_fec=affectnet_fec,
                 text_rafdb=text('configs/kent_resnet18_rafdb.py', 'rafdb'))
    if a.fer2013:
        preps.update(fer2013=fer2013, text_fer2013=text(
            'configs/kent_resnet18_fer2013.py', 'fer2013'))
    return preps


def environment(device: str, preflight: Optional[dict]) -> dict:
    import torch
    env = dict(python=platform.python_version(), torch=torch.__version__,
               torch_cuda=torch.version.cuda, device=device,
               cpus=os.cpu_count(), gpu=None, driver=None)
    if hasattr(os, 'getloadavg'):
        env['loadavg_start'] = [round(x, 2) for x in os.getloadavg()]
    if preflight:
        env.update(gpu=preflight.get('gpu'), driver=preflight.get('driver'),
                   driver_cuda=preflight.get('driver_cuda'),
                   capability=preflight.get('capability'))
    from importlib.metadata import PackageNotFoundError, version
    for pkg in ('mmpretrain', 'mmengine', 'kent_mm'):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:
            env[pkg] = None
    return env


def refuse(args, preflight: dict) -> int:
    """Write why CUDA is not usable (JSON and markdown), print it, return
    the exit status."""
    import json
    out = osp.abspath(args.out_dir)
    os.makedirs(out, exist_ok=True)
    res = dict(settings=dict(vars(args), command=' '.join(sys.argv)),
               preflight=preflight, verdict='refused')
    with open(osp.join(out, 'gpu_check.json'), 'w') as f:
        json.dump(strict_json(res), f, indent=2)
    with open(osp.join(out, 'gpu_check.md'), 'w') as f:
        f.write('# kent_mm GPU check: refused\n\n```\n' +
                preflight['message'] + '\n```\n')
    if preflight['fixes']:  # for tools/benchmarks/gpu_check.sh
        with open(osp.join(out, 'torch_fix.txt'), 'w') as f:
            f.write('\n'.join(preflight['fixes']) + '\n')
    print(preflight['message'], file=sys.stderr, flush=True)
    return REFUSED


def main(argv=None) -> int:
    args = parse_args(argv)
    preflight = None
    if args.device == 'cuda':
        preflight = cuda_preflight()
        if not preflight['usable']:
            return refuse(args, preflight)
        print(preflight['message'], flush=True)
    chk = Check(args, environment(args.device, preflight))
    chk.res['preflight'] = preflight
    # A TERM (an outer timeout) stops the tools; the report is written.
    signal.signal(signal.SIGTERM, lambda *_: chk.stop.set())
    for name in ITEMS:
        if name not in args.items:
            chk.res['items'][name] = dict(status='skipped', seconds=0,
                                          error='not in --items')
    if 'g_fer2013' in args.items and not args.fer2013:
        chk.res['items']['g_fer2013'] = dict(status='skipped', seconds=0,
                                             error='no --fer2013 given')
    todo = [i for i in args.items if i not in chk.res['items']]
    needs = {n for i in todo for n in ITEM_FUNCS[i][1]}
    preps = {k: v for k, v in preparations(chk).items() if k in needs}
    with ThreadPoolExecutor(max(len(preps), 1)) as prep_pool:
        futures = {}
        for key, fn in preps.items():
            # The two generators run in this process: one after the other;
            # FER2013's text features only if there is FER2013.
            after = dict(affectnet_fec=('rafdb', None),
                         text_fer2013=('fer2013', 'fer2013')).get(key)
            futures[key] = prep_pool.submit(
                chk.prepare, key, fn, *((futures[after[0]], after[1])
                                        if after else ()))
        # Speed is timed alone, after the others (--tiny: with them).
        alone = [] if args.tiny else [n for n in todo if n == 'f_speed']
        together = [n for n in todo if n not in alone]

        def run_item(name: str, deadline: float) -> None:
            wanted = ITEM_FUNCS[name][1]
            # Speed is measured once every preparation is done.
            for key in (futures if name == 'f_speed' else wanted):
                if key in futures:
                    futures[key].result()
            chk.item(name, deadline, wanted)

        # Each item leaves the ones after it their least time. In
        # parallel, every item starts and its tools wait for a slot.
        end = chk.deadline - sum(NEED[n] for n in alone)
        with ThreadPoolExecutor(1 if args.jobs == 1 else
                                max(len(together), 1)) as pool:
            list(pool.map(run_item, together, [
                end - (sum(NEED[n] for n in together[i + 1:])
                       if args.jobs == 1 else 0)
                for i in range(len(together))]))
        for name in alone:
            run_item(name, chk.deadline)
    res = chk.res
    evaluate(res)
    res['total_s'] = round(time.time() - chk.t0, 1)
    res['budget'] = dict(budget_s=args.budget_min * 60,
                         left_s=round(chk.deadline - time.time(), 1))
    if hasattr(os, 'getloadavg'):
        res['environment']['loadavg_end'] = [round(x, 2)
                                             for x in os.getloadavg()]
    chk.save()
    text = markdown(res)
    with open(osp.join(chk.out, 'gpu_check.md'), 'w') as f:
        f.write(text)
    print(text)
    print(f'[gpu_check] {summary_counts(res)} in {res["total_s"]:.0f} s; '
          f'{osp.join(chk.out, "gpu_check.md")}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
