from .deepfever import DeepFEVER
from .multi_task_preprocessor import (MultiTaskDataPreprocessor,
                                      is_multi_task_batch)

__all__ = ['DeepFEVER', 'MultiTaskDataPreprocessor', 'is_multi_task_batch']
