"""tools/dataset_converters/prepare_fec.py, offline: images served by a
local http.server and by file:// URLs; dead URLs, resume, crops."""
import functools
import glob
import http.server
import importlib.util
import os
import os.path as osp
import threading

import numpy as np
import pytest
from PIL import Image

from fer_fixtures import FEC_TEST, FEC_TRAIN, fec_line, write_lines
from kent_testing import REPO

from kent_mm.datasets.fec import fec_crop_name


def load_tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'prepare_fec.py')
    spec = importlib.util.spec_from_file_location('prepare_fec', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over ``tmp_path/www``; yields (base_url, dir)."""
    www = tmp_path / 'www'
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}', str(www)
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


def photo(path, w=40, h=20):
    """A photo whose pixel (x, y) has red = 5x, green = 10y."""
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    img = np.stack([5 * xs, 10 * ys, np.full_like(xs, 128)], -1)
    Image.fromarray(img.astype(np.uint8)).save(path, quality=100)
    return path


BOX_A = (0.25, 0.75, 0.0, 0.5)  # left, right, top, bottom
BOX_B = (0.0, 0.5, 0.5, 1.0)


def make_root(tmp_path, base, www):
    """Train CSV with 3 http images (+1 dead), test CSV with a file:// one."""
    for name in ('p1.png', 'p2.png', 'p3.png'):
        photo(osp.join(www, name))
    file_img = photo(str(tmp_path / 'local.png'))
    root = str(tmp_path / 'fec')
    u = [f'{base}/p1.png', f'{base}/p2.png', f'{base}/p3.png']
    dead = f'{base}/gone.png'
    write_lines(osp.join(root, FEC_TRAIN), None, [
        fec_line(u, [1, 1, 1, 2, 2, 1], boxes=[BOX_A, BOX_A, BOX_A]),
        # Same photo p1 with a second face box; one dead URL.
        fec_line([u[0], dead, u[2]], [3] * 6, 'TWO_CLASS_TRIPLET',
                 boxes=[BOX_B, BOX_A, BOX_A]),
    ])
    write_lines(osp.join(root, FEC_TEST), None, [
        fec_line([f'file://{file_img}', u[1],
                  f'file://{tmp_path}/missing.png'], [2] * 6,
                 boxes=[BOX_A, BOX_A, BOX_A]),
    ])
    return root, u, dead, file_img


def test_download_crop_report_and_resume(tmp_path, server, capsys):
    tool = load_tool()
    base, www = server
    root, u, dead, file_img = make_root(tmp_path, base, www)
    result = tool.prepare_fec(root, workers=2, timeout=5, retries=0)
    # 6 distinct URLs: p1 p2 p3 gone local missing.
    assert result['urls'] == 6
    assert result['downloaded'] == 4 and result['written'] == 5
    assert result['skipped'] == {'dead_url': 2}
    assert '6/6' in capsys.readouterr().out  # progress bar
    with open(osp.join(root, 'dead_urls.tsv')) as f:
        dead_lines = sorted(line.rstrip('\n').split('\t') for line in f)
    assert [d[0] for d in dead_lines] == sorted(
        [dead, f'file://{tmp_path}/missing.png'])
    assert 'HTTP 404' in dict(dead_lines)[dead]

    # The crop of BOX_A on the 40x20 photo: x 10..30, y 0..10.
    crop = osp.join(root, 'crops', fec_crop_name(u[0], BOX_A))
    with Image.open(crop) as img:
        assert img.size == (20, 10)
        r, g, _ = img.convert('RGB').getpixel((0, 9))
    assert abs(r - 50) < 8 and abs(g - 90) < 8
    with Image.open(osp.join(root, 'crops',
                             fec_crop_name(u[0], BOX_B))) as img:
        assert img.size == (20, 10)
    assert osp.isfile(osp.join(root, 'crops',
                               fec_crop_name(f'file://{file_img}', BOX_A)))
    assert not glob.glob(osp.join(root, '**', '*.tmp'), recursive=True)

    # The FEC dataset reads the crops: train keeps the first triplet only.
    from mmpretrain.registry import DATASETS
    ds = DATASETS.build(dict(type='FEC', data_root=root, pipeline=[]))
    assert len(ds) == 1 and ds.num_dropped == {'missing_image': 1}

    # Resume: with the server's files gone, nothing is downloaded again,
    # known dead URLs are not retried, and a stale temp file is removed.
    for name in os.listdir(www):
        os.remove(osp.join(www, name))
    stale = osp.join(osp.dirname(crop), '.x.jpg.abc.tmp')
    open(stale, 'w').close()
    mtime = os.path.getmtime(crop)
    again = tool.prepare_fec(root, workers=2, timeout=5, retries=0,
                             progress=False)
    assert again['downloaded'] == 0 and again['written'] == 0
    assert again['skipped'] == {'already_done': 4, 'dead_url_known': 2}
    assert os.path.getmtime(crop) == mtime and not osp.exists(stale)
    # --retry-dead tries them again (still dead: reported again).
    retried = tool.prepare_fec(root, retry_dead=True, retries=0,
                               progress=False)
    assert retried['skipped'] == {'already_done': 4, 'dead_url': 2}


def test_interrupted_run_resumes(tmp_path, server):
    """A run stopped after part of the URLs: the next run does the rest."""
    tool = load_tool()
    base, www = server
    root, u, _, _ = make_root(tmp_path, base, www)
    first = tool.prepare_fec(root, limit=2, workers=1, retries=0,
                             progress=False)
    assert first['urls'] == 2
    second = tool.prepare_fec(root, workers=1, retries=0, progress=False)
    assert second['skipped']['already_done'] >= 1
    assert second['written'] + first['written'] == 5


def test_cli_resize_and_malformed_csv(tmp_path, server):
    tool = load_tool()
    base, www = server
    root, u, _, _ = make_root(tmp_path, base, www)
    assert tool.main([root, '--size', '16', '--workers', '2', '--retries',
                      '0', '--no-progress']) == 0
    with Image.open(osp.join(root, 'crops',
                             fec_crop_name(u[1], BOX_A))) as img:
        assert img.size == (16, 16)
    with open(osp.join(root, FEC_TRAIN), 'a') as f:
        f.write(fec_line(u, [7]) + '\n')
    from kent_mm.datasets import AnnotationError
    with pytest.raises(AnnotationError) as info:
        tool.main([root, '--no-progress'])
    assert info.value.line == 3
    with pytest.raises(FileNotFoundError):
        tool.main([str(tmp_path / 'empty')])
