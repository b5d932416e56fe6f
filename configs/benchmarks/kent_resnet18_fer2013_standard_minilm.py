# FER2013 `standard` CPU benchmark, KENT with MiniLM sentence features
# (384-d) of the prompts as the text knowledge: real language knowledge that
# installs offline (tools/benchmarks/build_minilm_text_embeddings.py; a
# benchmark tool, not a kent_mm dependency). `--publish` names a rebuild
# kent_resnet18_fer2013-48px-minilm (not in the zoo: no shipped weights).
_base_ = ['./kent_resnet18_fer2013_standard.py']
model = dict(
    neck=dict(out_channels=384),
    head=dict(
        in_channels=384,
        text_embeddings=dict(file='data/text/fer2013_minilm.pth')))
