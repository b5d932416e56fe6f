"""The benchmark scripts of tools/benchmarks/ start and finish on tiny
inputs, and their timing module pairs, interleaves and summarises as
documented. No speed is asserted."""
import importlib.util
import json
import math
import os.path as osp

import pytest
from kent_testing import REPO, run_tool

BENCH = osp.join(REPO, 'tools', 'benchmarks')


@pytest.fixture(scope='module')
def timing():
    spec = importlib.util.spec_from_file_location(
        'kent_bench_timing', osp.join(BENCH, 'timing.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _run(args):
    proc = run_tool(args, env={'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.mark.runtime(17)
def test_speed_quick(tmp_path):
    out, md = tmp_path / 'speed.json', tmp_path / 'speed.md'
    _run(['tools/benchmarks/speed.py', '--quick', '--img-size', '32',
          '--batch-size', '2', '--repeats', '2', '--warmup', '1',
          '--threads', '1', '--models', 'resnet18', 'swin-t',
          '--train-throughput-size', '40', '--out-json', str(out),
          '--out-md', str(md)])
    res = json.loads(out.read_text())
    assert res['settings']['img_size'] == 32
    assert res['settings']['batch_size'] == 2
    assert res['machine']['cpu']
    for part in ('train', 'inference'):
        assert set(res[part]) == {'resnet18', 'swin-t'}
    assert set(res['train_throughput']['40']) == {'resnet18', 'swin-t'}
    results = list(res['train'].values())
    results += list(res['train_throughput']['40'].values())
    for by_batch in res['inference'].values():
        assert set(by_batch) == {'1', '2'}
        results += list(by_batch.values())
        # Inference is timed after switch_to_deploy(): KENT's neck fused.
        for r in by_batch.values():
            assert r['deployed'] == {'kent': ['E2NNeck'], 'baseline': []}
    for r in results:
        assert _positive(r['kent_img_s']) and _positive(r['baseline_img_s'])
        assert _positive(r['time_ratio'])
        assert len(r['pair_ratios']) == 2
        assert all(_positive(x) for x in r['pair_ratios'])
    for r in res['train'].values():
        assert r['finite_losses'] is True

    lo = res['loader']
    assert _positive(lo['img_s'])
    assert lo['num_workers'] == 2  # the config's default
    assert lo['dataset_images'] == 16
    assert lo['output_size'] == [112, 112]
    assert lo['model_img_size'] == 32  # no ResNet-18 run at 112 px
    assert _positive(lo['model_train_img_s']['kent'])
    # The slower of the two models against the loader decides.
    slower = min(lo['model_train_img_s'].values())
    assert lo['loader_over_model'] == pytest.approx(lo['img_s'] / slower)
    assert lo['bottleneck'] == ('model' if lo['img_s'] >= slower
                                else 'data loader')
    table = md.read_text()
    assert '| train step 32px | resnet18 |' in table
    assert '| train step 40px | swin-t |' in table
    assert 'data loader' in table


def test_speed_no_deploy_and_amp(tmp_path):
    out = tmp_path / 'speed.json'
    _run(['tools/benchmarks/speed.py', '--quick', '--img-size', '32',
          '--batch-size', '2', '--repeats', '1', '--warmup', '1',
          '--threads', '1', '--models', 'resnet18', '--parts', 'train',
          'infer', '--infer-batch-sizes', '2', '--no-deploy', '--amp',
          '--channels-last', '--out-json', str(out)])
    res = json.loads(out.read_text())
    assert res['settings']['amp_dtype'] == 'bfloat16'  # --amp on CPU
    r = res['inference']['resnet18']['2']
    assert r['deployed'] == {'kent': [], 'baseline': []}
    assert res['train']['resnet18']['finite_losses'] is True
    assert 'loader' not in res


def test_precision_speed_quick(tmp_path):
    out, md = tmp_path / 'prec.json', tmp_path / 'prec.md'
    _run(['tools/benchmarks/precision_speed.py', '--quick', '--img-size',
          '16', '--batch-size', '4', '--repeats', '2', '--warmup', '1',
          '--threads', '1', '--out-json', str(out), '--out-md', str(md)])
    res = json.loads(out.read_text())
    assert res['settings']['config'].endswith(
        'baseline_resnet18_fer2013_standard.py')
    v = res['variants']
    assert list(v) == ['fp32', 'bf16', 'bf16-cl']
    assert [v[k]['optim_wrapper'] for k in v] == [
        'OptimWrapper', 'BF16OptimWrapper', 'BF16OptimWrapper']
    assert [v[k]['channels_last'] for k in v] == [False, False, True]
    assert v['fp32']['speedup'] == 1.0
    for r in v.values():
        assert _positive(r['img_s']) and _positive(r['speedup'])
        assert len(r['pair_ratios']) == 2
        assert r['finite_losses'] is True
    assert '| bf16-cl | BF16OptimWrapper |' in md.read_text()


def test_onnx_speed_quick(tmp_path):
    pytest.importorskip('onnxruntime')
    out = tmp_path / 'onnx.json'
    proc = _run(['tools/benchmarks/onnx_speed.py',
                 'configs/kent_resnet18_rafdb.py', '--batch-sizes', '1',
                 '--img-size', '32', '--threads', '1', '--rounds', '2',
                 '--window', '0.01', '--out-json', str(out)])
    r = json.loads(out.read_text())['results']['kent_resnet18_rafdb.py']['1']
    assert _positive(r['torch_img_s']) and _positive(r['onnx_img_s'])
    assert _positive(r['speedup']) and len(r['pair_ratios']) == 2
    assert '| kent_resnet18_rafdb.py | 1 |' in proc.stdout


def _fake_calls(monkeypatch, timing, costs):
    """Functions that advance a fake clock by their cost and log their
    name."""
    clock, order = [0.], []
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: clock[0])

    def make(name, cost):

        def fn():
            order.append(name)
            clock[0] += cost

        return fn

    return {name: make(name[0].upper(), c) for name, c in costs.items()}, \
        order, clock


def test_interleaved_alternates_abba_and_times_each_call_separately(
        monkeypatch, timing):
    # Each call of K takes 1 s, each call of B 3 s, so the rates must be
    # exactly 1 and 1/3 calls/s whatever the order.
    fns, order, clock = _fake_calls(monkeypatch, timing,
                                    dict(kent=1., baseline=3.))
    rates = timing.interleaved(fns, window=15., device='cpu')
    assert order[:8] == ['K', 'B', 'B', 'K', 'K', 'B', 'B', 'K']
    assert rates == {'kent': 1.0, 'baseline': 1 / 3}
    # With interleave, paired() returns one rate per function per pair.
    clock[0] = 0.
    res = timing.paired(fns, repeats=3, warmup=0, window=4., device='cpu',
                        interleave=True)
    assert res == {'kent': [1.0] * 3, 'baseline': [1 / 3] * 3}


def test_paired_flips_the_order_every_pair(monkeypatch, timing):
    # Three functions (as precision_speed.py): A B C, then C B A, ...; a
    # window of 1 s holds exactly one call of each.
    fns, order, _ = _fake_calls(monkeypatch, timing,
                                dict(a=1., b=2., c=4.))
    res = timing.paired(fns, repeats=3, warmup=1, window=1.)
    assert order == list('ABC') + list('ABC') + list('CBA') + list('ABC')
    assert res == {'a': [1.] * 3, 'b': [.5] * 3, 'c': [.25] * 3}
    assert timing.compare(res, 'c', 'a')['time_ratio'] == 4.


def test_median_ci_uses_binomial_order_statistics(timing):
    values = [float(v) for v in range(15, 0, -1)]  # unsorted on purpose
    # n = 15: 2·P(B <= 3) = 0.035 <= 0.05 < 2·P(B <= 4) -> 4th and 12th.
    assert timing.median_ci(values) == (4., 12.)
    # n = 6: only (min, max) reaches 95% (coverage 1 - 2/64).
    assert timing.median_ci([3., 1., 2., 6., 5., 4.]) == (1., 6.)
    # n = 5: even (min, max) covers only 93.75%.
    assert timing.median_ci([1., 2., 3., 4., 5.]) is None
    assert timing.median_ci([1., 2., 3., 4., 5.], level=0.9) == (1., 5.)
    # summarize reports it as overhead percentages of the time ratio.
    res = timing.summarize(
        {'kent': [1.] * 6, 'baseline': [1.00, 1.01, 1.02, 1.03, 1.04, 1.05]},
        batch=1)
    assert res['overhead_ci95_pct'] == [0.0, 5.0]


def test_throughput_skips_the_first_batch_and_chains_epochs(
        monkeypatch, timing):
    clock = [0.]
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: clock[0])

    class Loader:
        """Two batches of 4 items an epoch; each takes 1 s (the first of
        each epoch 10 s)."""

        def __iter__(self):
            for i in range(2):
                clock[0] += 10. if i == 0 else 1.
                yield dict(inputs=[0] * 4)

    res = timing.throughput(Loader(), num_batches=3)
    # Timed: batch 2 of epoch 1 (1 s), epoch 2 (10 + 1 s): 12 items, 12 s.
    assert res == dict(img_s=1.0, first_batch_s=10., timed_batches=3)
