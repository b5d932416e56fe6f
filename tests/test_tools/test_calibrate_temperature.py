"""``tools/analysis_tools/calibrate_temperature.py``: temperature scaling of
the predictions files of ``tools/test.py --out FILE.pkl --out-item pred``.
"""
import json
import os.path as osp
import runpy

import numpy as np
import pytest
import torch
from mmengine.evaluator import DumpResults
from mmpretrain.structures import DataSample

from kent_testing import REPO, run_script

TOOL = 'analysis_tools/calibrate_temperature.py'
calib = runpy.run_path(osp.join(REPO, 'tools', TOOL))


def _predictions(n: int, true_t: float, seed: int, num_classes: int = 4):
    """Labels drawn from ``softmax(z)``, scores reported as
    ``softmax(z / true_t)``: a model whose scores are calibrated after
    dividing their log by ``1 / true_t``, i.e. whose best fitted
    temperature is ``1 / true_t``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0., 2., (n, num_classes))
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = np.array([rng.choice(num_classes, p=row) for row in p])
    scores = torch.from_numpy(z / true_t).softmax(-1).float()
    return scores, labels


def _dump(path, scores, labels):
    """Write the file ``tools/test.py --out`` writes (``DumpResults``)."""
    samples = [
        DataSample().set_gt_label(int(t)).set_pred_label(
            int(s.argmax())).set_pred_score(s).to_dict()
        for s, t in zip(scores, labels)
    ]
    dump = DumpResults(out_file_path=str(path))
    dump.process(None, samples)
    dump.compute_metrics(dump.results)
    return str(path)


def test_fit_recovers_the_temperature_of_overconfident_and_underconfident_scores():  # noqa: E501
    for true_t, expected in ((0.5, 2.), (2., 0.5)):
        scores, labels = _predictions(4000, true_t, seed=0)
        logp = scores.double().log().numpy()
        t = calib['fit_temperature'](logp, labels)
        assert t == pytest.approx(expected, rel=0.08)
        before = calib['evaluate'](logp, labels, 1.)
        after = calib['evaluate'](logp, labels, t)
        # Temperature changes the confidence, never the ranking.
        assert after['top1'] == before['top1']
        assert after['nll'] < before['nll']
        assert after['ece'] < before['ece'] / 3


def test_tool_fits_on_val_and_reports_test_before_and_after(tmp_path):
    val = _dump(tmp_path / 'val.pkl', *_predictions(3000, 0.5, seed=1))
    test = _dump(tmp_path / 'test.pkl', *_predictions(3000, 0.5, seed=2))
    out = run_script(TOOL, [val, test, '--out', tmp_path / 'cal.json'])
    result = json.loads((tmp_path / 'cal.json').read_text())
    assert result['temperature'] == pytest.approx(2., rel=0.1)
    assert f'temperature T = {result["temperature"]:.4f}' in out
    for split in ('val', 'test'):
        r = result[split]
        assert r['num_samples'] == 3000
        assert r['calibrated']['ece'] < r['uncalibrated']['ece']
        assert r['calibrated']['top1'] == r['uncalibrated']['top1']
    # The test rows show the fitted T and the calibrated ECE.
    row = [line.split() for line in out.splitlines()
           if line.startswith('test')][-1]
    assert float(row[1]) == pytest.approx(result['temperature'], abs=1e-4)
    assert float(row[3]) == pytest.approx(
        result['test']['calibrated']['ece'], abs=0.01)


def test_files_without_scores_or_with_other_classes_are_refused(tmp_path):
    scores, labels = _predictions(50, 1., seed=3)
    val = _dump(tmp_path / 'val.pkl', scores, labels)
    other = _dump(tmp_path / 'other.pkl',
                  *_predictions(50, 1., seed=3, num_classes=3))
    with pytest.raises(ValueError, match='4 classes and the test .* 3'):
        run_script(TOOL, [val, other])
    samples = [DataSample().set_gt_label(int(t)).set_pred_label(0).to_dict()
               for t in labels]
    dump = DumpResults(out_file_path=str(tmp_path / 'labels_only.pkl'))
    dump.process(None, samples)
    dump.compute_metrics(dump.results)
    with pytest.raises(ValueError, match='labels_only.pkl: .*pred_score'):
        run_script(TOOL, [str(tmp_path / 'labels_only.pkl')])
