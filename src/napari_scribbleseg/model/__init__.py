"""The network: image encoder (once per image), interaction head (per stroke), guidance, crop, checkpoints.

Import this subpackage only where torch is wanted: ``import napari_scribbleseg`` does not load it.
"""

from napari_scribbleseg.model.build import (
    MODEL_REGISTRY,
    build_model,
    build_scribbleseg_lite0,
    build_scribbleseg_tiny,
)
from napari_scribbleseg.model.checkpoint import (
    CHECKPOINT_VERSION,
    checkpoint_dict,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from napari_scribbleseg.model.crop import CropTransform
from napari_scribbleseg.model.encoder import ImageEncoder, load_imagenet_lite
from napari_scribbleseg.model.guidance import (
    GUIDANCE_KINDS,
    guidance_crops,
    guidance_layout,
    guidance_maps,
)
from napari_scribbleseg.model.head import InteractionHead
from napari_scribbleseg.model.network import ModelConfig, ScribbleSegNet

__all__ = [
    "CHECKPOINT_VERSION", "GUIDANCE_KINDS", "MODEL_REGISTRY", "CropTransform", "ImageEncoder", "InteractionHead",
    "ModelConfig", "ScribbleSegNet", "build_model", "build_scribbleseg_lite0", "build_scribbleseg_tiny",
    "checkpoint_dict", "guidance_crops", "guidance_layout", "guidance_maps", "load_checkpoint", "load_imagenet_lite",
    "read_checkpoint", "save_checkpoint",
]
