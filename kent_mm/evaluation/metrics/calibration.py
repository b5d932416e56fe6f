"""Expected calibration error of the predicted class scores."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               num_bins: int = 15) -> float:
    """ECE with equal-width confidence bins (Guo et al., 2017).

    ``ECE = sum_b |B_b| / N * |acc(B_b) - conf(B_b)|`` over the bins
    ``(0, 1/M], (1/M, 2/M], ..., ((M-1)/M, 1]``.

    Args:
        confidence (np.ndarray): ``(N,)`` top-class probabilities.
        correct (np.ndarray): ``(N,)`` whether the top class is right.
        num_bins (int): M.

    Returns:
        float: ECE in [0, 1].
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.size == 0:
        return float('nan')
    # Bin b holds (b/M, (b+1)/M]; a confidence of exactly 0 joins bin 0.
    bins = np.clip(np.ceil(confidence * num_bins) - 1, 0,
                   num_bins - 1).astype(int)
    ece = 0.
    for b in range(num_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() -
                                       confidence[in_bin].mean())
    return float(ece)


@METRICS.register_module()
class ExpectedCalibrationError(BaseMetric):
    """Expected calibration error (percent) of ``pred_score``.

    How far the top-class probability is from the accuracy it promises:
    0 for a perfectly calibrated classifier. Logged as
    ``calibration/ece`` (and the mean top-class probability as
    ``calibration/confidence``).

    Args:
        num_bins (int): Equal-width confidence bins. Defaults to 15.
        collect_device (str): Device to collect results across ranks.
        prefix (str, optional): Key prefix; ``'calibration'`` by default.
    """
    default_prefix: Optional[str] = 'calibration'

    def __init__(self,
                 num_bins: int = 15,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_bins = num_bins

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the top-class probability and its correctness."""
        for sample in data_samples:
            score = sample['pred_score']
            self.results.append(
                dict(conf=float(score.max()),
                     correct=int(score.argmax()) == int(
                         sample['gt_label'].reshape(-1)[0])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        conf = np.array([r['conf'] for r in results])
        correct = np.array([r['correct'] for r in results])
        ece = expected_calibration_error(conf, correct, self.num_bins)
        return dict(ece=100 * ece, confidence=100 * float(conf.mean()))
