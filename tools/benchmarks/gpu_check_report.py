"""Results of ``gpu_check.py``: environment, logged losses, targets and
the markdown summary (docs/gpu_check.md)."""
import glob
import json
import math
import os
import os.path as osp
import platform

CHANCE = 100 / 7  # seven classes
SYNTH = ('resnet18', 'swin-t')
FER = ('baseline', 'kent')
RESULT = {True: 'PASS', False: 'FAIL', None: 'not measured'}


def environment(tiny: bool) -> dict:
    import torch
    cuda = torch.cuda.is_available() and not tiny
    env = dict(python=platform.python_version(), torch=torch.__version__,
               cuda=cuda, device='cuda' if cuda else 'cpu',
               cpus=os.cpu_count(),
               gpu=torch.cuda.get_device_name() if cuda else None)
    from importlib.metadata import PackageNotFoundError, version
    for pkg in ('mmpretrain', 'mmengine', 'kent_mm'):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:
            env[pkg] = None
    return env


def read_losses(work_dir: str) -> dict:
    """Logged losses of a run (``vis_data/scalars.json``)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if '"loss"' in line]
    if not rows:
        raise RuntimeError(f'no logged loss in {work_dir}')
    values = [v for r in rows for k, v in r.items() if k.startswith('loss')]
    times = sorted(r['time'] for r in rows if 'time' in r)
    return dict(logged=len(rows), first_loss=rows[0]['loss'],
                last_loss=rows[-1]['loss'], last_iter=rows[-1].get('iter'),
                finite_losses=all(math.isfinite(v) for v in values),
                loss_falling=rows[-1]['loss'] < rows[0]['loss'],
                median_iter_s=times[len(times) // 2] if times else None)


def strict_json(x):
    """NaN/inf as strings, so that the file is strict JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {str(k): strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict_json(v) for v in x]
    return x


def why_not(rec: dict) -> str:
    """Why a step has no result ('' if it has one)."""
    if rec.get('status') == 'ok':
        return ''
    if not rec:
        return 'not run'
    return f'{rec["status"]}: {rec.get("error", "")}'[:200]


def targets(res: dict) -> list:
    """The checks: ``pass`` is True/False, or None when not measured or
    when the value is for information (``target`` None)."""
    out, finite = [], []

    def add(name, value, target, ok, note=''):
        out.append({'name': name, 'value': value, 'target': target,
                    'pass': None if value is None or target is None else
                    bool(ok), 'note': note})

    amp = 'fp16' if res['environment']['cuda'] else 'bf16'
    for key in SYNTH:
        r = res['synthetic'].get(key, {})
        ok, note = r.get('status') == 'ok', why_not(r)
        finite += [r['finite_losses']] if ok else []
        add(f'synthetic {key}: losses finite ({amp} autocast)',
            r.get('finite_losses'), 'all finite', r.get('finite_losses'),
            note)
        add(f'synthetic {key}: loss falling (first vs last logged)',
            f'{r["first_loss"]:.3f} -> {r["last_loss"]:.3f}' if ok else None,
            'last < first', r.get('loss_falling'), note)
        add(f'synthetic {key}: test top-1 (%)', r.get('top1'),
            f'> {CHANCE:.1f} (chance)', r.get('above_chance'), note)
    sp = res.get('speed', {})
    sr = sp.get('results') or dict(train={}, inference={}, errors={},
                                   settings=dict(img_size=224))
    size, errors = sr['settings']['img_size'], sr.get('errors', {})
    for key in SYNTH:
        tr = sr['train'].get(key)
        note = why_not(sp) or errors.get(f'{key} {size}px', '')[:200]
        add(f'train step time KENT/baseline, {key} {size}px',
            tr and tr['time_ratio'], '<= 1.03',
            tr and tr['time_ratio'] <= 1.03, note)
        for batch, r in (sr['inference'].get(key)
                         or {'1, 64': dict(time_ratio=None)}).items():
            add(f'inference time KENT/baseline, {key} {size}px b{batch}',
                r['time_ratio'], '<= 1.02',
                r['time_ratio'] and r['time_ratio'] <= 1.02, note)
        runs = [(size, tr)] + [(px, by_model.get(key)) for px, by_model in
                               sr.get('train_throughput', {}).items()]
        for px, r in filter(lambda run: run[1], runs):
            finite.append(r['finite_losses'])
            add(f'training img/s {key} {px}px (baseline / KENT), batch '
                f'{sr["settings"].get("batch_size")}',
                f'{r["baseline_img_s"]:.0f} / {r["kent_img_s"]:.0f}', None,
                None, f'time ratio {r["time_ratio"]:.3f}')
    lo = sr.get('loader') or {}
    ratio = lo.get('loader_over_model')
    add(f'data loader img/s / ResNet-18 training img/s at '
        f'{lo.get("model_img_size", 112)}px', ratio, '>= 1',
        ratio and ratio >= 1, f'loader {lo["img_s"]:.0f} img/s, '
        f'{lo["num_workers"]} workers; bounded by the {lo["bottleneck"]}'
        if ratio else why_not(sp) or errors.get('loader', ''))
    add(f'no NaN/inf under {amp} autocast (synthetic runs, speed steps)',
        all(finite) if finite else None, 'none', all(finite))
    for variant in FER:
        r = res['fer2013'].get(variant, {})
        note = why_not(r) or f'{r["epochs"]} epochs' + (
            '' if r['completed'] else ', cut by the time budget')
        add(f'FER2013 {variant} ResNet-18: PrivateTest top-1 (%)',
            r.get('top1'), f'> {CHANCE:.1f} (chance)',
            r.get('top1') is not None and r['top1'] > CHANCE, note)
    return out


def markdown(res: dict) -> str:
    env, s = res['environment'], res['settings']
    fmt = (lambda v: f'{v:.4g}' if isinstance(v, float) else
           '-' if v is None else str(v))
    lines = [
        '# kent_mm GPU check', '',
        f'{env["gpu"] or "CPU"}, {env["cpus"]} CPUs; torch {env["torch"]}, '
        f'mmpretrain {env["mmpretrain"]}; {"tiny run; " if s["tiny"] else ""}'
        f'{res["total_s"]:.0f} s of a {s["budget_min"]:g} min budget.', '',
        '| check | value | target | result | note |',
        '| --- | ---: | --- | --- | --- |']
    for t in res['targets']:
        result = ('info' if t['target'] is None and t['value'] is not None
                  else RESULT[t['pass']])
        lines.append(f'| {t["name"]} | {fmt(t["value"])} | '
                     f'{t["target"] or "-"} | {result} | {t["note"]} |')
    lines += ['', '| step | status | seconds | details |',
              '| --- | --- | ---: | --- |']
    steps = [(f'{sec}/{k}', r) for sec in ('synthetic', 'fer2013')
             for k, r in res[sec].items()] + [('speed', res['speed'])]
    keys = ('top1', 'last_iter', 'median_iter_s', 'epochs', 'checkpoint',
            'error')
    for name, r in steps:
        if r:
            details = '; '.join(f'{k}={fmt(r[k])}' for k in keys if k in r)
            lines.append(f'| {name} | {r["status"]} | {r["seconds"]} | '
                         f'{details.replace("|", "/")[:300]} |')
    md = osp.join(s['out_dir'], res['speed'].get('markdown') or '-')
    if osp.isfile(md):
        with open(md) as f:
            lines += ['', '## Speed (`speed.py`)', '', f.read()]
    return '\n'.join(lines) + '\n'


