"""tools/benchmark.py starts and finishes on a tiny input (issue 4,
acceptance 4). No timing is asserted: the benchmark itself is never run
inside the test suite."""
import json

from kent_testing import run_tool  # noqa: E402


def _positive(x):
    return isinstance(x, (int, float)) and x > 0


def test_benchmark_quick(tmp_path):
    out = tmp_path / 'bench.json'
    md = tmp_path / 'bench.md'
    proc = run_tool([
        'tools/benchmark.py', '--quick', '--img-size', '32', '--batch-size',
        '2', '--repeats', '2', '--warmup', '1', '--threads', '1',
        '--models', 'resnet18', 'swin-t', '--out-json', str(out), '--out-md',
        str(md)
    ], env={'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads(out.read_text())

    assert res['settings']['img_size'] == 32
    assert res['settings']['batch_size'] == 2
    assert res['machine']['cpu']
    for part in ('train', 'inference'):
        assert set(res[part]) == {'resnet18', 'swin-t'}
    keys = {'kent_img_s', 'baseline_img_s', 'time_ratio', 'overhead_pct',
            'pair_ratios'}
    results = list(res['train'].values())
    for by_batch in res['inference'].values():
        assert set(by_batch) == {'1', '2'}
        results += list(by_batch.values())
    for r in results:
        assert keys <= set(r)
        assert _positive(r['kent_img_s']) and _positive(r['baseline_img_s'])
        assert _positive(r['time_ratio'])
        assert len(r['pair_ratios']) == 2
        assert all(_positive(x) for x in r['pair_ratios'])

    lo = res['loader']
    assert _positive(lo['img_s'])
    assert lo['num_workers'] == 2  # the config's default
    assert lo['dataset_images'] == 16
    assert _positive(lo['model_train_img_s']['kent'])
    assert _positive(lo['model_train_img_s']['baseline'])
    assert lo['bottleneck'] in ('model', 'data loader')

    table = md.read_text()
    assert '| train step 32px | resnet18 |' in table
    assert 'data loader' in table


def _load_benchmark_module():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / 'tools' / 'benchmark.py'
    spec = importlib.util.spec_from_file_location('kent_benchmark', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interleaved_alternates_abba_and_times_each_call_separately(
        monkeypatch):
    # A fake clock: each call of A takes 1 s, each call of B 3 s, so the
    # rates must be exactly 1 and 1/3 calls/s whatever the order.
    bench = _load_benchmark_module()
    clock = [0.]
    order = []

    def make(name, cost):

        def fn():
            order.append(name)
            clock[0] += cost

        return fn

    monkeypatch.setattr(bench.time, 'perf_counter', lambda: clock[0])
    rates = bench.interleaved(
        {'kent': make('K', 1.), 'baseline': make('B', 3.)},
        window=15., device='cpu')
    assert order[:8] == ['K', 'B', 'B', 'K', 'K', 'B', 'B', 'K']
    assert rates == {'kent': 1.0, 'baseline': 1 / 3}
    # With --interleave, paired() returns one rate per model per pair.
    clock[0] = 0.
    res = bench.paired({'kent': make('K', 1.), 'baseline': make('B', 3.)},
                       repeats=3, warmup=0, window=4., device='cpu',
                       interleave=True)
    assert res == {'kent': [1.0] * 3, 'baseline': [1 / 3] * 3}


def test_median_ci_uses_binomial_order_statistics():
    bench = _load_benchmark_module()
    values = [float(v) for v in range(15, 0, -1)]  # unsorted on purpose
    # n = 15: 2·P(B <= 3) = 0.035 <= 0.05 < 2·P(B <= 4) -> 4th and 12th.
    assert bench.median_ci(values) == (4., 12.)
    # n = 6: only (min, max) reaches 95% (coverage 1 - 2/64).
    assert bench.median_ci([3., 1., 2., 6., 5., 4.]) == (1., 6.)
    # n = 5: even (min, max) covers only 93.75%.
    assert bench.median_ci([1., 2., 3., 4., 5.]) is None
    assert bench.median_ci([1., 2., 3., 4., 5.], level=0.9) == (1., 5.)
    # summarize reports it as overhead percentages of the time ratio.
    res = bench.summarize(
        {'kent': [1.] * 6, 'baseline': [1.00, 1.01, 1.02, 1.03, 1.04, 1.05]},
        batch=1)
    assert res['overhead_ci95_pct'] == [0.0, 5.0]


def test_inference_tail_quick(tmp_path):
    # Starts and finishes on a tiny input; reports all three models.
    out = tmp_path / 'tail.json'
    proc = run_tool([
        'tools/benchmarks/inference_tail.py', '--img-size', '32',
        '--rounds', '2', '--warmup', '1', '--threads', '1', '--out-json',
        str(out)
    ], env={'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert set(res['median_us']) == {'kent', 'kent_unfused', 'baseline'}
    for parts in res['median_us'].values():
        assert all(_positive(parts[p]) for p in ('full', 'backbone', 'tail'))
    assert set(res['ratio_to_baseline']) == {'kent', 'kent_unfused'}
    assert '| kent_unfused |' in proc.stdout
