# The DeepFEVER ResNet-18 encoder alone, as a plain MMPretrain
# ImageClassifier (backbone + GAP, no head): load a checkpoint of
# deepfever_resnet18_{affectnet-fec,fer2013}.py and call
# model.extract_feat(inputs) -> ((N, 512), ). The heads' weights in the
# checkpoint are ignored (unexpected keys). test_dataloader names the data to
# extract features from (FER2013 test here; override data_root/type/split).
_base_ = [
    './_base_/datasets/fer2013_bs64_112.py',
    './_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=None)
