"""The FER2013 benchmark driver starts, trains each variant and writes its
table (tiny fixture, one short epoch: no accuracy is checked here)."""
import json

import pytest

from fer_fixtures import write_fer2013_folders
from kent_testing import check, run_tool, write_text_file


@pytest.mark.runtime(35)
def test_fer2013_benchmark_runs_baseline_and_kent(tmp_path):
    root = write_fer2013_folders(tmp_path / 'fer2013', per_class=(2, 1, 1))
    work = tmp_path / 'bench'
    check(run_tool(
        ['tools/benchmarks/fer2013_benchmark.py',
         '--data-root', root, '--work-dir', work,
         '--variants', 'baseline', 'kent-clip-random',
         '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_begin=1',
         'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
         'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
         'model.backbone.depth=18'], timeout=900))
    results = json.loads(
        (work / 'results_standard.json').read_text())['results']
    assert [r['variant'] for r in results] == ['baseline', 'kent-clip-random']
    for r in results:
        assert 0 <= r['top1'] <= 100 and 0 <= r['mean_class_acc'] <= 100
    table = (work / 'results_standard.md').read_text()
    assert '| baseline |' in table and '| kent-clip-random |' in table


@pytest.mark.runtime(60)
def test_zoo_schedule_trains_with_ema_and_reports_tta(tmp_path):
    """The model-zoo recipe (RandAugment, EMA) trains KENT and tests it
    single-crop and with ``--tta`` (flip x zoom, 4 views; the model options
    re-rooted under the TTA wrapper). Both heads run the same driver code,
    which the `standard` test above covers for the baseline. The text
    features are a given file (``kent-clip --clip-text``): the test above
    builds them."""
    from kent_mm.datasets import FER2013
    root = write_fer2013_folders(tmp_path / 'fer2013', per_class=(2, 1, 1))
    text = write_text_file(tmp_path / 'text.pth',
                           FER2013.METAINFO['classes'])
    work = tmp_path / 'bench'
    check(run_tool(
        ['tools/benchmarks/fer2013_benchmark.py', '--schedule', 'zoo',
         '--data-root', root, '--work-dir', work,
         '--variants', 'kent-clip', '--clip-text', text,
         '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_begin=1',
         'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
         'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0'],
        timeout=900))
    results = json.loads((work / 'results_zoo.json').read_text())['results']
    assert [r['variant'] for r in results] == ['kent-clip']
    for r in results:
        for key in ('top1', 'tta_top1', 'tta_ece'):
            assert 0 <= r[key] <= 100, (key, r)
        run_dir = work / r['variant'] / 'seed29'
        ckpt = json.loads((run_dir / 'test_metrics_tta.json').read_text())
        assert 'accuracy/top1' in ckpt
        log = (work / r['variant'] / 'seed29.test_tta.log').read_text()
        assert "type='AverageClsScoreTTA'" in log  # the config it ran
    assert '(TTA ' in (work / 'results_zoo.md').read_text()
