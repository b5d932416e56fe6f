"""ONNX export of kent_mm (and plain MMPretrain) classifiers.

The exported graph takes what an application has at hand and returns what
it wants:

- input ``input``: ``float32 (N, 3, H, W)``, **RGB**, values 0..255, the face
  already resized to ``H x W`` (the config's test pipeline size);
  normalisation (mean/std) and channel order are inside the graph;
- output ``probs``: ``float32 (N, num_classes)`` softmax probabilities;
- ONNX metadata (``metadata_props``; onnxruntime:
  ``session.get_modelmeta().custom_metadata_map``): ``class_names`` (JSON),
  ``input_size`` (JSON ``[H, W]``), ``input_format``, ``grayscale``, ...

Needs ``onnx`` and ``onnxruntime`` (``pip install "kent_mm[deploy]"``).
"""
import copy
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from kent_mm.datasets import GRAY_DATASETS, unwrap_dataset
from kent_mm.utils import atomic_write


class ONNXClassifier(nn.Module):
    """RGB 0..255 images -> softmax probabilities, for export.

    Args:
        model (nn.Module): An MMPretrain ``ImageClassifier`` (KENT or plain)
            with its ``data_preprocessor``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        pre = model.data_preprocessor
        # The model sees RGB when the preprocessor flips the BGR images that
        # MMCV loads (to_rgb=True); otherwise it sees BGR.
        self.flip = not bool(getattr(pre, 'to_rgb', False))
        # ClsDataPreprocessor has mean/std buffers only when it normalises.
        mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
        if mean is None or std is None:
            mean, std = torch.zeros(3, 1, 1), torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.float().view(1, -1, 1, 1).clone())
        self.register_buffer('std', std.float().view(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip:
            x = x.flip(1)
        x = (x - self.mean) / self.std
        logits = self.model(x, mode='tensor')
        if isinstance(logits, (tuple, list)):
            logits = logits[-1]
        return logits.softmax(dim=-1)


def deploy_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every ``switch_to_deploy()``
    applied (KENT's fused embedding head, RepVGG blocks, ...)."""
    model = copy.deepcopy(model).cpu().eval()
    for module in model.modules():
        if callable(getattr(module, 'switch_to_deploy', None)):
            module.switch_to_deploy()
    return model


def config_image_size(cfg) -> Tuple[int, int]:
    """``(H, W)`` the config's test pipeline resizes/crops to (112 if none)."""
    size = None
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        pipeline = []
    for t in pipeline:
        for key in ('crop_size', 'scale'):
            value = t.get(key)
            if value is None or t.get('type') == 'RandomCrop':
                continue
            if isinstance(value, int):
                size = (value, value)
            elif t.get('type') == 'ResizeEdge':
                continue
            else:  # (w, h) in MMCV
                size = (int(value[1]), int(value[0]))
    return size or (112, 112)


def is_grayscale_model(cfg) -> bool:
    """Whether the model was trained on grey images (dataset type)."""
    try:
        dataset = cfg.test_dataloader.dataset
    except AttributeError:
        return False
    return unwrap_dataset(dataset).get('type') in GRAY_DATASETS


def class_names_of(model: nn.Module) -> List[str]:
    """Class names from the checkpoint's ``dataset_meta`` or the KENT head."""
    # MMPretrain's get_model keeps the checkpoint's dataset_meta as
    # `model._dataset_meta` (no public accessor; its inferencers read it
    # there); test_publish_and_zoo checks that it is still set.
    meta = getattr(model, '_dataset_meta', None) or getattr(
        model, 'dataset_meta', None) or {}
    names = meta.get('classes')
    if names is None:
        names = getattr(getattr(model, 'head', None), 'class_names', None)
    if names is None:
        raise ValueError('No class names: the checkpoint has no '
                         'meta.dataset_meta.classes and the head none.')
    return list(names)


def export_onnx(model: nn.Module,
                out_file: str,
                img_size: Tuple[int, int] = (112, 112),
                batch_size: int = 1,
                dynamic_batch: bool = False,
                opset: int = 17,
                dynamo: bool = False,
                metadata: Optional[Dict[str, str]] = None,
                check_tolerance: float = 1e-4) -> str:
    """Export ``model`` (eval mode, CPU) to ``out_file``.

    Default: the TorchScript exporter (``dynamo=False``): a few seconds, and
    exact for ResNet-18 and Swin-T. With ``dynamic_batch`` the batch axis is
    symbolic and the export is checked at another batch size; MMPretrain's
    Swin fixes the batch in ``ShiftWindowMSA.window_reverse``
    (``int(windows.shape[0] / ...)``), so Swin models must be exported with
    a fixed ``batch_size`` (the check refuses them otherwise).

    Args:
        model (nn.Module): The classifier.
        out_file (str): Destination (written atomically).
        img_size (tuple[int, int]): ``(H, W)``.
        batch_size (int): Batch size of the traced input.
        dynamic_batch (bool): Make the batch axis dynamic.
        opset (int): ONNX opset.
        dynamo (bool): Use the ``torch.export`` based exporter (needs
            ``onnxscript``; slower, ~10x).
        metadata (dict, optional): Extra ``metadata_props``.
        check_tolerance (float): Max abs probability difference allowed by
            the dynamic-batch check.

    Returns:
        str: ``out_file``.
    """
    import onnx

    model = model.cpu().eval()
    wrapper = ONNXClassifier(deploy_copy(model)).eval()
    dummy = torch.rand(batch_size, 3, *img_size) * 255
    kwargs = dict(input_names=['input'], output_names=['probs'],
                  opset_version=opset, dynamo=dynamo)
    if dynamic_batch:
        if dynamo:
            kwargs['dynamic_shapes'] = ({0: torch.export.Dim('batch')}, )
        else:
            kwargs['dynamic_axes'] = {'input': {0: 'batch'},
                                      'probs': {0: 'batch'}}
    directory = osp.dirname(osp.abspath(out_file))
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        tmp_file = osp.join(tmp, 'model.onnx')
        with torch.no_grad():
            torch.onnx.export(wrapper, (dummy, ), tmp_file, **kwargs)
        proto = onnx.load(tmp_file)
    meta = dict(metadata or {})
    meta.setdefault('input_size', json.dumps(list(img_size)))
    meta.setdefault('input_format', 'RGB float32 NCHW, 0..255, resized to '
                    'input_size; normalisation is in the graph')
    meta.setdefault('output', 'softmax probabilities (N, num_classes)')
    meta.setdefault('dynamic_batch', json.dumps(bool(dynamic_batch)))
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = str(key), str(value)
    proto.producer_name = 'kent_mm'
    with atomic_write(out_file, 'wb') as f:
        f.write(proto.SerializeToString())
    if dynamic_batch:
        other = batch_size + 2
        diff = verify_onnx(model, out_file, num_inputs=other,
                           img_size=img_size)
        if diff > check_tolerance:
            os.remove(out_file)
            raise RuntimeError(
                f'The exported graph is wrong at batch size {other} (max abs '
                f'probability difference {diff:.3g}): this model does not '
                'export with a dynamic batch (MMPretrain Swin bakes the batch '
                'size in window_reverse). Export with a fixed --batch-size.')
    return out_file


def onnx_session(onnx_file: str, threads: Optional[int] = None):
    """An onnxruntime CPU session (``threads`` intra-op threads)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(
        onnx_file, sess_options=options, providers=['CPUExecutionProvider'])


def onnx_metadata(session) -> Dict[str, str]:
    """``metadata_props`` of a session's model."""
    return dict(session.get_modelmeta().custom_metadata_map)


def run_onnx(session, images: np.ndarray) -> np.ndarray:
    """Probabilities for ``images`` (N, 3, H, W), in chunks of the graph's
    batch size when that is fixed."""
    shape = session.get_inputs()[0].shape
    fixed = shape[0] if isinstance(shape[0], int) else None
    if fixed is None:
        return session.run(None, {'input': images})[0]
    outs = []
    for start in range(0, len(images), fixed):
        chunk = images[start:start + fixed]
        n = len(chunk)
        if n < fixed:  # pad the last chunk
            pad = np.zeros((fixed - n, ) + chunk.shape[1:], chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        outs.append(session.run(None, {'input': chunk})[0][:n])
    return np.concatenate(outs)


@torch.no_grad()
def torch_probs(model: nn.Module, images_rgb: torch.Tensor) -> torch.Tensor:
    """Reference probabilities through MMPretrain's own path.

    The images go in as MMCV loads them (BGR, 0..255) through the model's
    ``data_preprocessor`` and ``predict``, independent of
    :class:`ONNXClassifier`.
    """
    bgr = images_rgb.flip(1)
    data = model.data_preprocessor({'inputs': bgr, 'data_samples': None},
                                   False)
    samples = model(data['inputs'], None, mode='predict')
    return torch.stack([s.pred_score for s in samples])


def verify_onnx(model: nn.Module,
                onnx_file: str,
                num_inputs: int = 16,
                img_size: Optional[Sequence[int]] = None,
                seed: int = 0) -> float:
    """Max abs difference of probabilities, onnxruntime vs PyTorch.

    Args:
        model (nn.Module): The PyTorch classifier (eval mode).
        onnx_file (str): The exported model.
        num_inputs (int): Number of random images (uniform 0..255).
        img_size (tuple, optional): ``(H, W)``; defaults to the ONNX
            metadata's ``input_size``.
        seed (int): Random seed.

    Returns:
        float: ``max |p_onnx - p_torch|``.
    """
    session = onnx_session(onnx_file)
    if img_size is None:
        img_size = json.loads(onnx_metadata(session)['input_size'])
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(num_inputs, 3, *img_size, generator=g) * 255
    model = model.cpu().eval()
    ref = torch_probs(model, images).numpy()
    out = run_onnx(session, images.numpy())
    return float(np.abs(out - ref).max())
