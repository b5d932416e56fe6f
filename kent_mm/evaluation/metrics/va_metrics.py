"""Valence / arousal regression metrics (RMSE and CCC)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from kent_mm.models.losses.ccc_loss import concordance_cc


@METRICS.register_module()
class ValenceArousalMetric(BaseMetric):
    """RMSE and CCC of valence and arousal (AffectNet's continuous labels).

    Reads the targets from the ``valence`` / ``arousal`` fields of the data
    samples and the predictions from ``pred_valence`` / ``pred_arousal``
    (set by :class:`ExpressionVAHead`). Reports
    ``va/valence_rmse``, ``va/valence_ccc``, ``va/arousal_rmse``,
    ``va/arousal_ccc`` and ``va/mean_ccc``. CCC uses population moments
    over the whole split (not per batch).

    Args:
        keys (Sequence[str]): Target fields; predictions are ``pred_<key>``.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric-name prefix; defaults to ``'va'``.
    """

    default_prefix: Optional[str] = 'va'

    def __init__(self,
                 keys: Sequence[str] = ('valence', 'arousal'),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.keys = tuple(keys)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep ``(target, prediction)`` per key for every sample."""
        for sample in data_samples:
            result = {}
            for key in self.keys:
                if key not in sample or f'pred_{key}' not in sample:
                    raise KeyError(
                        f'ValenceArousalMetric: sample lacks {key!r} or '
                        f'"pred_{key}"; pack the targets with PackInputs('
                        f'algorithm_keys=...) and use a head that predicts '
                        'them (ExpressionVAHead).')
                result[key] = (float(sample[key]),
                               float(sample[f'pred_{key}']))
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """RMSE and CCC per key, and their mean CCC."""
        metrics = {}
        cccs = []
        for key in self.keys:
            pairs = np.array([r[key] for r in results], dtype=np.float64)
            target, pred = pairs[:, 0], pairs[:, 1]
            metrics[f'{key}_rmse'] = float(
                np.sqrt(np.mean((pred - target)**2)))
            metrics[f'{key}_ccc'] = float(
                concordance_cc(torch.from_numpy(pred),
                               torch.from_numpy(target)))
            cccs.append(metrics[f'{key}_ccc'])
        metrics['mean_ccc'] = float(np.mean(cccs))
        return metrics
