"""LabelTripletDataset: expression triplets from the labels of a
classification set."""
import pytest
import torch

from fer_fixtures import learnable_affectnet

from kent_mm.datasets import TRIPLET_TYPES, fer_triplet_collate

PIPE = [dict(type='LoadFERImage'), dict(type='PackInputs')]


def test_label_triplets_two_same_one_different(tmp_path):
    from mmpretrain.registry import DATASETS
    root = learnable_affectnet(tmp_path, per_class=3, val_per_class=1)
    inner = dict(type='AffectNet', data_root=root, pipeline=PIPE)
    ds = DATASETS.build(dict(type='LabelTripletDataset', dataset=inner,
                             num_triplets=40, seed=1))
    labels = [ds.dataset.get_data_info(i)['gt_label']
              for i in range(len(ds.dataset))]
    assert len(ds) == 40
    assert set(ds.answers.tolist()) == {1, 2, 3}
    for trip, answer in zip(ds.triplets, ds.answers):
        lab = [labels[i] for i in trip]
        odd = answer - 1
        pair = [lab[k] for k in range(3) if k != odd]
        assert pair[0] == pair[1] and lab[odd] != pair[0]
        assert len(set(trip.tolist())) == 3
    batch = fer_triplet_collate([ds[0]])
    s = batch['data_samples']
    assert [x.triplet_pos for x in s] == [0, 1, 2]
    assert s[0].triplet_type == TRIPLET_TYPES.index('TWO_CLASS_TRIPLET')
    assert s[0].triplet_answer == ds.answers[0]
    # Same seed, same table.
    again = DATASETS.build(dict(type='LabelTripletDataset', dataset=inner,
                                num_triplets=40, seed=1))
    assert (again.triplets == ds.triplets).all()
    assert 'triplet_types' in ds.metainfo and 'classes' in ds.metainfo


def test_label_triplets_carry_dataset_indices(tmp_path):
    """A triplet's info names its images by index in the wrapped dataset;
    the three packed images are those samples."""
    from mmpretrain.registry import DATASETS
    root = learnable_affectnet(tmp_path, per_class=2, val_per_class=1)
    inner = DATASETS.build(dict(type='AffectNet', data_root=root,
                                pipeline=PIPE))
    ds = DATASETS.build(dict(type='LabelTripletDataset', dataset=inner,
                             num_triplets=5, seed=0))
    info = ds.get_data_info(3)
    assert info['triplet_indices'] == ds.triplets[3].tolist()
    assert 'img_paths' not in info and 'img_path' not in info
    for k, packed in enumerate(ds[3]):
        single = inner[info['triplet_indices'][k]]
        assert torch.equal(packed['inputs'], single['inputs'])
        assert packed['data_samples'].gt_label == single['data_samples'
                                                         ].gt_label
        assert packed['data_samples'].triplet_idx == 3


def test_unknown_triplet_type_is_rejected(tmp_path):
    from mmpretrain.registry import DATASETS
    root = learnable_affectnet(tmp_path, per_class=2, val_per_class=1)
    inner = dict(type='AffectNet', data_root=root, pipeline=PIPE)
    with pytest.raises(ValueError, match='triplet_type'):
        DATASETS.build(dict(type='LabelTripletDataset', dataset=inner,
                            triplet_type='FOUR_CLASS_TRIPLET'))
