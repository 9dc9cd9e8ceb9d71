"""Classical interactive segmentation peers behind the predictor protocol.

``RandomWalker`` (scikit-image), ``GrabCut`` (OpenCV) and ``GrowCut`` (geodesic seed competition, as 3D
Slicer's "Grow from seeds"); ``get_predictor("random_walker" | "grabcut" | "growcut")`` builds them.
"""

from napari_scribbleseg.baselines.common import ClassicalPredictor
from napari_scribbleseg.baselines.grabcut import GrabCut
from napari_scribbleseg.baselines.growcut import GrowCut
from napari_scribbleseg.baselines.random_walker import RandomWalker
from napari_scribbleseg.scribbles import implicit_background

__all__ = ["ClassicalPredictor", "GrabCut", "GrowCut", "RandomWalker", "implicit_background"]
