# Metrics register into mmpretrain.registry.METRICS on import.
from . import triplet_accuracy, va_metrics  # noqa: F401  DeepFEVER metrics
from .calibration import (ExpectedCalibrationError,  # noqa: F401
                          expected_calibration_error)
from .class_accuracy import ClassAccuracy  # noqa: F401
