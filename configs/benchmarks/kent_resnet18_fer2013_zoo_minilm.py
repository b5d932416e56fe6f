# FER2013 model-zoo recipe, KENT with MiniLM sentence features (384-d) of the
# prompts (tools/benchmarks/build_minilm_text_embeddings.py). Model-zoo
# config of kent_resnet18_fer2013-112px-minilm.
_base_ = ['./kent_resnet18_fer2013_zoo.py']
model = dict(
    neck=dict(out_channels=384),
    head=dict(
        in_channels=384,
        # Post-hoc temperature scaling of the released weights (eval mode
        # only; training never sees it): the T of minimum NLL on their
        # single-crop PublicTest predictions
        # (tools/analysis_tools/calibrate_temperature.py, BENCHMARKS.md).
        # A model retrained from this config needs its own T (or 1).
        temperature=0.8762,
        text_embeddings=dict(file='data/text/fer2013_minilm.pth')))
