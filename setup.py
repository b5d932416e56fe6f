import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    ns = {}
    with open(osp.join('kent_mm', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='kent_mm',
    version=read_version(),
    description='Knowledge-enhanced facial expression recognition (KENT, '
    'DeepFEVER) for OpenMMLab MMPretrain',
    long_description=open('README.md', encoding='utf-8').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=[
        # torch >= 2.6 loads with weights_only=True; kent_mm allow-lists the
        # MMEngine/NumPy types this needs.
        'torch>=2.1',
        'torchvision',
        'mmengine>=0.10.6,<0.11',  # <=0.10.5 clashes with transformers
        'mmpretrain>=1.2.0,<1.3',
        # mmcv-lite: pure Python, no compiled ops, enough for MMPretrain.
        # Users with a full mmcv build can keep it (do not install both).
        'mmcv-lite>=2.0.0,<2.4.0',
        # 2.29 is the first release where 'ViT-B-16-quickgelu' with the
        # 'openai' weights (KENT's text tower) resolves.
        'open_clip_torch>=2.29,<4',
        'numpy',
        'Pillow',
        # mmengine resolves `mmpretrain::` config bases with pkg_resources,
        # which setuptools >= 82 removed.
        'setuptools<82',
    ],
    extras_require={
        # scikit-learn: t-SNE of tools/visualization/vis_expression_tsne.py
        # (the only analysis tool that needs more than torch/numpy/matplotlib;
        # tests run it, so the test extra carries it too).
        # deploy/demo: tools/deployment/export_onnx.py,
        # tools/benchmarks/onnx_speed.py (onnx, onnxruntime) and
        # tools/demo/fer_demo.py (scikit-image: its
        # LBP face cascade, as OpenCV >= 5 no longer bundles cascades; and the
        # public-domain `astronaut` photo the demo test uses). Tests run them.
        # pytest-xdist runs the suite on two processes (pytest.ini), filelock
        # lets them share the fixtures built once per run (tests/conftest.py).
        # demo: the web page (flask) and the MTCNN face detector, whose
        # weights ship in the facenet-pytorch wheel (2.6 pins torch 2.2, so
        # 2.5.x); tests run both through Flask's test client.
        'tests': [
            'pytest', 'pytest-xdist>=3.2', 'filelock', 'hypothesis',
            'scikit-learn', 'onnx', 'onnxruntime', 'scikit-image', 'flask',
            'facenet-pytorch>=2.5,<2.6'
        ],
        'analysis': ['scikit-learn'],
        'deploy': ['onnx', 'onnxruntime'],
        'demo': ['scikit-image', 'flask', 'facenet-pytorch>=2.5,<2.6'],
    },
    zip_safe=False,
)
