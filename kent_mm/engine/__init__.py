from .hooks import *  # noqa: F401,F403
from .multi_task_loop import MultiTaskIterBasedTrainLoop  # noqa: F401
from .optimizers import *  # noqa: F401,F403
