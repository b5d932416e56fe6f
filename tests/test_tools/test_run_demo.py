"""``tools/run_demo.sh`` (the README's first command) end to end on a tiny
synthetic RAF-DB: two epochs at 64 px (warm-up, then one cosine epoch),
bfloat16 autocast and channels-last (``AMP=1``, what a CPU with AVX-512
BF16 gets), no validation pass, then ``tools/test.py`` on the checkpoint."""
import os.path as osp
import re
import subprocess

import pytest
from mmengine.config import Config

from kent_mm.utils import safe_load
from kent_testing import REPO, tool_env


@pytest.mark.runtime(20)
def test_demo_trains_at_64px_in_bf16_channels_last_and_tests(
        rafdb_root, tmp_path):
    work = tmp_path / 'work'
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'run_demo.sh')],
        env=tool_env(dict(DATA_ROOT=rafdb_root, WORK_DIR=str(work),
                          EPOCHS='2', AMP='1')),
        capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert 'ChannelsLastHook' in log and 'BF16OptimWrapper' in log
    assert not re.search(r'Epoch\(val\)', log)  # no validation pass
    assert re.search(r'Epoch\(test\).*accuracy/top1: \d+\.\d+', log)
    # The config the Runner ran (dumped in the work dir): 64 px.
    cfg = Config.fromfile(str(work / 'kent_resnet18_rafdb_demo.py'))
    assert cfg.train_dataloader.dataset.pipeline[1].scale == (64, 64)
    state = safe_load(str(work / 'epoch_2.pth'))
    assert state['meta']['epoch'] == 2
