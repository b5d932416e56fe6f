from .metrics import *  # noqa: F401,F403
from .text_anchors import (anchor_report, best_case_probability,  # noqa: F401
                           feature_alignment, pairwise_cosine)
