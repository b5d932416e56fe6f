"""``import kent_mm`` registers components and changes nothing else.

Checked in a fresh interpreter, where torch, MMEngine and MMPretrain are
imported first and their state recorded: torch's ``weights_only``
allow-list (``torch.serialization.get_safe_globals()``) is unchanged,
MMEngine's ``LocalBackend`` and backend prefixes are untouched (only the
opt-in ``atomic_local`` backend is added), and ``ModelHub`` gains exactly the
models of kent_mm's ``model-index.yml`` (through its public
``register_model_index``), once, however often kent_mm is imported or
reloaded.
"""
import json
import subprocess
import sys
import textwrap

from kent_testing import REPO, tool_env

CHILD = textwrap.dedent('''
    import importlib, json, sys, warnings
    import torch
    import torch._dynamo  # adds torch's own entries when first imported
    from mmengine.fileio import LocalBackend
    from mmengine.fileio.backends import backends, prefix_to_backends
    from mmpretrain.apis import ModelHub
    from modelindex.load_model_index import load

    local = dict(vars(LocalBackend))
    prefixes = dict(prefix_to_backends)
    names = set(backends)
    models = dict(ModelHub._models_dict)
    safe_globals = list(torch.serialization.get_safe_globals())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')  # a failed registration only warns
        import kent_mm
        registered = dict(ModelHub._models_dict)
        for module in (kent_mm, kent_mm.apis, kent_mm):
            importlib.reload(module)
        kent_mm.apis.register_kent_model_index()
    safe_globals_now = list(torch.serialization.get_safe_globals())
    index = load(kent_mm.apis.default_model_index())
    index.build_models_with_collections()
    expected = sorted(m.name.lower() for m in index.models)

    print(json.dumps(dict(
        local_unchanged=dict(vars(LocalBackend)) == local,
        prefixes_unchanged=dict(prefix_to_backends) == prefixes,
        new_backends=sorted(set(backends) - names),
        safe_globals_unchanged=set(safe_globals_now) == set(safe_globals),
        safe_globals_added=[str(g) for g in safe_globals_now
                            if g not in safe_globals],
        old_models_unchanged=all(
            ModelHub._models_dict[k] is v for k, v in models.items()),
        added=sorted(set(registered) - set(models)),
        expected=expected,
        reregistered=[k for k in registered
                      if ModelHub._models_dict[k] is not registered[k]],
        now=sorted(ModelHub._models_dict) == sorted(registered),
        configs=[ModelHub._models_dict[k].config for k in expected],
        kent_warnings=[str(w.message) for w in caught
                       if 'kent_mm' in str(w.message)],
    )))
''')


def test_import_changes_no_library_behaviour():
    proc = subprocess.run([sys.executable, '-c', CHILD], cwd=REPO,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res['local_unchanged'] and res['prefixes_unchanged']
    assert res['new_backends'] == ['atomic_local']
    # MMEngine checkpoints load through kent_mm.utils.checkpoint_safe_globals
    # (a context manager), not a process-wide allow-list.
    assert res['safe_globals_unchanged'], res['safe_globals_added']
    assert res['old_models_unchanged']
    assert res['expected'] and res['added'] == res['expected']
    assert res['reregistered'] == [] and res['now']
    assert res['kent_warnings'] == []
    # Config paths are resolved relative to model-index.yml.
    for config in res['configs']:
        assert config.startswith('/') and '/configs/' in config, config
