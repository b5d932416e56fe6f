"""Facts the configs must keep: a KENT config and its baseline twin differ
only in the neck and the head; the checkpoint is selected on a dataset's
official validation split and nowhere else; each fact (class count,
normalisation, weights URL, FEC margins, shared loaders) is stated in one
place, and ``configs/`` holds configs only."""
import ast
import glob
import os.path as osp
import subprocess
from collections import defaultdict

import pytest

from kent_mm.datasets import FER2013, RAFDB, AffectNet, CKPlus, FERPlus
from kent_testing import REPO, cached_config

CONFIGS = osp.join(REPO, 'configs')
ALL_FILES = sorted(glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))
LEAVES = [p for p in ALL_FILES if '_base_' not in osp.relpath(p, CONFIGS)]


def rel(path):
    return osp.relpath(path, CONFIGS)


def twins():
    """(KENT config, its ``baseline_`` twin): same name after the method;
    the MiniLM text variants pair with the same baseline."""
    pairs = []
    for kent in LEAVES:
        name = osp.basename(kent)
        if not name.startswith('kent_'):
            continue
        twin = 'baseline_' + name[len('kent_'):].replace('_minilm', '')
        path = osp.join(osp.dirname(kent), twin)
        if osp.isfile(path):
            pairs.append(pytest.param(kent, path, id=rel(kent)))
    return pairs


TWINS = twins()


def flatten(cfg, prefix=''):
    """``{'model.head.type': ..., ...}`` (dicts flattened, lists kept)."""
    flat = {}
    for key, value in cfg.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten(value, name + '.'))
        else:
            flat[name] = value
    return flat


def test_every_official_kent_config_has_a_twin():
    paired = {rel(p.values[0]) for p in TWINS}
    official = {rel(p) for p in LEAVES
                if osp.dirname(p) == CONFIGS
                and osp.basename(p).startswith('kent_')}
    assert len(official) == 12 and official <= paired
    assert {'benchmarks/kent_resnet18_fer2013_standard.py',
            'benchmarks/kent_resnet18_fer2013_10pct.py'} <= paired


@pytest.mark.parametrize('kent,baseline', TWINS)
def test_kent_and_its_baseline_twin_differ_only_in_neck_and_head(
        kent, baseline):
    a = flatten(cached_config(kent).to_dict())
    b = flatten(cached_config(baseline).to_dict())
    missing = object()
    differ = {k for k in (a.keys() | b.keys()) - {'filename'}
              if a.get(k, missing) != b.get(k, missing)}
    assert differ  # they are not the same config
    outside = sorted(k for k in differ
                     if not k.startswith(('model.neck', 'model.head')))
    assert not outside, (
        f'{rel(kent)} and {rel(baseline)} also differ in {outside}')


# Datasets with an official validation split distinct from their test split
# (checked against the dataset classes below).
HAS_VALIDATION_SPLIT = dict(
    FER2013=True,  # PublicTest; PrivateTest is the test split
    FERPlus=True,  # FER2013Valid; FER2013Test
    AffectNet=False,  # validation.csv is the test set
    RAFDB=False,
    CKPlus=False)


def test_validation_split_table_matches_the_dataset_classes():
    assert 'val' not in RAFDB.SPLITS and 'val' not in CKPlus.SPLITS
    assert AffectNet.CSV_FILES['val'] == AffectNet.CSV_FILES['test']
    assert AffectNet.NPY_DIRS['val'] == AffectNet.NPY_DIRS['test']
    for dataset in (FER2013, FERPlus):
        assert 'val' in dataset.SPLITS
        assert dataset.USAGES['val'] != dataset.USAGES['test']


# Every leaf config trains, but the feature extractors of DeepFEVER.
TRAINED = [p for p in LEAVES if '_encoder' not in osp.basename(p)]


@pytest.mark.parametrize('config', TRAINED, ids=rel)
def test_checkpoint_selection_follows_the_validation_split(config):
    """Best validation epoch where the dataset has a validation split, the
    last epoch elsewhere (val is then the test split: monitoring only)."""
    cfg = cached_config(config)
    assert cfg.train_cfg
    val = cfg.val_dataloader.dataset
    checkpoint = cfg.default_hooks.checkpoint
    if HAS_VALIDATION_SPLIT[val.type]:
        assert val.split == 'val'
        assert cfg.test_dataloader.dataset.split == 'test'
        assert checkpoint.get('save_best') == 'accuracy/top1', rel(config)
        assert checkpoint.get('rule') == 'greater'
    else:
        assert checkpoint.get('save_best') is None, rel(config)


def parse(path):
    """The syntax tree of a config file."""
    with open(path) as f:
        return ast.parse(f.read(), path)


def literals(path):
    """``(name, value)`` of every keyword argument, assignment and dict key
    with a literal value in a config file, and ``('url', s)`` of every
    http(s) string."""
    found = []
    for node in ast.walk(parse(path)):
        pairs = []
        if isinstance(node, ast.keyword) and node.arg:
            pairs.append((node.arg, node.value))
        elif isinstance(node, ast.Assign):
            pairs += [(t.id, node.value) for t in node.targets
                      if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Dict):
            pairs += [(k.value, v) for k, v in zip(node.keys, node.values)
                      if isinstance(k, ast.Constant)]
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and node.value.startswith(('http://', 'https://'))):
            found.append(('url', node.value))
        for name, value in pairs:
            try:
                found.append((name, ast.literal_eval(value)))
            except (ValueError, TypeError):  # an expression
                pass
    return found


def stated(names):
    """``{(name, value): files stating it}`` over all config files."""
    where = defaultdict(set)
    for path in ALL_FILES:
        for name, value in literals(path):
            if name in names:
                where[(name, repr(value))].add(rel(path))
    return where


def test_no_fact_is_stated_in_two_config_files():
    twice = {fact: sorted(files) for fact, files in stated(
        ('num_classes', 'mean', 'std', 'url')).items() if len(files) > 1}
    assert not twice, f'stated in several files: {twice}'


def test_class_counts_are_derived_from_the_class_names():
    counts = {fact: files for fact, files in stated(('num_classes', )).items()
              if fact[1] != 'None'}
    assert not counts, (
        f'{counts}: derive it in the dataset file, '
        'num_classes = len(classes)')


def test_fec_margins_are_the_loss_default():
    # FECTripletLoss's default holds the FEC paper's margins.
    setting = [rel(p) for p in ALL_FILES
               if any(isinstance(node, ast.keyword) and node.arg == 'margins'
                      for node in ast.walk(parse(p)))]
    assert not setting, f'margins set in {setting}'


def test_checkpoint_selection_is_stated_only_by_dataset_files():
    # Which split and metric select the checkpoint is a dataset fact
    # (`model_selection`); schedules and leaves reference it.
    setting = [rel(p) for p in ALL_FILES
               if any(isinstance(node, ast.keyword) and
                      node.arg == 'save_best'
                      for node in ast.walk(parse(p)))
               and '/_base_/datasets/' not in '/' + rel(p)]
    assert not setting, f'save_best set outside the dataset files: {setting}'


def base_files(path):
    """The config files ``path`` inherits, recursively (paths in
    ``configs/``; ``mmpretrain::`` bases left out)."""
    bases = []
    for node in parse(path).body:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0],
                                                        ast.Name)
                and node.targets[0].id == '_base_'):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
    found = []
    for base in bases:
        if '::' in base:
            continue
        base = osp.normpath(osp.join(osp.dirname(path), base))
        found += [base] + base_files(base)
    return found


@pytest.mark.parametrize(
    'dataset_file',
    sorted(glob.glob(osp.join(CONFIGS, '_base_', 'datasets', '*_bs64_*.py'))),
    ids=osp.basename)
def test_dataset_files_build_on_the_shared_loaders(dataset_file):
    shared = osp.join(CONFIGS, '_base_', 'datasets', 'fer_loaders_bs64_112.py')
    if dataset_file != shared:
        assert shared in base_files(dataset_file)


def test_configs_folder_holds_configs_only():
    others = [rel(p) for p in glob.glob(osp.join(CONFIGS, '**', '*'),
                                        recursive=True)
              if osp.isfile(p) and not p.endswith('.py')
              and rel(p) != 'metafile.yml'
              and '__pycache__' not in p]
    assert not others, f'data files in configs/: {others}'


def test_subset_files_ship_with_the_repository():
    files = {v for path in ALL_FILES for name, v in literals(path)
             if name == 'subset_file'}
    assert files
    for name in files:  # relative to the repository root, as tools run
        assert osp.isfile(osp.join(REPO, name)), name
        try:
            ignored = subprocess.run(['git', 'check-ignore', '-q', name],
                                     cwd=REPO).returncode == 0
        except FileNotFoundError:
            pytest.skip('git is not installed')
        assert not ignored, f'{name} is git-ignored: it would not ship'
