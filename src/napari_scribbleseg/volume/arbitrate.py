"""Where two results of a volume disagree, keep the one the user's own slices say the image supports.

The 3-D random walker (:mod:`napari_scribbleseg.volume.walker`) and the slice-by-slice propagation fail in
different places: the walker diffuses across a thin, faint boundary (an oedema shell around a core labelled
background, a long drifting tube) and the slice-by-slice result carries an object too large into tissue
that looks like it (the spleen's upper tip leaking through a thin fat line). Each class's intensities on
the slices the user segmented (scribbled or accepted) decide between them: every connected 3-D region
where the two label volumes differ takes the labels under which its voxels are likelier, under a
histogram of each class's intensities (and the background's) on those slices, by at least
:data:`MARGIN` nats per voxel. Where the intensities hardly tell the two apart (a leak into tissue as bright
as the organ), the walker, which follows the edges between them in 3-D, keeps its labels: without the
margin such a region went either way on a few hundredths of a nat per voxel, and the spleen from one slice
swung between 0.91 and 0.86 with the model that segmented that slice (docs/BENCHMARKS.md "Volumes").

On the dev volumes of issue 16 (docs/BENCHMARKS.md "Volumes") this replaced a fixed vote weight of the
slice-by-slice result (the walker overruled it only where at least 71 % sure, within 30 mm of the
segmented slices): the walker now reaches the whole object, and the regions it gets wrong go back.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

#: histogram bins over intensities in [0, 1]
BINS = 32
#: Gaussian smoothing of each histogram, in bins (a class seen on few pixels still gets a smooth model)
SMOOTH_BINS = 1.0
#: mean log-likelihood (nats per voxel) by which a region's intensities must favour ``current``'s labels
#: over the proposal's for the region to be given back
MARGIN = 0.25


def intensity_models(data: np.ndarray, labels: np.ndarray, values: Sequence[int]) -> np.ndarray:
    """(len(values), BINS) log-probabilities of each label value's intensities: smoothed histograms of
    ``data`` (in [0, 1]) over the voxels of ``labels`` holding that value, one count added to every bin."""
    index = _bins(data)
    models = np.empty((len(values), BINS))
    for row, value in enumerate(values):
        counts = np.bincount(index[labels == value], minlength=BINS).astype(np.float64) + 1.0
        counts = ndi.gaussian_filter1d(counts, SMOOTH_BINS, mode="nearest")
        models[row] = np.log(counts / counts.sum())
    return models


def arbitrate(
    data: np.ndarray,
    current: np.ndarray,
    proposed: np.ndarray,
    values: Sequence[int],
    models: np.ndarray,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """``proposed`` with each connected region where it differs from ``current`` given back ``current``'s
    labels where those are likelier under ``models`` (:func:`intensity_models` of ``values``, the only
    labels either holds) by more than :data:`MARGIN` per voxel. Voxels in ``fixed`` (bool, optional) are
    never arbitrated: they keep ``proposed``."""
    differ = current != proposed
    if fixed is not None:
        differ &= ~fixed
    if not differ.any():
        return proposed.copy()
    regions, n = ndi.label(differ)
    row = np.zeros(int(max(values)) + 1, np.intp)
    row[list(values)] = np.arange(len(values))
    bins = _bins(data[differ])
    where = regions[differ]
    likelihood = [np.bincount(where, weights=models[row[labels[differ]], bins], minlength=n + 1)
                  for labels in (current, proposed)]
    sizes = np.bincount(where, minlength=n + 1)
    give_back = likelihood[0] > likelihood[1] + MARGIN * sizes
    out = proposed.copy()
    back = differ & give_back[regions]
    out[back] = current[back]
    return out


def _bins(data: np.ndarray) -> np.ndarray:
    return np.clip((np.asarray(data) * BINS).astype(np.intp), 0, BINS - 1)
