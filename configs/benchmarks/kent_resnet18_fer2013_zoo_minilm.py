# FER2013 model-zoo recipe, KENT with MiniLM sentence features (384-d) of the
# prompts (tools/benchmarks/build_minilm_text_embeddings.py). Model-zoo
# config of kent_resnet18_fer2013-112px-minilm.
_base_ = ['./kent_resnet18_fer2013_zoo.py']
model = dict(
    neck=dict(out_channels=384),
    head=dict(
        in_channels=384,
        text_embeddings=dict(file='data/text/fer2013_minilm.pth')))
