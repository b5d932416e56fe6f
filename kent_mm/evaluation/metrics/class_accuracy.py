"""Per-class accuracy and mean class accuracy, keyed by class name."""
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ..scores import confusion_matrix, scores_from_confusion


@METRICS.register_module()
class ClassAccuracy(BaseMetric):
    """Accuracy of each class and their mean (mean class accuracy).

    FER test sets are imbalanced: besides top-1, papers report the mean of
    the per-class accuracies (macro recall). MMPretrain's
    ``SingleLabelMetric(average=None)`` gives the per-class numbers as an
    unnamed list and its macro recall counts a class without test samples
    as 0; this metric names every class in its key and leaves such classes
    out of the mean::

        class_acc/mean       mean over classes with samples (percent)
        class_acc/<class>    accuracy (recall) of each class; nan if the
                             class has no test sample

    Class names come from the dataset's ``metainfo['classes']`` (the
    runner sets ``dataset_meta``), else ``class_<i>``.

    Args:
        num_classes (int, optional): Number of classes; defaults to the
            number of class names in ``dataset_meta``.
        collect_device (str): Device to collect results across ranks.
        prefix (str, optional): Key prefix; ``'class_acc'`` by default.
    """
    default_prefix: Optional[str] = 'class_acc'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the predicted and true label of each sample.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with
                ``pred_label`` and ``gt_label`` tensors.
        """
        for sample in data_samples:
            if 'pred_label' in sample:
                pred = int(sample['pred_label'].reshape(-1)[0])
            else:
                pred = int(sample['pred_score'].argmax())
            self.results.append(
                dict(pred=pred, gt=int(sample['gt_label'].reshape(-1)[0])))

    def class_names(self, results: List[dict]) -> List[str]:
        """Names of the classes, padded to the labels seen."""
        names = list((self.dataset_meta or {}).get('classes') or [])
        num = self.num_classes or len(names)
        seen = max([max(r['pred'], r['gt']) for r in results] + [-1]) + 1
        num = max(num, seen)
        return names[:num] + [f'class_{i}' for i in range(len(names), num)]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Per-class accuracies and their mean, in percent.

        Args:
            results (list[dict]): ``pred`` / ``gt`` of every sample.

        Returns:
            dict[str, float]: ``mean`` and one entry per class name.
        """
        names = self.class_names(results)
        cm = confusion_matrix([r['pred'] for r in results],
                              [r['gt'] for r in results], len(names))
        report = scores_from_confusion(cm, names)
        metrics = {'mean': report['mean_class_acc']}
        for row in report['per_class']:
            metrics[row['class']] = row['accuracy']
        return metrics
