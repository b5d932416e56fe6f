"""tools/benchmarks/gpu_check.py: every item (a)-(g) runs with --tiny on
the CPU and passes, with finite numbers and a verdict per target; CUDA
asked for and not usable is refused at once with the versions and the fix;
the time budget skips items and stops tools; FER2013 archives are
unpacked member by member, refusing unsafe members."""
import importlib
import io
import json
import math
import os
import stat
import sys
import tarfile
import time

import pytest
import torch

from fer_fixtures import write_fer2013_folders
from kent_testing import REPO, run_tool

BENCH = os.path.join(REPO, 'tools', 'benchmarks')
ITEMS = ('a_train_test', 'b_resume', 'c_dist_train', 'd_deepfever',
         'e_deterministic', 'f_speed', 'g_fer2013')


def _module(name):
    """A module of tools/benchmarks (its scripts import each other as
    plain modules)."""
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    return importlib.import_module(name)


def _run(out, *args, env=None, timeout=900):
    proc = run_tool(['tools/benchmarks/gpu_check.py', '--out-dir', out,
                     *args], env=env, timeout=timeout)
    return proc, proc.stdout + proc.stderr


def _result(out):
    def no_nan(name):
        raise AssertionError(f'{name} in gpu_check.json')

    with open(os.path.join(out, 'gpu_check.json')) as f:
        return json.load(f, parse_constant=no_nan)


def _numbers(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield x


@pytest.mark.slow  # a third of the suite's CPU time: CI runs it
@pytest.mark.runtime(120)
def test_tiny_runs_every_item_and_each_passes(tmp_path):
    # FER2013 as a .tar.gz archive in the official folder layout.
    write_fer2013_folders(tmp_path / 'fer' / 'fer2013')
    archive = tmp_path / 'fer2013.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(tmp_path / 'fer' / 'fer2013', arcname='fer2013')
    out = str(tmp_path / 'out')
    start = time.time()
    proc, log = _run(out, '--tiny', '--fer2013', archive)
    assert proc.returncode == 0, log[-5000:]
    res = _result(out)
    assert {'settings', 'environment', 'prep', 'items', 'targets',
            'total_s', 'budget'} <= set(res)
    assert res['environment']['device'] == 'cpu'
    assert all(math.isfinite(x) for x in _numbers(res))
    assert res['total_s'] <= time.time() - start

    # Every item ran and passed, with its reason.
    assert set(res['items']) == set(ITEMS)
    bad = {name: (rec['status'], rec['verdict'], rec['reason'])
           for name, rec in res['items'].items()
           if (rec['status'], rec['verdict']) != ('ok', 'pass')}
    assert not bad, bad
    for rec in res['items'].values():
        assert rec['reason'].endswith(('targets met', 'for information'))
    # A verdict per target: judged targets all pass; what a tiny run cannot
    # judge (learning, speed) is computed, shown and marked.
    items_with_targets = set()
    for t in res['targets']:
        assert set(t) == {'item', 'name', 'value', 'target', 'pass',
                          'judged', 'note'}
        items_with_targets.add(t['item'])
        if t['target'] is None:
            assert t['pass'] is None and not t['judged']
            continue
        assert isinstance(t['pass'], bool), t
        if t['judged']:
            assert t['pass'], t
        else:
            assert t['note'].startswith('tiny run: not judged'), t
    assert items_with_targets == set(ITEMS)

    items = res['items']
    for key in ('swin-t', 'resnet18'):  # (a): 2 epochs x 4 iterations
        r = items['a_train_test']['runs'][key]
        assert r['amp'] == 'bfloat16' and r['iterations'] == 8
        assert 0 <= r['top1'] <= 100 and r['val'] is not None
    b = items['b_resume']  # (b): epoch 2 repeats exactly on the CPU
    assert b['resumed_epoch'] == 1 and b['comparison']['compared'] == 4
    assert b['comparison']['identical'] is True
    launches = set()
    for r in items['c_dist_train']['runs'].values():  # (c): 2 processes
        assert r['world_size'] == 2 and r['last_iter'] == 2 == (
            r['expected_iters'])
        launches.add(r['launch'])
    assert launches == {'1 node x 2 processes (CPU: gloo)',
                        '2 nodes x 1 process (gloo)'}
    d = items['d_deepfever']
    assert {'expression.loss_cls', 'expression.loss_va',
            'triplet.loss_triplet'} <= set(d['loss_keys'])
    assert d['checkpoint'] == f'iter_{d["iterations"]}.pth'
    e = items['e_deterministic']
    assert len(e['runs']) == 3 and e['repeat']['identical'] is True
    speed = items['f_speed']['results']
    assert speed['settings']['amp'] and speed['errors'] == {}
    assert speed['labels'] == {
        'resnet18': 'ResNet-18 32px',
        'swin-t': 'Swin-T 32px (patch 2: 16x16 tokens)'}
    for key in ('resnet18', 'swin-t'):
        assert speed['train'][key]['finite_losses'] is True
        assert set(speed['inference'][key]) == {'1', '2'}
        mem = speed['memory'][key]  # CUDA only
        assert mem['kent']['train_mb'] is None and 'CUDA' in mem['note']
    for variant in ('baseline', 'kent'):
        r = items['g_fer2013']['runs'][variant]
        assert r['completed'] is True and r['checkpoint'].startswith('best_')

    md = (tmp_path / 'out' / 'gpu_check.md').read_text()
    assert md.count('**PASS**') == 7 and '## Speed' in md
    assert 'Swin-T 32px (patch 2: 16x16 tokens)' in md


def _fake_nvidia_smi(folder, driver='535.104.05', cuda='12.2'):
    """An ``nvidia-smi`` that reports an old driver (and no usable GPU
    behind it: torch still finds none)."""
    folder.mkdir()
    exe = folder / 'nvidia-smi'
    exe.write_text(f"""#!/bin/sh
case "$1" in
  --query-gpu=*) echo "{driver}, NVIDIA H100 80GB HBM3" ;;
  *) echo "| NVIDIA-SMI {driver}   Driver Version: {driver}   CUDA Version: \
{cuda}     |" ;;
esac
""")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(folder)


def test_refuses_cuda_when_not_usable(tmp_path):
    """--device cuda (the default) with no usable CUDA stops before any
    item, exit status 3, naming the torch build, the driver and the fix."""
    out = str(tmp_path / 'out')
    hide = dict(CUDA_VISIBLE_DEVICES='')  # also on a machine with a GPU
    proc, log = _run(out, '--device', 'cuda', env=hide, timeout=120)
    assert proc.returncode == 3, log[-3000:]
    assert 'CUDA was asked for (--device cuda) but is not usable' in log
    assert f'torch {torch.__version__}' in proc.stderr
    build = (f'built for CUDA {torch.version.cuda}' if torch.version.cuda
             else 'a CPU-only build')
    assert build in proc.stderr and 'Fix:' in proc.stderr
    res = _result(out)
    assert res['verdict'] == 'refused' and 'items' not in res
    assert res['preflight']['usable'] is False
    assert 'refused' in (tmp_path / 'out' / 'gpu_check.md').read_text()
    assert not os.path.exists(os.path.join(out, 'work'))
    # The default device is cuda: no silent CPU run.
    assert _module('gpu_check').parse_args(['--out-dir', out]).device == \
        'cuda'


def test_refusal_names_driver_and_fitting_wheel(tmp_path):
    if torch.version.cuda is None:
        pytest.skip('a CPU-only torch: the fix is any CUDA wheel')
    bin_dir = _fake_nvidia_smi(tmp_path / 'bin')
    out = str(tmp_path / 'out')
    env = dict(CUDA_VISIBLE_DEVICES='',
               PATH=bin_dir + os.pathsep + os.environ['PATH'])
    proc, log = _run(out, '--device', 'cuda', env=env, timeout=120)
    assert proc.returncode == 3, log[-3000:]
    err = proc.stderr
    assert 'NVIDIA driver 535.104.05, which supports CUDA up to 12.2' in err
    if int(torch.version.cuda.split('.')[0]) > 12:  # too new a wheel
        same = f'torch=={torch.__version__.split("+")[0]}'
        fixes = [f'python -m pip install --force-reinstall {same} '
                 'torchvision==', '--index-url https://download.pytorch.org/'
                 'whl/cu129', 'python -m pip install --force-reinstall '
                 'torch==2.10.0 torchvision==0.25.0']
        assert all(f in err for f in fixes), err
        with open(os.path.join(out, 'torch_fix.txt')) as f:
            lines = f.read().splitlines()
        assert lines[0].startswith(fixes[0]) and lines[0].endswith('cu129')
        assert lines[-1] == fixes[2] and len(lines) == 4


def test_fitting_wheels_share_the_drivers_cuda_major():
    """CUDA minor version compatibility: a 12.2 driver runs cu129."""
    cuda = _module('gpu_check_cuda')
    assert cuda.fitting_wheels('12.2')[:3] == ['cu129', 'cu128', 'cu126']
    assert cuda.fitting_wheels('13.1') == ['cu130']
    assert cuda.fitting_wheels('11.4') == ['cu118']
    assert cuda.fitting_wheels(None) == []


@pytest.mark.runtime(20)
def test_budget_skips_items_and_reports(tmp_path):
    # No time left: every item is skipped with the reason; the report is
    # still written.
    out = str(tmp_path / 'out')
    proc, log = _run(out, '--tiny', '--items', 'd', 'f', '--budget-min',
                     '0')
    assert proc.returncode == 0, log[-3000:]
    res = _result(out)
    for name in ('d_deepfever', 'f_speed'):
        rec = res['items'][name]
        assert rec['verdict'] == 'skipped', rec
        assert rec['reason'].startswith('time budget'), rec
    assert res['items']['a_train_test']['reason'] == 'not in --items'
    assert res['items']['g_fer2013']['verdict'] == 'skipped'
    md = (tmp_path / 'out' / 'gpu_check.md').read_text()
    assert md.count('**SKIPPED**') == 7


def test_missing_fer2013_skips_its_item_with_the_reason(tmp_path):
    out = str(tmp_path / 'out')
    proc, log = _run(out, '--tiny', '--items', 'g', '--fer2013',
                     tmp_path / 'missing')
    assert proc.returncode == 0, log[-3000:]
    res = _result(out)
    assert res['prep']['fer2013']['status'] == 'failed'
    assert 'FileNotFoundError' in res['prep']['fer2013']['error']
    # Its text features are not built for nothing.
    assert res['prep']['text_fer2013']['status'] == 'skipped'
    rec = res['items']['g_fer2013']
    assert rec['verdict'] == 'skipped' and 'FileNotFoundError' in \
        rec['reason']


def test_tool_still_running_at_the_deadline_is_stopped(tmp_path):
    """The tool and what it started (its process group) are killed."""
    gpu_check = _module('gpu_check')
    args = gpu_check.parse_args(['--tiny', '--out-dir', str(tmp_path)])
    chk = gpu_check.Check(args, dict(device='cpu'))
    pid_file = tmp_path / 'child.pid'
    script = ('import subprocess, sys, time\n'
              "p = subprocess.Popen([sys.executable, '-c', "
              "'import time; time.sleep(120)'])\n"
              f'open({str(pid_file)!r}, "w").write(str(p.pid))\n'
              'time.sleep(120)\n')
    log = str(tmp_path / 'sleep.log')
    start = time.time()
    with pytest.raises(RuntimeError, match='stopped by the time budget'):
        chk.run(chk.py('-c', script), log, deadline=time.time() + 3)
    assert time.time() - start < 30
    child = int(pid_file.read_text())
    for _ in range(50):  # killed: gone, or a zombie nobody reaped yet
        try:
            with open(f'/proc/{child}/stat') as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f'process {child} survived the deadline')
    # may_stop: the caller is told instead.
    assert chk.run(chk.py('-c', 'import time; time.sleep(60)'), log,
                   deadline=time.time() + 1, may_stop=True) is False


def _tar(path, members):
    """A .tar.gz with ``members``: (name, bytes) files or TarInfo."""
    with tarfile.open(path, 'w:gz') as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return str(path)


def test_safe_extract_without_extractall(tmp_path, monkeypatch):
    data = _module('gpu_check_data')

    def no_extractall(*args, **kwargs):  # as on builds without filter=
        raise TypeError("extractall() got an unexpected keyword 'filter'")

    monkeypatch.setattr(tarfile.TarFile, 'extractall', no_extractall)
    archive = _tar(tmp_path / 'fer.tar.gz', [
        ('fer2013/train/angry/0.png', b'png'),
        ('./fer2013/test/happy/1.png', b'png2'),
        ('fer2013/validation/sad/2.png', b'')])
    dest = str(tmp_path / 'dest')
    assert data.safe_extract(archive, dest) == 3
    with open(os.path.join(dest, 'fer2013', 'test', 'happy', '1.png'),
              'rb') as f:
        assert f.read() == b'png2'
    assert data.find_fer2013(dest) == os.path.join(dest, 'fer2013')


@pytest.mark.parametrize('member', [
    '../evil.png', 'fer2013/../../evil.png', '/tmp/evil.png', 'link'])
def test_safe_extract_refuses_unsafe_members(tmp_path, member):
    data = _module('gpu_check_data')
    if member == 'link':
        info = tarfile.TarInfo('fer2013/train/link.png')
        info.type, info.linkname = tarfile.SYMTYPE, '/etc/passwd'
        bad = info
    else:
        bad = (member, b'x')
    archive = _tar(tmp_path / 'bad.tar.gz',
                   [('fer2013/train/angry/0.png', b'png'), bad])
    dest = str(tmp_path / 'dest')
    with pytest.raises(data.UnsafeArchiveError) as err:
        data.safe_extract(archive, dest)
    assert archive in str(err.value)
    assert (member if member != 'link' else 'link.png') in str(err.value)
    # Nothing half-written: no destination, no partial folder.
    assert not os.path.exists(dest) and not os.path.exists(dest + '.partial')
    assert not (tmp_path / 'evil.png').exists()


def _scalars(work_dir, losses, memory=None):
    folder = work_dir / '20260101_000000' / 'vis_data'
    folder.mkdir(parents=True)
    rows = []
    for i, loss in enumerate(losses, 1):
        row = dict(loss=loss, loss_s=loss / 2, iter=i, lr=0.1, time=0.5)
        if memory:
            row['memory'] = memory
        rows.append(json.dumps(row))
    (folder / 'scalars.json').write_text('\n'.join(rows) + '\n')
    return str(work_dir)


def test_compare_losses_after_the_resume_point(tmp_path):
    report = _module('gpu_check_report')
    ref = _scalars(tmp_path / 'ref', [4., 3., 2.5, 2.])
    same = _scalars(tmp_path / 'same', [9., 9., 2.5, 2.])  # before: ignored
    other = _scalars(tmp_path / 'other', [4., 3., 2.5, 2.2])
    c = report.compare_losses(ref, same, after_iter=2)
    assert c['compared'] == 2 and c['identical'] and c['max_abs_diff'] == 0
    c = report.compare_losses(ref, other, after_iter=2)
    assert not c['identical']
    assert c['max_abs_diff'] == pytest.approx(0.2)
    assert c['max_rel_diff'] == pytest.approx(0.1)


def test_read_losses_tells_the_device_from_logged_memory(tmp_path):
    """MMEngine logs ``memory`` only when training on CUDA: a run that
    fell back to the CPU is caught."""
    report = _module('gpu_check_report')
    cuda = report.read_losses(_scalars(tmp_path / 'a', [3., 2.], 812))
    cpu = report.read_losses(_scalars(tmp_path / 'b', [3., 2.]))
    assert cuda['device_used'] == 'cuda' and cuda['max_memory_mb'] == 812
    assert cpu['device_used'] == 'cpu' and cpu['max_memory_mb'] is None
    t = report.Targets('a_train_test', tiny=False)
    t.run_basics('run', cpu, 'cuda')
    on = [r for r in t.rows if r['name'] == 'run: trained on'][0]
    assert on['pass'] is False and on['judged'] is True


@pytest.mark.runtime(12)
def test_train_tool_destroys_its_process_group(tmp_path, monkeypatch,
                                               rafdb_root, rafdb_text,
                                               lean_runner):
    """``tools/train.py --launcher pytorch`` destroys its gloo process group
    when MMPretrain's script returns: left to the interpreter's exit, a
    rank can abort ("terminate called without an active exception") and
    ``dist_train.sh`` fail after a finished run."""
    import torch.distributed as dist

    from kent_testing import free_port, run_script, write_tiny_config
    cfg = write_tiny_config(tmp_path / 'cfg.py', 'kent_resnet18_rafdb.py',
                            rafdb_root, rafdb_text, max_epochs=1)
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                           LOCAL_WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    try:
        run_script('train.py', [cfg, '--work-dir', tmp_path / 'work',
                                '--launcher', 'pytorch'])
        assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():  # on failure, leave no group behind
            dist.destroy_process_group()
