"""Release path: publish_model.py -> model index -> get_model / inferencer /
tools/test.py give the same predictions."""
import glob
import hashlib
import json
import os
import os.path as osp
import pickle
import re
import runpy
import subprocess
import sys

import pytest
import torch

from fer_fixtures import write_fer2013_folders
from kent_testing import REPO, RAFDB_CLASSES, check, run_script, run_tool

from kent_mm.utils import checkpoint_safe_globals

PUBLISH = 'model_converters/publish_model.py'


@pytest.fixture(scope='module')
def published(shared, kent_checkpoint):
    """The session's trained checkpoint published with a metafile entry."""
    cfg, ckpt = kent_checkpoint['config'], kent_checkpoint['checkpoint']

    def build(tmp):
        out = run_script(PUBLISH, [
            ckpt, tmp / 'kent_r18_tiny.pth', '--config', cfg, '--dataset',
            'RAF-DB', '--weights-url', 'https://example.org/kent/',
            '--metafile-out', tmp / 'entry.yml'])
        (tmp / 'log.txt').write_text(out)

    tmp = shared('published', build)
    files = glob.glob(str(tmp / 'kent_r18_tiny_*.pth'))
    assert len(files) == 1, files
    return dict(tmp=tmp, cfg=cfg, ckpt=ckpt, release=files[0],
                log=(tmp / 'log.txt').read_text())


def test_release_name_hash_and_content(published):
    release = published['release']
    m = re.fullmatch(r'kent_r18_tiny_(\d{8})-([0-9a-f]{8})\.pth',
                     osp.basename(release))
    assert m, release
    with open(release, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest()[:8] == m.group(2)
    # Plain torch, no kent_mm allow-list: weights_only must just work.
    code = ('import sys, torch; c = torch.load(sys.argv[1], '
            'weights_only=True); print(sorted(c), '
            "c['meta']['dataset_meta']['classes'])")
    proc = subprocess.run([sys.executable, '-c', code, release],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "['meta', 'state_dict']" in proc.stdout
    release_sd = torch.load(release, weights_only=True)['state_dict']
    with checkpoint_safe_globals():  # a training checkpoint: runner state
        train = torch.load(published['ckpt'], weights_only=True)
    assert {'optimizer', 'message_hub', 'param_schedulers'} <= set(train)
    # Weights and text-embedding buffers are kept bit for bit.
    assert release_sd.keys() == train['state_dict'].keys()
    assert bool(release_sd['head.text_ready'])
    for k, v in train['state_dict'].items():
        assert torch.equal(release_sd[k], v), k
    assert 'message_hub' in published['log']  # reported as dropped


def test_publish_refuses_checkpoint_without_text(published, tmp_path):
    with checkpoint_safe_globals():
        state = torch.load(published['ckpt'], weights_only=True)
    state['state_dict']['head.text_ready'] = torch.tensor(False)
    bad = tmp_path / 'untrained.pth'
    torch.save(state, bad)
    with pytest.raises(ValueError, match='text_ready is False'):
        run_script(PUBLISH, [bad, tmp_path / 'x.pth'])
    assert not glob.glob(str(tmp_path / 'x*.pth'))


def test_metafile_entry_printed(published):
    entry = (published['tmp'] / 'entry.yml').read_text()
    base = osp.basename(published['release'])
    assert '- Name: kent_r18_tiny\n' in entry
    assert f'Weights: https://example.org/kent/{base}' in entry
    params = int(re.search(r'Parameters: (\d+)', entry).group(1))
    assert 11_000_000 < params < 13_000_000  # ResNet-18 + E2N neck
    assert '    In Collection: KENT\n' in entry


def test_a_linear_head_model_goes_to_the_baselines_collection():
    from mmengine.config import Config
    publish = runpy.run_path(osp.join(REPO, 'tools', PUBLISH))
    for config, collection in (
            ('configs/benchmarks/baseline_resnet18_fer2013_zoo.py',
             'Linear-head baselines'),
            ('configs/benchmarks/kent_resnet18_fer2013_zoo_minilm.py',
             'KENT')):
        cfg = Config.fromfile(osp.join(REPO, config))
        assert publish['collection_of'](cfg) == collection


@pytest.fixture(scope='module')
def temp_index(published, tmp_path_factory):
    """A model index naming the tiny config and release, registered with
    MMPretrain's public ``ModelHub.register_model_index`` (no way back: the
    name stays registered for this test process)."""
    from mmpretrain.apis import ModelHub
    root = tmp_path_factory.mktemp('zoo')
    (root / 'configs').mkdir()
    entry = (published['tmp'] / 'entry.yml').read_text()
    entry = re.sub(r'Weights: .*', f"Weights: {published['release']}", entry)
    (root / 'configs' / 'metafile.yml').write_text(
        'Collections:\n  - Name: KENT\nModels:\n' + entry)
    index = root / 'model-index.yml'
    index.write_text('Import:\n  - configs/metafile.yml\n')
    # Config paths relative to the index, as in kent_mm's and MMPretrain's.
    ModelHub.register_model_index(str(index), config_prefix=str(root))
    return root


def test_zoo_get_model_inferencer_and_test_tool_agree(published, temp_index,
                                                      rafdb_root, tmp_path):
    import mmpretrain
    from mmpretrain import ImageClassificationInferencer, get_model
    assert 'kent_r18_tiny' in mmpretrain.list_models('kent*')
    release = published['release']
    images = sorted(
        glob.glob(osp.join(rafdb_root, 'Image', 'aligned', 'test_*.jpg')))
    assert len(images) == 7

    # 1. tools/test.py on the release file, predictions dumped.
    preds_file = str(tmp_path / 'preds.pkl')
    check(
        run_tool([
            'tools/test.py', published['cfg'], release, '--work-dir',
            str(tmp_path / 'w'), '--out', preds_file
        ]))
    with open(preds_file, 'rb') as f:
        dumped = pickle.load(f)
    by_path = {osp.basename(d['img_path']): d for d in dumped}
    assert len(by_path) == 7

    # 2. get_model by zoo name + path; 3. the inferencer by zoo name.
    model = get_model('kent_r18_tiny', pretrained=release, device='cpu')
    assert tuple(model._dataset_meta['classes']) == RAFDB_CLASSES
    inferencer = ImageClassificationInferencer(
        'kent_r18_tiny', pretrained=release, device='cpu')
    from_model = ImageClassificationInferencer(model)(images)
    from_name = inferencer(images)
    # 4. pretrained=True takes the index's Weights field.
    default = ImageClassificationInferencer('kent_r18_tiny', pretrained=True)
    from_default = default(images[:2])

    scores = set()
    for i, path in enumerate(images):
        ref = by_path[osp.basename(path)]
        for res in (from_model[i], from_name[i]):
            assert res['pred_label'] == int(ref['pred_label'])
            assert torch.allclose(torch.as_tensor(res['pred_scores']),
                                  ref['pred_score'].float(), atol=1e-6)
            assert res['pred_class'] in RAFDB_CLASSES
        scores.add(round(float(ref['pred_score'].max()), 4))
        if i < 2:
            assert from_default[i]['pred_label'] == int(ref['pred_label'])
    assert len(scores) > 1  # not a constant output


def test_zoo_check_classifies_the_first_face_of_each_class(
        published, temp_index, tmp_path):
    root = write_fer2013_folders(tmp_path / 'fer2013', per_class=(0, 0, 2))
    out = tmp_path / 'zoo.json'
    printed = run_script('benchmarks/zoo_check.py', [
        'kent_r18_tiny', published['release'], '--data-root', root,
        '--out-json', out])
    rows = json.loads(out.read_text())['rows']
    assert [r['true'] for r in rows] == [
        'anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness',
        'surprise']
    assert rows[0]['image'] == osp.join('test', 'angry', 'PrivateTest_0.jpg')
    for r in rows:
        assert r['pred'] in RAFDB_CLASSES and 0 <= r['score'] <= 1
        assert r['correct'] == (r['pred'] == r['true'])
    correct = sum(r['correct'] for r in rows)
    assert f'{correct}/7 faces read correctly by kent_r18_tiny' in printed


def test_name_conflict_is_an_error(published, temp_index, tmp_path):
    from mmpretrain.apis import ModelHub
    other = tmp_path / 'other'
    (other / 'configs').mkdir(parents=True)
    (other / 'configs' / 'metafile.yml').write_text(
        f"Models:\n  - Name: kent_r18_tiny\n    Config: {published['cfg']}\n")
    (other / 'model-index.yml').write_text(
        'Import:\n  - configs/metafile.yml\n')
    with pytest.raises(ValueError, match='kent_r18_tiny is conflict'):
        ModelHub.register_model_index(str(other / 'model-index.yml'))


def test_package_index_and_real_config_through_zoo(tmp_path):
    """kent_mm's own index loads on import with its configs beside it, and a
    real config (mmpretrain:: bases, custom_imports) builds by zoo name."""
    import mmpretrain
    from mmpretrain import get_model
    from mmpretrain.apis import ModelHub

    import kent_mm  # noqa: F401
    from kent_mm.apis import default_model_index, register_kent_model_index
    index = default_model_index()
    root = osp.dirname(index)
    names = register_kent_model_index()  # registered on import: a no-op
    assert names and set(names) <= set(mmpretrain.list_models())
    for name in names:
        assert osp.isfile(ModelHub._models_dict[name].config), name
    config = osp.join(root, 'configs', 'kent_resnet18_fer2013.py')
    assert osp.isfile(config)
    name = f'kent_zoo_probe_{tmp_path.name}'.lower()
    (tmp_path / 'metafile.yml').write_text(
        f'Models:\n  - Name: {name}\n    Config: {config}\n')
    ModelHub.register_model_index(str(tmp_path / 'metafile.yml'))
    model = get_model(name, backbone=dict(init_cfg=None))
    assert type(model.head).__name__ == 'KENTHead'
    assert model.head.class_names[0] == 'anger'  # FER2013 order
    assert not bool(model.head.text_ready)  # no CLIP built by get_model


@pytest.fixture(scope='module')
def shipped_index(published, tmp_path_factory):
    """A repository-like folder whose metafile ships a --half release under
    weights/ (``kent_mm://``), registered as kent_mm registers its own."""
    from kent_mm.apis import register_kent_model_index
    root = tmp_path_factory.mktemp('repo')
    (root / 'weights').mkdir()
    (root / 'configs').mkdir()
    out = run_script(PUBLISH, [
        published['ckpt'], root / 'weights' / 'kent_r18_half.pth', '--half',
        '--config', published['cfg'], '--dataset', 'RAF-DB', '--weights-url',
        'kent_mm://weights/', '--metafile-out', root / 'entry.yml'])
    files = glob.glob(str(root / 'weights' / 'kent_r18_half_*.pth'))
    assert len(files) == 1, out
    entry = (root / 'entry.yml').read_text()
    (root / 'configs' / 'metafile.yml').write_text(
        'Collections:\n  - Name: KENT\nModels:\n' + entry)
    (root / 'model-index.yml').write_text(
        'Import:\n  - configs/metafile.yml\n')
    names = register_kent_model_index(str(root / 'model-index.yml'))
    assert names == ['kent_r18_half']
    return dict(root=root, file=files[0], entry=entry)


def test_half_release_loads_by_name_with_pretrained_true(published,
                                                         shipped_index,
                                                         rafdb_root):
    """get_model(name, pretrained=True) and the inferencer load the shipped
    float16 file through kent_mm:// and predict as the float32 checkpoint."""
    from mmpretrain import ImageClassificationInferencer, get_model
    release = shipped_index['file']
    sha = hashlib.sha256(open(release, 'rb').read()).hexdigest()
    base = osp.basename(release)
    assert f'Weights SHA256: {sha}' in shipped_index['entry']
    assert f'Weights: kent_mm://weights/{base}' in shipped_index['entry']
    sd = torch.load(release, weights_only=True)['state_dict']
    assert sd['backbone.conv1.weight'].dtype == torch.float16
    assert sd['head.text_ready'].dtype == torch.bool
    # About half the float32 file.
    assert osp.getsize(release) < 0.55 * osp.getsize(published['release'])

    images = sorted(
        glob.glob(osp.join(rafdb_root, 'Image', 'aligned', 'test_*.jpg')))
    half = ImageClassificationInferencer('kent_r18_half', pretrained=True)
    full = ImageClassificationInferencer(
        get_model('kent_r18_half', pretrained=published['release']))
    for a, b in zip(half(images), full(images)):
        assert a['pred_label'] == b['pred_label']
        assert abs(a['pred_score'] - b['pred_score']) < 1e-2


def test_corrupt_shipped_file_names_file_and_expected_hash(shipped_index):
    from mmpretrain import get_model
    release = shipped_index['file']
    sha = re.search(r'Weights SHA256: ([0-9a-f]{64})',
                    shipped_index['entry']).group(1)
    intact = open(release, 'rb').read()
    try:
        with open(release, 'wb') as f:  # truncated copy in place
            f.write(intact[:len(intact) // 2])
        with pytest.raises(RuntimeError) as err:
            get_model('kent_r18_half', pretrained=True)
        assert release in str(err.value) and sha in str(err.value)
        with open(release, 'wb') as f:  # same size, one byte flipped
            f.write(intact[:100] + bytes([intact[100] ^ 1]) + intact[101:])
        with pytest.raises(RuntimeError, match='corrupt or truncated'):
            get_model('kent_r18_half', pretrained=True)
        os.remove(release)
        with pytest.raises(FileNotFoundError, match='weights/'):
            get_model('kent_r18_half', pretrained=True)
    finally:
        with open(release, 'wb') as f:
            f.write(intact)
    assert get_model('kent_r18_half', pretrained=True) is not None


def test_best_shipped_model_picks_the_present_file(shipped_index):
    from kent_mm.apis import best_shipped_model
    index = str(shipped_index['root'] / 'model-index.yml')
    assert best_shipped_model('kent_r18_*', index) == 'kent_r18_half'
    with pytest.raises(FileNotFoundError, match='ships its weights'):
        best_shipped_model('no_such_model*', index)
