"""The predictions pickle of tools/test.py, read without running code."""
import pickle

import pytest

from kent_mm.evaluation.predictions import load_predictions

TARGET = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 2, 2, 2, 0, 1]


def test_predictions_pickle_of_test_tool_is_read(tmp_path):
    import mmengine
    import torch
    from mmengine.evaluator.metric import _to_cpu
    from mmpretrain.structures import DataSample

    samples = [
        DataSample().set_gt_label(t).set_pred_label(p).set_pred_score(
            torch.eye(3)[p]).to_dict() for p, t in zip(PRED, TARGET)
    ]
    path = str(tmp_path / 'preds.pkl')
    mmengine.dump(_to_cpu(samples), path)  # what DumpResults writes
    preds = load_predictions(path)
    assert preds['pred'].tolist() == PRED
    assert preds['labels'].tolist() == TARGET
    assert preds['scores'].shape == (10, 3)


class _RunsCode:

    def __reduce__(self):
        return (print, ('this must not run', ))


def test_predictions_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps([_RunsCode()]))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        load_predictions(str(path))
