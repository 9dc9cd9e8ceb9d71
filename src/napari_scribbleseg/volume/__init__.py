"""Volumes: slice-by-slice segmentation along any axis and propagation between slices.

- :mod:`.segmenter`: :class:`VolumeSegmenter` (segment a slice, propagate it, where to scribble next);
- :mod:`.seeds`: the scribbles propagation derives for a neighbouring slice, and their appearance check;
- :mod:`.walker`: the 3-D random walker that finishes a propagation from every segmented slice
  (:meth:`VolumeSegmenter.walk_3d`);
- :mod:`.arbitrate`: where the walker and the slice-by-slice result disagree, which one the user's slices' intensities favour.

The expected-error maps and the ranking's arithmetic are :mod:`napari_scribbleseg.uncertainty`'s.
"""

from napari_scribbleseg.volume.seeds import (
    Appearance,
    appearance_of,
    background_ring,
    check_seeds,
    class_core,
    derive_scribbles,
    inside_distance,
    sigma_floor,
)
from napari_scribbleseg.volume.segmenter import (
    DRIFT_RATE,
    FRONTIER_WEIGHT,
    PropagationResult,
    PropagationSettings,
    PropagationStep,
    Stop,
    VolumeSegmenter,
    volume_key,
)

__all__ = [
    "DRIFT_RATE", "FRONTIER_WEIGHT", "Appearance", "PropagationResult", "PropagationSettings", "PropagationStep",
    "Stop", "VolumeSegmenter", "appearance_of", "background_ring", "check_seeds", "class_core", "derive_scribbles",
    "inside_distance", "sigma_floor", "volume_key",
]
