# KENT model on FER2013 48x48: ResNet-18 from scratch, text features from a
# file (tools/benchmarks/fer2013_benchmark.py builds it: a random-init CLIP
# tower, or MiniLM with model.neck.out_channels=model.head.in_channels=384).
_base_ = [
    '../../_base_/models/kent_resnet18.py',
    './fer2013_bs64_48.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(init_cfg=None),  # from scratch, offline
    head=dict(
        class_names={{_base_.classes}},
        logit_scale=20.,
        text_embeddings=dict(
            _delete_=True,
            type='PrecomputedTextEmbeddings',
            file='data/text/fer2013_clip-random.pth')))
