"""In a distributed run, rank 0 alone builds the text encoder.

Two CPU processes (gloo, ``torch.distributed.run``) initialise a KENT head
whose CLIP text cache does not exist yet (``text_rank_zero_worker.py``):
one text encoder is built, the cache is written once, and both ranks end
with rank 0's features; a cache error on rank 0 stops rank 1 too.
"""
import os.path as osp

import pytest
import torch

from kent_mm.models.text import load_text_cache
from kent_testing import check, free_port, run_tool

WORKER = osp.join(osp.dirname(osp.abspath(__file__)),
                  'text_rank_zero_worker.py')


@pytest.fixture(scope='module')
def two_ranks(shared):
    """The folder of one 2-process run (once per test run: the xdist
    workers share it)."""
    return shared('rank_zero_text', lambda out: check(run_tool(
        ['-m', 'torch.distributed.run', '--nproc_per_node', 2,
         '--master_port', free_port(), WORKER, out])))


@pytest.mark.runtime(12)
def test_only_rank_zero_builds_the_text_encoder(two_ranks):
    builds = (two_ranks / 'builds.txt').read_text().split()
    assert builds == ['0']


def test_both_ranks_end_with_the_features_of_the_cache(two_ranks):
    cache = load_text_cache(str(two_ranks / 'text_cache.pth'))['features']
    ranks = [torch.load(two_ranks / f'rank{r}.pth', weights_only=True)
             for r in (0, 1)]
    for state in ranks:
        torch.testing.assert_close(state['text_feats'], cache[:3],
                                   rtol=0, atol=0)
        assert torch.equal(state['text_embeds'], ranks[0]['text_embeds'])


def test_an_error_on_rank_zero_stops_the_other_ranks(two_ranks):
    rank0 = (two_ranks / 'error0.txt').read_text()
    rank1 = (two_ranks / 'error1.txt').read_text()
    assert rank0.startswith('ValueError') and 'field "prompts"' in rank0
    assert rank1.startswith('RuntimeError') and 'rank 0 failed' in rank1
    assert rank0.split(': ', 1)[1] in rank1
