"""Session fixtures: the tiny synthetic RAF-DB, its text file, and one KENT
ResNet-18 trained by ``tools/train.py`` (plus ``tools/test.py`` on it).

Under pytest-xdist every worker process has its own session; the fixtures
built through :func:`shared` are built once per test run, by the first
worker that needs them, in a folder beside the workers' temporary folders
(a file lock makes the others wait and then reuse it). Tests must not
change what these fixtures return: copy first.
"""
import os
import shutil

import pytest
from filelock import FileLock

from kent_testing import (check, run_tool, run_train, write_text_file,
                          write_tiny_config)


def pytest_addoption(parser):
    parser.addoption(
        '--runslow', action='store_true',
        help='also run the tests marked slow (the end-to-end rehearsal of '
        'tools/benchmarks/gpu_check.py on the CPU, about 2 minutes)')


def pytest_configure(config):
    if os.environ.get('PYTEST_XDIST_WORKER'):
        # One thread per worker (and per tool it starts): the workers
        # already use every core.
        os.environ['OMP_NUM_THREADS'] = '1'
        os.environ['MKL_NUM_THREADS'] = '1'
        import torch
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Long tests first, spread over the workers.

    ``@pytest.mark.runtime(seconds)`` marks a test that runs tools for many
    seconds. pytest-xdist's ``worksteal`` hands worker k the k-th
    contiguous block of the collection and lets idle workers steal from the
    end of the others' blocks; so the long tests are assigned to the blocks
    longest first (each to the least loaded worker) and put at the block
    starts, where nothing steals them and no worker ends on one of them.
    """
    skipped = set()
    if not config.getoption('--runslow'):
        skip = pytest.mark.skip(reason='slow: run with --runslow')
        for item in items:
            if item.get_closest_marker('slow'):
                item.add_marker(skip)
                skipped.add(item.nodeid)
    # Collection happens in the workers, which xdist tells their number.
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 1))
    long, short = [], []
    for item in items:
        mark = (item.get_closest_marker('runtime')
                if item.nodeid not in skipped else None)
        (long if mark else short).append((mark.args[0] if mark else 0, item))
    blocks, load = [[] for _ in range(workers)], [0.] * workers
    for seconds, item in sorted(long, key=lambda x: -x[0]):
        k = load.index(min(load))
        blocks[k].append(item)
        load[k] += seconds
    order, rest, left = [], [item for _, item in short], len(items)
    for k, block in enumerate(blocks):
        size = left // (workers - k)  # worksteal's block size
        fill = max(size - len(block), 0)
        order += block + rest[:fill]
        rest, left = rest[fill:], left - len(block) - fill
    items[:] = order + rest


@pytest.fixture(scope='session')
def shared(tmp_path_factory):
    """``shared(name, build)``: the folder ``name``, filled by
    ``build(folder)`` once per test run whatever the number of workers."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        root = root.parent  # the run's folder, above the workers' ones
    root = root / 'shared'
    root.mkdir(exist_ok=True)

    def get(name, build):
        folder, done = root / name, root / f'{name}.done'
        with FileLock(str(root / f'{name}.lock')):
            if not done.exists():
                if folder.exists():  # an attempt that failed
                    shutil.rmtree(folder)
                folder.mkdir()
                build(folder)
                done.touch()
        return folder

    return get


@pytest.fixture
def lean_runner(monkeypatch):
    """In-process Runners without their cosmetic costs: no yapf formatting
    of the config text (about 1 s a call, several calls a Runner) and no
    system report (compiler versions through subprocesses). The config is
    still dumped and logged."""
    import mmengine.config.config as config_module
    import mmengine.runner.runner as runner_module
    monkeypatch.setattr(config_module, 'FormatCode',
                        lambda text, **kwargs: (text, None))
    monkeypatch.setattr(runner_module, 'collect_env', lambda: {})


@pytest.fixture(scope='session')
def rafdb_root(shared):
    """A tiny synthetic RAF-DB in the official layout (14 train / 7 test,
    32x32)."""
    from kent_mm.testing import generate_synthetic_rafdb
    return str(shared('rafdb', lambda path: generate_synthetic_rafdb(
        str(path), num_train=14, num_test=7, image_size=32, seed=0)))


@pytest.fixture(scope='session')
def rafdb_text(shared):
    """A random text-feature file for the RAF-DB classes."""
    return str(shared('rafdb_text', lambda path: write_text_file(
        path / 'text.pth')) / 'text.pth')


@pytest.fixture(scope='session')
def kent_checkpoint(shared, rafdb_root, rafdb_text):
    """KENT ResNet-18 trained for one epoch (3 iterations) by
    ``tools/train.py`` on ``rafdb_root`` at 32x32.

    Returns:
        dict: ``config`` (the tiny config), ``work_dir``, ``checkpoint``
        (``epoch_1.pth``) and ``text`` (the text file of the config).
    """

    def build(path):
        cfg = write_tiny_config(path / 'cfg.py', 'kent_resnet18_rafdb.py',
                                rafdb_root, rafdb_text, max_epochs=1)
        check(run_train(cfg, str(path / 'work')))

    path = shared('kent_r18', build)
    return dict(config=str(path / 'cfg.py'), work_dir=str(path / 'work'),
                checkpoint=str(path / 'work' / 'epoch_1.pth'),
                text=rafdb_text)


@pytest.fixture(scope='session')
def kent_test_run(shared, kent_checkpoint):
    """``tools/test.py`` on ``kent_checkpoint`` with its text file out of
    reach (the config names a file that does not exist) and ``--out``.

    Returns:
        dict: ``log`` (the tool's output) and ``preds`` (the pickle).
    """

    def build(path):
        log = check(run_tool([
            'tools/test.py', kent_checkpoint['config'],
            kent_checkpoint['checkpoint'], '--work-dir', path / 'work',
            '--out', path / 'preds.pkl', '--cfg-options',
            f'model.head.text_embeddings.file={path / "absent.pth"}'
        ]))
        (path / 'log.txt').write_text(log)

    path = shared('kent_r18_test', build)
    return dict(log=(path / 'log.txt').read_text(),
                preds=str(path / 'preds.pkl'))
