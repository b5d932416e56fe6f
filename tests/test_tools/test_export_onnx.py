"""ONNX export: softmax output, class names in the metadata, parity with
PyTorch <= 1e-4 on 16 random inputs for KENT ResNet-18 (the shared trained
checkpoint, through the command line) and Swin-T (random weights)."""
import json
import os.path as osp

import numpy as np
import onnxruntime as ort
import pytest
import torch

from kent_testing import (RAFDB_CLASSES, run_script, write_random_checkpoint,
                          write_tiny_config)


@pytest.mark.runtime(9)
def test_resnet18_cli_dynamic_batch_verify(tmp_path, kent_checkpoint):
    from mmpretrain import get_model

    from kent_mm.apis.deploy import torch_probs
    from kent_mm.utils import checkpoint_safe_globals
    cfg, ckpt = kent_checkpoint['config'], kent_checkpoint['checkpoint']
    with checkpoint_safe_globals():  # a training checkpoint
        model = get_model(cfg, pretrained=ckpt, device='cpu')
    out = tmp_path / 'r18.onnx'
    printed = run_script('deployment/export_onnx.py', [
        cfg, ckpt, '--out', out, '--dynamic-batch', '--verify'])
    diff = float(printed.split('random inputs = ')[1].split()[0])
    assert diff <= 1e-4
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    meta = session.get_modelmeta().custom_metadata_map
    assert tuple(json.loads(meta['class_names'])) == RAFDB_CLASSES
    assert json.loads(meta['input_size']) == [32, 32]
    assert meta['grayscale'] == 'false'
    # Our own parity check: 16 RGB images in one dynamic batch.
    g = torch.Generator().manual_seed(1)
    x = torch.rand(16, 3, 32, 32, generator=g) * 255
    probs = session.run(None, {'input': x.numpy()})[0]
    ref = torch_probs(model, x).numpy()
    assert probs.shape == (16, 7)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)  # softmax output
    assert np.abs(probs - ref).max() <= 1e-4
    assert probs.max() < 0.999  # not saturated: the check has power
    # Channel order matters: BGR input would give other probabilities.
    bgr = session.run(None, {'input': x.flip(1).numpy()})[0]
    assert np.abs(bgr - ref).max() > 1e-3


@pytest.mark.runtime(14)
def test_swin_t_fixed_batch_parity_and_dynamic_refused(
        tmp_path, rafdb_text, rafdb_root):
    from mmpretrain import get_model

    from kent_mm.apis.deploy import (export_onnx, onnx_metadata,
                                     onnx_session, verify_onnx)
    cfg = write_tiny_config(tmp_path / 'cfg.py', 'kent_swin-t_rafdb.py',
                            rafdb_root, rafdb_text)
    ckpt = write_random_checkpoint(tmp_path / 'model.pth', cfg)
    model = get_model(cfg, pretrained=ckpt, device='cpu')
    out = str(tmp_path / 'swin.onnx')
    export_onnx(model, out, img_size=(32, 32), batch_size=4,
                metadata=dict(class_names=json.dumps(RAFDB_CLASSES)))
    session = onnx_session(out)
    assert session.get_inputs()[0].shape == [4, 3, 32, 32]
    assert tuple(json.loads(onnx_metadata(session)['class_names'])) == \
        RAFDB_CLASSES
    assert verify_onnx(model, out, num_inputs=16) <= 1e-4
    # A dynamic batch is wrong for MMPretrain's Swin: refused, not written.
    bad = str(tmp_path / 'swin_dyn.onnx')
    with pytest.raises(RuntimeError, match='fixed --batch-size'):
        export_onnx(model, bad, img_size=(32, 32), dynamic_batch=True)
    assert not osp.exists(bad)


@pytest.mark.parametrize('mean', [None, [1., 2., 3.]])
def test_onnx_wrapper_normalises_as_the_data_preprocessor(mean):
    from mmpretrain.models.utils import ClsDataPreprocessor

    from kent_mm.apis.deploy import ONNXClassifier
    model = torch.nn.Module()
    model.data_preprocessor = ClsDataPreprocessor(
        mean=mean, std=None if mean is None else [4., 5., 6.])
    wrapper = ONNXClassifier(model)
    expected = (0., 0., 0.) if mean is None else mean
    assert wrapper.mean.flatten().tolist() == list(expected)
    assert wrapper.std.flatten().tolist() == ([1.] * 3 if mean is None else
                                              [4., 5., 6.])
