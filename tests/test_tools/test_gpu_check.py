"""tools/benchmarks/gpu_check.py --tiny: every step runs on the CPU on tiny
data and the summary has every section, finite numbers and a pass/fail
flag per target; failed and skipped steps are recorded, not fatal."""
import json
import math
import tarfile

import pytest

from fer_fixtures import write_fer2013_folders
from kent_testing import run_tool

SECTIONS = {'settings', 'environment', 'synthetic', 'speed', 'fer2013',
            'targets', 'budget', 'total_s'}


def _run(tmp_path, *args, timeout=1800):
    out = tmp_path / 'out'
    proc = run_tool(['tools/benchmarks/gpu_check.py', '--tiny', '--out-dir',
                     str(out), *args], timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    def no_nan(name):
        raise AssertionError(f'{name} in gpu_check.json')

    res = json.loads((out / 'gpu_check.json').read_text(),
                     parse_constant=no_nan)
    assert SECTIONS <= set(res)
    return res, (out / 'gpu_check.md').read_text()


def _numbers(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield x


def _target(res, start):
    hits = [t for t in res['targets'] if t['name'].startswith(start)]
    assert hits, (start, [t['name'] for t in res['targets']])
    return hits


@pytest.mark.runtime(100)
def test_gpu_check_tiny(tmp_path):
    # FER2013 as its .tar.gz archive, in the official folder layout.
    write_fer2013_folders(tmp_path / 'fer' / 'fer2013')
    archive = tmp_path / 'fer2013.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(tmp_path / 'fer' / 'fer2013', arcname='fer2013')
    res, md = _run(tmp_path, '--fer2013', str(archive))

    assert res['environment']['device'] == 'cpu'
    assert set(res['synthetic']) == {'data', 'text', 'resnet18', 'swin-t'}
    assert set(res['fer2013']) == {'data', 'text', 'baseline', 'kent'}
    steps = list(res['synthetic'].values()) + list(res['fer2013'].values())
    for rec in steps + [res['speed']]:
        assert rec['status'] == 'ok', rec
    assert all(math.isfinite(x) for x in _numbers(res))

    for key in ('resnet18', 'swin-t'):
        r = res['synthetic'][key]
        assert r['amp'] == 'bfloat16'  # --amp on a CPU
        assert r['last_iter'] == 2 and r['epochs'] == 2
        assert 0 <= r['top1'] <= 100
        assert r['finite_losses'] is True
    for variant in ('baseline', 'kent'):
        r = res['fer2013'][variant]
        assert r['completed'] is True and r['checkpoint'].startswith('best_')
        assert 0 <= r['top1'] <= 100
    speed = res['speed']['results']
    assert speed['settings']['amp'] and speed['errors'] == {}
    assert set(speed['train']) == {'resnet18', 'swin-t'}

    for t in res['targets']:
        assert set(t) == {'name', 'value', 'target', 'pass', 'note'}
        assert t['pass'] in (True, False, None)
        # Every step ran: each target with a threshold has a verdict.
        assert (t['pass'] is None) == (t['target'] is None), t
    for start in ('synthetic resnet18: losses finite',
                  'synthetic swin-t: loss falling',
                  'synthetic swin-t: test top-1',
                  'train step time KENT/baseline, resnet18',
                  'train step time KENT/baseline, swin-t',
                  'inference time KENT/baseline, resnet18',
                  'inference time KENT/baseline, swin-t',
                  'data loader img/s / ResNet-18 training img/s at 112px',
                  'no NaN/inf under bf16 autocast',
                  'FER2013 baseline', 'FER2013 kent'):
        _target(res, start)
    assert _target(res, 'no NaN/inf')[0]['pass'] is True
    assert '| check | value | target | result | note |' in md
    assert '## Speed' in md


@pytest.mark.runtime(9)
def test_gpu_check_records_failures_and_skips(tmp_path):
    # A missing FER2013 path fails its step; the training steps that need
    # it are skipped; the run still ends with a summary.
    res, md = _run(tmp_path, '--steps', 'fer2013', '--fer2013',
                   str(tmp_path / 'missing'))
    assert res['fer2013']['data']['status'] == 'failed'
    assert 'FileNotFoundError' in res['fer2013']['data']['error']
    assert res['fer2013']['kent']['status'] == 'skipped'
    for t in _target(res, 'FER2013'):
        assert t['pass'] is None and t['note']
    assert 'not measured' in md
    # No time left: the step is skipped, with the reason.
    res, _ = _run(tmp_path, '--steps', 'speed', '--budget-min', '0')
    assert res['speed']['status'] == 'skipped'
    assert 'time budget' in res['speed']['error']
    assert _target(res, 'train step time')[0]['pass'] is None
    # The budget runs out during a step: its subprocess is stopped (or the
    # step skipped if the start-up took the budget); the steps that need
    # its output are skipped. (200,000 images take minutes to generate on
    # any machine; the budget is 6 s.)
    res, _ = _run(tmp_path, '--steps', 'synthetic', '--budget-min', '0.1',
                  '--synthetic-images', '200000')
    data = res['synthetic']['data']
    assert data['status'] in ('failed', 'skipped')
    assert 'time budget' in data['error']
    assert res['synthetic']['resnet18']['status'] == 'skipped'
