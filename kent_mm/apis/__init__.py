from .face_detection import (FACE_DETECTORS, BaseFaceDetector,
                             CascadeFaceDetector, DetectedFace,
                             MTCNNFaceDetector, build_face_detector)
from .face_inference import FaceExpressionInferencer
from .model_zoo import (best_shipped_model, default_model_index,
                        register_kent_model_index)
from .runtime import prepare_mmpretrain_tool, run_mmpretrain_tool

__all__ = [
    'BaseFaceDetector', 'CascadeFaceDetector', 'DetectedFace',
    'FACE_DETECTORS', 'FaceExpressionInferencer',
    'MTCNNFaceDetector', 'build_face_detector',
    'best_shipped_model', 'default_model_index', 'prepare_mmpretrain_tool',
    'register_kent_model_index', 'run_mmpretrain_tool'
]
