"""Scribble and click simulators: one implementation for evaluation, training, the GUI and tests.

- :mod:`.protocol` — the evaluation protocol: :func:`next_scribble` (000's deterministic Alg. 1),
  :func:`next_click`, :func:`first_interaction`, :func:`error_regions`, :data:`SIMULATORS`;
- :mod:`.robustness` — 004's repetitive and false interactions, stroke jitter and elastic warp;
- :mod:`.meta`, :mod:`.skeleton_mst`, :mod:`.corrective`, :mod:`.naive` — training simulators
  (000, 001, 002, the linked-points baseline), each ``f(mask, rng, ...) -> (H, W) bool``;
- :mod:`.recipes` — :func:`simulate_scribbles`, a whole label map's training scribbles;
- :mod:`.prev_mask` — perturbed ground truth as flawed previous masks.

Everything is deterministic given its inputs and, where random, its ``rng`` (a numpy Generator or seed).
"""

from napari_scribbleseg.simulate.corrective import corrective_scribble
from napari_scribbleseg.simulate.meta import (
    SCRIBBLESEG_SHARES,
    axial_scribble,
    bezier_scribble,
    boundary_scribble,
    scribbleseg_scribbles,
    stroke_count,
)
from napari_scribbleseg.simulate.naive import linked_points_scribble
from napari_scribbleseg.simulate.prev_mask import (
    dilate_mask,
    erase_locally,
    erode_mask,
    perturb_label_map,
    perturb_mask,
    translate_mask,
)
from napari_scribbleseg.simulate.protocol import (
    SIMULATORS,
    Interaction,
    click_in_region,
    error_regions,
    first_interaction,
    get_simulator,
    next_click,
    next_scribble,
    scribble_in_region,
)
from napari_scribbleseg.simulate.recipes import (
    TRAINING_SIMULATORS,
    get_training_simulator,
    simulate_scribbles,
)
from napari_scribbleseg.simulate.robustness import (
    MisleadingSimulator,
    false_interaction,
    jitter_interaction,
    jitter_path,
    misleading_schedule,
    repetitive_interaction,
    warp_interaction,
    warp_mask,
)
from napari_scribbleseg.simulate.skeleton_mst import skeleton_mst_scribble

__all__ = [
    "SCRIBBLESEG_SHARES",
    "SIMULATORS",
    "TRAINING_SIMULATORS",
    "Interaction",
    "MisleadingSimulator",
    "axial_scribble",
    "bezier_scribble",
    "boundary_scribble",
    "click_in_region",
    "corrective_scribble",
    "dilate_mask",
    "erase_locally",
    "erode_mask",
    "error_regions",
    "false_interaction",
    "first_interaction",
    "get_simulator",
    "get_training_simulator",
    "jitter_interaction",
    "jitter_path",
    "linked_points_scribble",
    "misleading_schedule",
    "next_click",
    "next_scribble",
    "perturb_label_map",
    "perturb_mask",
    "repetitive_interaction",
    "scribble_in_region",
    "scribbleseg_scribbles",
    "simulate_scribbles",
    "skeleton_mst_scribble",
    "stroke_count",
    "translate_mask",
    "warp_interaction",
    "warp_mask",
]
