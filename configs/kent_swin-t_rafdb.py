_base_ = [
    './_base_/models/kent_swin-t.py',
    './_base_/datasets/rafdb_bs64_112.py',
    './_base_/schedules/kent_sgd_50e.py',
    './_base_/default_runtime.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(
        class_names={{_base_.classes}},
        text_embeddings=dict(
            cache_file='data/text_embeddings/rafdb_vit-b-16_openai.pth')))
default_hooks = dict(checkpoint={{_base_.model_selection}})
