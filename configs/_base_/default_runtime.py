# kent_mm runtime: MMPretrain's runtime + our components and checks.
_base_ = ['mmpretrain::_base_/default_runtime.py']

# The one line another MMPretrain project needs to use kent_mm components.
custom_imports = dict(imports=['kent_mm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # Model selection is a fact of the dataset: each config merges its
    # dataset file's `model_selection` here (save_best on an official
    # validation split; otherwise the last epoch is reported: the official
    # code's "best test epoch" is optimistic).
    # backend 'atomic_local' (kent_mm.utils.AtomicLocalBackend) writes each
    # checkpoint to a temporary file and renames it into place: a run killed
    # during a save keeps the previous checkpoint intact.
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    backend_args=dict(backend='atomic_local')),
)

# Fails before the first iteration when dataset classes and head disagree;
# lists the broken images skipped by datasets with on_corrupt='skip' (silent
# otherwise).
custom_hooks = [
    dict(type='ClassConsistencyHook'),
    dict(type='CorruptImageReportHook'),
]

# Official KE2NT seed.
randomness = dict(seed=29, deterministic=False)
