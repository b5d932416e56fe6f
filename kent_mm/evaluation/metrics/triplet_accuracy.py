"""Triplet accuracy: agreement of an embedding with the FEC majority."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from kent_mm.datasets.triplets import TRIPLET_TYPES
from kent_mm.models.losses.triplet_loss import triplet_correct


@METRICS.register_module()
class TripletAccuracy(BaseMetric):
    """Share of triplets whose embedding agrees with the annotators'
    majority: with ``e3`` the majority's odd one out, ``L12 < L13`` and
    ``L12 < L23`` (squared L2 of normalised embeddings; ties are wrong).

    Expects flat triplet-major batches (``fer_triplet_collate``) whose
    samples carry ``pred_embedding`` (``FECTripletHead``) and the triplet
    metainfo. Reports ``triplet/accuracy`` (percent) and one
    ``triplet/accuracy_<type>`` per triplet type present (``one_class``,
    ``two_class``, ``three_class``).

    Args:
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Defaults to ``'triplet'``.
    """

    default_prefix: Optional[str] = 'triplet'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Score each whole triplet of the batch."""
        if len(data_samples) % 3:
            raise ValueError('TripletAccuracy needs whole triplets (3B '
                             f'samples), got {len(data_samples)}.')
        for i in range(0, len(data_samples), 3):
            group = data_samples[i:i + 3]
            if [s.get('triplet_pos') for s in group] != [0, 1, 2]:
                raise ValueError(
                    'TripletAccuracy: samples are not ordered triplets (use '
                    'collate_fn=dict(type="fer_triplet_collate")).')
            emb = torch.stack(
                [torch.as_tensor(s['pred_embedding']).float().cpu()
                 for s in group])[None]
            answer = torch.tensor([int(group[0]['triplet_answer'])])
            correct = bool(triplet_correct(emb, answer)[0])
            self.results.append(
                dict(correct=correct, type=int(group[0]['triplet_type'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Overall and per-type accuracy in percent."""
        by_type = defaultdict(list)
        for r in results:
            by_type[r['type']].append(r['correct'])
        metrics = {
            'accuracy': 100.0 * sum(r['correct'] for r in results) /
            max(len(results), 1)
        }
        for code, values in sorted(by_type.items()):
            name = TRIPLET_TYPES[code].replace('_TRIPLET', '').lower()
            metrics[f'accuracy_{name}'] = 100.0 * sum(values) / len(values)
        return metrics
