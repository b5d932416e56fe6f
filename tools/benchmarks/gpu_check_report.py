"""Results of ``gpu_check.py``: logged losses, the targets and verdict of
every item, and the markdown summary (docs/gpu_check.md).

A target is ``{item, name, value, target, pass, judged, note}``: ``pass``
is True/False when the value was measured against a threshold, None when
it was not measured or is for information (``target`` None). ``judged``
False marks a threshold that the run cannot decide (learning and speed
targets of a ``--tiny`` run: a few iterations of tiny images on a CPU):
its ``pass`` is shown, not counted. An item's verdict is ``skipped`` (not
run, with the reason), ``fail`` (an error, or a judged target missed) or
``pass``.
"""
import glob
import json
import math
import os.path as osp
import re
from typing import Dict, List, Optional

CHANCE = 100 / 7  # seven classes
#: The items, in the order they run, with their titles.
ITEMS = {
    'a_train_test': '(a) tools/train.py --amp + tools/test.py, official '
                    'configs',
    'b_resume': '(b) --resume from a checkpoint = uninterrupted run',
    'c_dist_train': '(c) tools/dist_train.sh, 2 processes',
    'd_deepfever': '(d) DeepFEVER, one short AffectNet epoch + FEC',
    'e_deterministic': '(e) randomness.deterministic=True',
    'f_speed': '(f) KENT/baseline speed and peak memory, AMP',
    'g_fer2013': '(g) FER2013 short run',
}
#: Tolerance of resumed vs uninterrupted losses (relative): CUDA kernels
#: are not bit-deterministic unless randomness.deterministic=True.
RESUME_RTOL = {'cpu': 0., 'cuda': 1e-3}
SPEED_TARGETS = {'train': 1.03, 'inference': 1.02}


# ------------------------------------------------------------------ logs
def scalar_rows(work_dir: str) -> List[dict]:
    """Rows of every ``vis_data/scalars.json`` of a work dir, in order."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def read_losses(work_dir: str) -> dict:
    """Summary of a run's logged training losses and last validation.

    Returns:
        dict: ``logged`` rows, ``first_loss``/``last_loss``, ``last_iter``,
        ``finite_losses``, ``loss_falling``, ``median_iter_s``,
        ``max_memory_mb`` (logged on CUDA only, else None), ``device_used``
        (``'cuda'`` when memory was logged), ``loss_keys`` and ``val`` (the
        last validation metrics, or None).
    """
    rows = scalar_rows(work_dir)
    train = [r for r in rows if 'loss' in r]
    if not train:
        raise RuntimeError(f'no logged loss in {work_dir}')
    keys = sorted({k for r in train for k in r if 'loss' in k})
    values = [r[k] for r in train for k in keys if k in r]
    times = sorted(r['time'] for r in train if 'time' in r)
    memory = [r['memory'] for r in train if 'memory' in r]
    val = [r for r in rows if 'loss' not in r and 'lr' not in r
           and any('/' in k for k in r)]
    return dict(logged=len(train), first_loss=train[0]['loss'],
                last_loss=train[-1]['loss'], last_iter=train[-1].get('iter'),
                finite_losses=all(math.isfinite(v) for v in values),
                loss_falling=train[-1]['loss'] < train[0]['loss'],
                median_iter_s=times[len(times) // 2] if times else None,
                max_memory_mb=max(memory) if memory else None,
                device_used='cuda' if memory else 'cpu', loss_keys=keys,
                val=val[-1] if val else None)


def compare_losses(ref_dir: str, other_dir: str, after_iter: int) -> dict:
    """Logged losses of the iterations after ``after_iter`` in two runs.

    Returns:
        dict: ``compared`` iterations, ``max_abs_diff``, ``max_rel_diff``
        (over every ``loss*`` key) and ``identical``.
    """
    def by_iter(rows):
        return {r['iter']: r for r in rows if 'loss' in r and 'iter' in r}

    ref, other = by_iter(scalar_rows(ref_dir)), by_iter(scalar_rows(other_dir))
    iters = sorted(i for i in other if i > after_iter and i in ref)
    if not iters:
        raise RuntimeError(f'no common logged iteration after {after_iter} '
                           f'in {ref_dir} and {other_dir}')
    abs_diff, rel_diff = 0., 0.
    for i in iters:
        for k in ref[i]:
            if 'loss' in k and k in other[i]:
                d = abs(ref[i][k] - other[i][k])
                abs_diff = max(abs_diff, d)
                rel_diff = max(rel_diff, d / max(abs(ref[i][k]), 1e-12))
    return dict(compared=len(iters), first_iter=iters[0], last_iter=iters[-1],
                max_abs_diff=abs_diff, max_rel_diff=rel_diff,
                identical=abs_diff == 0.)


def world_size(log_text: str) -> Optional[int]:
    """Processes of a run, from MMEngine's runtime environment log."""
    m = re.search(r'GPU number: (\d+)', log_text)
    return int(m[1]) if m else None


def strict_json(x):
    """NaN/inf as strings, so that the file is strict JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {str(k): strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict_json(v) for v in x]
    return x


# --------------------------------------------------------------- targets
class Targets:
    """Collects the targets of one item."""

    def __init__(self, item: str, tiny: bool) -> None:
        self.item, self.tiny, self.rows = item, tiny, []

    def add(self, name: str, value, target: Optional[str], ok=None,
            note: str = '', kind: str = 'function') -> None:
        """``kind``: ``function`` (holds on any machine), ``quality`` or
        ``speed`` (not judged on ``--tiny``), ``info`` (no threshold)."""
        measured = value is not None and target is not None
        unjudged = self.tiny and kind in ('quality', 'speed')
        self.rows.append({
            'item': self.item, 'name': name, 'value': value,
            'target': target, 'pass': bool(ok) if measured else None,
            'judged': measured and not unjudged,
            'note': ('tiny run: not judged; ' + note).rstrip('; ')
            if unjudged else note})

    def run_basics(self, label: str, r: dict, device: str) -> None:
        """Finite losses and the device the run used."""
        self.add(f'{label}: logged losses finite', r.get('finite_losses'),
                 'all finite', r.get('finite_losses'))
        self.add(f'{label}: trained on', r.get('device_used'), device,
                 r.get('device_used') == device,
                 'CUDA runs log their memory' if device == 'cuda' else '')


def _fmt_loss(r: dict) -> Optional[str]:
    if 'first_loss' not in r:
        return None
    return f'{r["first_loss"]:.3f} -> {r["last_loss"]:.3f}'


def _train_test(t: Targets, rec: dict, device: str) -> None:
    for label, r in rec.get('runs', {}).items():
        if r.get('status') != 'ok':
            continue
        t.run_basics(label, r, device)
        t.add(f'{label}: loss falling (first vs last logged)', _fmt_loss(r),
              'last < first', r.get('loss_falling'), kind='quality')
        top1 = r.get('top1')
        t.add(f'{label}: tools/test.py top-1 (%)', top1, 'in [0, 100]',
              top1 is not None and 0 <= top1 <= 100,
              f'chance {CHANCE:.1f}; {r.get("iterations")} iterations of the '
              'official schedule from scratch')


def _resume(t: Targets, rec: dict, device: str) -> None:
    if rec.get('status') != 'ok':
        return
    t.run_basics('resumed run', rec['resumed'], device)
    t.add('resumed from the checkpoint', rec.get('resumed_epoch'),
          f'epoch {rec.get("resume_epoch")}',
          rec.get('resumed_epoch') == rec.get('resume_epoch'))
    c, tol = rec['comparison'], RESUME_RTOL[device]
    t.add(f'losses of iterations {c["first_iter"]}-{c["last_iter"]}: max '
          'relative difference to the uninterrupted run', c['max_rel_diff'],
          f'<= {tol:g}', c['max_rel_diff'] <= tol,
          f'max abs {c["max_abs_diff"]:.3g}; identical: {c["identical"]}')


def _dist(t: Targets, rec: dict, device: str) -> None:
    for label, r in rec.get('runs', {}).items():
        if r.get('status') != 'ok':
            continue
        t.run_basics(label, r, device)
        t.add(f'{label}: processes', r.get('world_size'), '2',
              r.get('world_size') == 2, r.get('launch', ''))
        t.add(f'{label}: iterations per process', r.get('last_iter'),
              str(r.get('expected_iters')),
              r.get('last_iter') == r.get('expected_iters'),
              f'{r.get("images")} images, batch {r.get("batch_size")} per '
              'process: each process reads half')
        t.add(f'{label}: validation metrics', bool(r.get('val')), 'logged',
              bool(r.get('val')))


def _deepfever(t: Targets, rec: dict, device: str) -> None:
    if rec.get('status') != 'ok':
        return
    t.run_basics('DeepFEVER', rec, device)
    want = ('expression.loss_cls', 'expression.loss_va',
            'triplet.loss_triplet')
    have = [k for k in want if k in rec.get('loss_keys', [])]
    t.add('losses of both tasks logged', ', '.join(have) or None,
          ', '.join(want), len(have) == len(want))
    val = sorted((rec.get('val') or {}).keys())
    t.add('validation: accuracy and valence/arousal CCC',
          ', '.join(k for k in val if '/' in k) or None,
          'accuracy/top1, va/valence_ccc',
          {'accuracy/top1', 'va/valence_ccc'} <= set(val))
    t.add('checkpoint written', rec.get('checkpoint'), 'iter_N.pth',
          rec.get('checkpoint') is not None)


def _deterministic(t: Targets, rec: dict, device: str) -> None:
    for label, r in rec.get('runs', {}).items():
        if r.get('status') == 'ok':
            t.run_basics(label, r, device)
    c = rec.get('repeat')
    if c:
        t.add('two runs: max abs loss difference', c['max_abs_diff'], '0',
              c['identical'], f'{c["compared"]} iterations')


def _speed(t: Targets, rec: dict, device: str) -> None:
    res = rec.get('results')
    if rec.get('status') != 'ok' or not res:
        return
    s = res['settings']
    for key, label in res.get('labels', {}).items():
        err = res['errors'].get(key, '')
        tr = res['train'].get(key)
        t.add(f'train step time KENT/baseline, {label}, batch '
              f'{s["batch_size"]}', tr and tr['time_ratio'],
              f'<= {SPEED_TARGETS["train"]}',
              tr and tr['time_ratio'] <= SPEED_TARGETS['train'],
              err[:200] or _ci(tr), kind='speed')
        if tr:
            t.add(f'train steps finite under AMP, {label}',
                  tr['finite_losses'], 'all finite', tr['finite_losses'])
            t.add(f'training img/s baseline / KENT, {label}',
                  f'{tr["baseline_img_s"]:.0f} / {tr["kent_img_s"]:.0f}',
                  None, kind='info')
        for batch, r in (res['inference'].get(key) or {}).items():
            t.add(f'inference time KENT/baseline, {label}, batch {batch}',
                  r['time_ratio'], f'<= {SPEED_TARGETS["inference"]}',
                  r['time_ratio'] <= SPEED_TARGETS['inference'], _ci(r),
                  kind='speed')
        mem = res.get('memory', {}).get(key)
        if mem:
            t.add(f'peak memory MB baseline / KENT, {label} (train step; '
                  'inference)', _fmt_memory(mem), None, kind='info',
                  note=mem.get('note', ''))
    lo = res.get('loader') or {}
    if lo.get('loader_over_model'):
        t.add(f'data loader img/s / ResNet-18 training img/s at '
              f'{lo["model_img_size"]}px', lo['loader_over_model'], None,
              kind='info', note=f'loader {lo["img_s"]:.0f} img/s, '
              f'{lo["num_workers"]} workers; bounded by the '
              f'{lo["bottleneck"]}')


def _ci(r: Optional[dict]) -> str:
    ci = (r or {}).get('overhead_ci95_pct')
    return '' if not ci else f'overhead 95% CI {ci[0]:+.1f}% .. {ci[1]:+.1f}%'


def _fmt_memory(mem: dict) -> str:
    def mb(name, part):
        v = mem[name].get(part)
        return '-' if v is None else f'{v:.0f}'
    return (f'{mb("baseline", "train_mb")} / {mb("kent", "train_mb")}; '
            f'{mb("baseline", "infer_mb")} / {mb("kent", "infer_mb")}')


def _fer2013(t: Targets, rec: dict, device: str) -> None:
    for variant, r in rec.get('runs', {}).items():
        if r.get('status') != 'ok':
            continue
        t.run_basics(f'FER2013 {variant}', r, device)
        note = f'{r["epochs"]} epochs' + ('' if r['completed'] else
                                          ', cut by the time budget')
        t.add(f'FER2013 {variant} ResNet-18: PrivateTest top-1 (%)',
              r.get('top1'), f'> {CHANCE:.1f} (chance)',
              r.get('top1') is not None and r['top1'] > CHANCE, note,
              kind='quality')


TARGETS = {'a_train_test': _train_test, 'b_resume': _resume,
           'c_dist_train': _dist, 'd_deepfever': _deepfever,
           'e_deterministic': _deterministic, 'f_speed': _speed,
           'g_fer2013': _fer2013}


def _failed_runs(rec: dict) -> List[str]:
    return [f'{name}: {r.get("error", r.get("status"))}'[:300]
            for name, r in rec.get('runs', {}).items()
            if r.get('status') != 'ok']


def evaluate(res: dict) -> None:
    """Fill ``res['targets']`` and every item's ``verdict`` and
    ``reason``."""
    device, tiny = res['environment']['device'], res['settings']['tiny']
    res['targets'] = []
    for item in ITEMS:
        rec = res['items'].setdefault(item, dict(status='skipped',
                                                 error='not run'))
        t = Targets(item, tiny)
        TARGETS[item](t, rec, device)
        rows = t.rows
        res['targets'] += rows
        missed = [r['name'] for r in rows if r['judged'] and not r['pass']]
        errors = _failed_runs(rec)
        if rec.get('status') == 'skipped':
            verdict, reason = 'skipped', rec.get('error', '')
        elif rec.get('status') != 'ok':
            verdict, reason = 'fail', rec.get('error', '')
        elif errors or missed:
            verdict = 'fail'
            reason = '; '.join(errors + [f'missed: {m}' for m in missed])
        else:
            judged = sum(r['judged'] for r in rows)
            verdict, reason = 'pass', f'{judged} targets met'
            if judged < len(rows):
                reason += f', {len(rows) - judged} for information'
        rec['verdict'], rec['reason'] = verdict, reason[:600]


# -------------------------------------------------------------- markdown
def markdown(res: dict) -> str:
    """The summary: environment, verdict per item, every target."""
    env, s = res['environment'], res['settings']

    def fmt(v):
        return (f'{v:.4g}' if isinstance(v, float) else '-' if v is None
                else str(v))

    lines = [
        '# kent_mm GPU check', '',
        f'{env.get("gpu") or "CPU"}, {env["cpus"]} CPUs; torch '
        f'{env["torch"]} (CUDA {env.get("torch_cuda")}), driver '
        f'{env.get("driver") or "-"}; mmpretrain {env["mmpretrain"]}; '
        f'{"tiny run; " if s["tiny"] else ""}{res["total_s"]:.0f} s of a '
        f'{s["budget_min"]:g} min budget.', '',
        '| item | verdict | seconds | reason |', '| --- | --- | ---: | --- |']
    for item, title in ITEMS.items():
        rec = res['items'][item]
        lines.append(f'| {title} | **{rec["verdict"].upper()}** | '
                     f'{rec.get("seconds", 0)} | '
                     f'{rec["reason"].replace("|", "/")} |')
    lines += ['', '| data | status | seconds | path or error |',
              '| --- | --- | ---: | --- |']
    for name, rec in res.get('prep', {}).items():
        what = rec.get('path') or rec.get('error', '')
        lines.append(f'| {name} | {rec["status"]} | {rec["seconds"]} | '
                     f'{what[:300].replace("|", "/")} |')
    lines += ['', '| item | check | value | target | result | note |',
              '| --- | --- | ---: | --- | --- | --- |']
    for t in res['targets']:
        if t['target'] is None:
            result = 'info' if t['value'] is not None else 'not measured'
        elif t['pass'] is None:
            result = 'not measured'
        else:
            result = ('PASS' if t['pass'] else 'FAIL') + (
                '' if t['judged'] else ' (not judged)')
        lines.append(f'| {t["item"][0]} | {t["name"]} | {fmt(t["value"])} | '
                     f'{t["target"] or "-"} | {result} | '
                     f'{str(t["note"]).replace("|", "/")} |')
    md = osp.join(s['out_dir'], 'speed.md')
    if osp.isfile(md):
        with open(md) as f:
            lines += ['', '## Speed', '', f.read()]
    return '\n'.join(lines) + '\n'


def summary_counts(res: dict) -> Dict[str, int]:
    """How many items passed, failed, were skipped."""
    out = dict(pass_=0, fail=0, skipped=0)
    for rec in res['items'].values():
        out['pass_' if rec['verdict'] == 'pass' else rec['verdict']] += 1
    return {k.rstrip('_'): v for k, v in out.items()}
