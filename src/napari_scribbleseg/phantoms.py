"""Small synthetic CT and MR volumes with labelled structures, generated here (no download, no patient data).

They are the plugin's volume samples and the input of ``python -m napari_scribbleseg`` without a display:
big enough to show slice propagation (a few dozen slices), small enough to build in well under a second.
Each returns ``(image, labels, spacing)``: image (Z, Y, X) float32, labels (Z, Y, X) uint8, spacing
(z, y, x) in mm, anisotropic like real scans.
"""

from __future__ import annotations

import numpy as np

#: Label values of :func:`ct_abdomen`.
CT_LABELS = {1: "liver", 2: "spleen", 3: "right kidney", 4: "left kidney", 5: "aorta", 6: "vertebra"}
#: Label values of :func:`mr_brain`.
MR_LABELS = {1: "white matter", 2: "grey matter", 3: "ventricles", 4: "tumour"}


def _grid(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    """Physical coordinates (mm) of the voxel centres, origin at the volume centre, (z, y, x) order."""
    axes = [(np.arange(n) - (n - 1) / 2) * s for n, s in zip(shape, spacing)]
    return np.meshgrid(*axes, indexing="ij")


def _ellipsoid(zyx: tuple[np.ndarray, ...], centre: tuple[float, float, float], radii: tuple[float, float, float]) -> np.ndarray:
    return sum(((c - m) / r) ** 2 for c, m, r in zip(zyx, centre, radii)) <= 1.0


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(rng.standard_normal(shape), sigma).astype(np.float32)


def ct_abdomen(
    shape: tuple[int, int, int] = (40, 128, 128), spacing: tuple[float, float, float] = (5.0, 2.5, 2.5), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """An abdomen-like CT phantom in Hounsfield units.

    Air (-1000 HU) around an elliptic body of fat (-100) and muscle (40), with a liver (60), spleen (50),
    two kidneys (30, with a brighter cortex), the aorta (180, contrast-enhanced) and a vertebra (700);
    organ sizes change along z so slices differ and objects end. Gaussian noise of 12 HU.

    Returns
    -------
    image : (Z, Y, X) float32, HU
    labels : (Z, Y, X) uint8, values in :data:`CT_LABELS`
    spacing : (z, y, x) mm
    """
    rng = np.random.default_rng(seed)
    z, y, x = zyx = _grid(shape, spacing)
    half = shape[0] * spacing[0] / 2
    image = np.full(shape, -1000.0, np.float32)
    body = _ellipsoid(zyx, (0, 0, 0), (10 * half, 120, 150))
    image[body] = -100.0
    image[_ellipsoid(zyx, (0, 0, 0), (10 * half, 105, 135))] = 40.0
    labels = np.zeros(shape, np.uint8)
    organs = [
        (1, 60.0, (-0.2 * half, -20, -55), (0.8 * half, 60, 55)),
        (2, 50.0, (0.15 * half, -35, 75), (0.55 * half, 35, 25)),
        (3, 30.0, (0.25 * half, 45, -55), (0.5 * half, 22, 16)),
        (4, 30.0, (0.3 * half, 45, 55), (0.5 * half, 22, 16)),
        (5, 180.0, (0, 25, 12), (2 * half, 11, 11)),
        (6, 700.0, (0, 70, 0), (2 * half, 20, 24)),
    ]
    for value, hu, centre, radii in organs:
        mask = _ellipsoid(zyx, centre, radii) & body
        image[mask] = hu
        labels[mask] = value
    for value in (3, 4):  # renal cortex enhances more than the medulla
        image[(labels == value) & ~_erode(labels == value, 2)] += 40.0
    image += 12.0 * rng.standard_normal(shape).astype(np.float32)
    image[~body] = -1000.0 + 5.0 * rng.standard_normal(np.count_nonzero(~body)).astype(np.float32)
    return image.astype(np.float32), labels, tuple(float(s) for s in spacing)  # type: ignore[return-value]


def mr_brain(
    shape: tuple[int, int, int] = (36, 112, 96), spacing: tuple[float, float, float] = (4.0, 1.8, 1.8), seed: int = 1
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """A brain-like T1 MR phantom in arbitrary units (0 .. about 1000).

    Skull and scalp around cortex (grey matter) over white matter, lateral ventricles (dark CSF) and an
    enhancing tumour with a dark necrotic core labelled as tumour. A smooth bias field and Rician-like
    noise make the intensities non-uniform, as in real MR.

    Returns
    -------
    image : (Z, Y, X) float32
    labels : (Z, Y, X) uint8, values in :data:`MR_LABELS`
    spacing : (z, y, x) mm
    """
    rng = np.random.default_rng(seed)
    zyx = _grid(shape, spacing)
    half = shape[0] * spacing[0] / 2
    head = _ellipsoid(zyx, (0, 0, 0), (1.05 * half, 98, 84))
    skull = head & ~_ellipsoid(zyx, (0, 0, 0), (0.95 * half, 90, 76))
    brain = _ellipsoid(zyx, (0, 0, 0), (0.9 * half, 85, 71))
    # gyri: a wavy boundary between cortex and white matter
    wave = 6 * np.sin(zyx[1] / 7.0) * np.cos(zyx[2] / 6.0)
    white = _ellipsoid(zyx, (0, 0, 0), (0.7 * half, 68 + wave, 55 + wave)) & brain
    ventricles = (
        _ellipsoid(zyx, (0.1 * half, -8, -10), (0.35 * half, 24, 6)) | _ellipsoid(zyx, (0.1 * half, -8, 10), (0.35 * half, 24, 6))
    )
    tumour = _ellipsoid(zyx, (-0.2 * half, 30, 30), (0.35 * half, 17, 15)) & brain
    labels = np.zeros(shape, np.uint8)
    labels[brain] = 2
    labels[white] = 1
    labels[ventricles & brain] = 3
    labels[tumour] = 4
    image = np.zeros(shape, np.float32)
    image[head] = 250.0
    image[skull] = 60.0
    image[labels == 2] = 520.0
    image[labels == 1] = 760.0
    image[labels == 3] = 140.0
    image[tumour] = 900.0
    image[tumour & _ellipsoid(zyx, (-0.2 * half, 30, 30), (0.2 * half, 9, 8))] = 200.0
    bias = 1.0 + 0.15 * _smooth_noise(rng, shape, 12.0) / 0.02
    bias = np.clip(bias, 0.75, 1.25)
    noisy = np.hypot(image * bias + 25.0 * rng.standard_normal(shape), 25.0 * rng.standard_normal(shape))
    return noisy.astype(np.float32), labels, tuple(float(s) for s in spacing)  # type: ignore[return-value]


def _erode(mask: np.ndarray, iterations: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_erosion(mask, iterations=iterations)
