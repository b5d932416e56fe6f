from .self_contrast_loss import SelfContrastLoss
from .transform_loss import EmotionalToNeutralLoss
# DeepFEVER: CCCLoss, FECTripletLoss
from . import ccc_loss, triplet_loss  # noqa: F401

__all__ = ['EmotionalToNeutralLoss', 'SelfContrastLoss']
