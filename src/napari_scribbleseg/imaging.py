"""Intensities -> model input: RGB photos, grey images, CT windows (HU) and MR percentile normalisation.

Every predictor sees an (H, W, 3) float32 image in [0, 1]; this module is the one place that turns
the many intensity conventions (uint8 photos, uint16 microscopy, CT in Hounsfield units, z-scored MR)
into it, and the one place that rejects images that cannot be segmented as given (volumes, RGBA,
NaN, ...) with a message naming the fix.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from napari_scribbleseg.errors import InputError

#: Named CT windows as (level, width) in Hounsfield units.
CT_WINDOWS: dict[str, tuple[float, float]] = {
    "abdomen": (40.0, 400.0),
    "liver": (60.0, 160.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "soft_tissue": (50.0, 350.0),
}
DEFAULT_CT_WINDOW = "abdomen"

#: Intensity conventions understood by :func:`to_rgb_float`.
KINDS = ("auto", "rgb", "gray", "ct", "mr")

# CT air is about -1000 HU; nothing in an MR, photo or microscopy image is that far below zero.
_CT_MIN_BELOW = -500.0


#: Pixels per image (or slice) the predictors take: at this size one ``set_image`` + ``predict`` stays within
#: 1.5 GB above the input (``benchmarks/memory.py``); larger images are refused with the way out.
MAX_IMAGE_PIXELS = 4096 * 4096


def check_size(shape: tuple[int, int], name: str = "image") -> None:
    """Raise :class:`InputError` when an (H, W) plane has more than :data:`MAX_IMAGE_PIXELS` pixels."""
    h, w = int(shape[0]), int(shape[1])
    if h * w > MAX_IMAGE_PIXELS:
        step = int(np.ceil(np.sqrt(h * w / MAX_IMAGE_PIXELS)))
        how = f"{name}[::{step}, ::{step}]" if name.isidentifier() else f"one pixel in {step} along each axis"
        raise InputError(
            f"{name} is {h}x{w} = {h * w} pixels, more than the {MAX_IMAGE_PIXELS} ({int(np.sqrt(MAX_IMAGE_PIXELS))}^2) "
            f"that one segmentation handles in bounded memory; crop the region of interest or downsample, e.g. {how}"
        )


def check_image(image: np.ndarray, name: str = "image", volume: bool = False) -> np.ndarray:
    """Return ``image`` as an array if it is a segmentable image, else raise :class:`InputError`.

    The one check of an image, for predictors, readers and the controller (which passes ``volume``).

    Parameters
    ----------
    image : array-like
        (H, W) grey (any real dtype) or (H, W, 3) RGB; with ``volume``, a 3-D array is a (Z, Y, X) volume
        of grey slices instead (napari's Image layer says which: its ``rgb`` flag).
    name : str
        What to call the array in error messages (``"image"``, ``"slice 12"``, a file name, ...).
    volume : bool
        Accept (Z, Y, X) volumes (every slice, along any axis, within :data:`MAX_IMAGE_PIXELS`).

    Returns
    -------
    np.ndarray
        The same data as an ndarray (no copy when ``image`` already is one).

    Raises
    ------
    InputError
        For 0-size, 1-D, 4-D and higher arrays, an axis of one pixel, 3-D volumes (unless ``volume``), RGBA
        and 2-channel images, non-numeric or complex dtypes and NaN/inf values, and a slice over
        :data:`MAX_IMAGE_PIXELS`; the message says how to fix each.
    """
    try:
        array = np.asarray(image)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise InputError(f"{name} cannot be read as an array ({error}); pass a numpy array (H, W) or (H, W, 3)") from error
    if np.iscomplexobj(array):
        raise InputError(f"{name} has complex dtype {array.dtype}; pass the magnitude, e.g. np.abs({name})")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(
            f"{name} has non-numeric dtype {array.dtype}; pass a numeric array, e.g. {name}.astype(np.float32)"
        )
    if array.size == 0:
        raise InputError(f"{name} is empty (shape {array.shape}); pass an image with at least one pixel")
    shape = array.shape
    if array.ndim < 2:
        raise InputError(f"{name} is {array.ndim}-D with shape {shape}; pass a 2-D (H, W) or (H, W, 3) image")
    if array.ndim >= 4:
        raise InputError(
            f"{name} is {array.ndim}-D with shape {shape} (e.g. T, Z, Y, X or Z, Y, X, C); "
            f"pick a time point / channel first, e.g. {name}[t] or {name}[..., c], then one slice"
        )
    spatial = shape if volume and array.ndim == 3 else shape[:2]
    if array.ndim in (2, 3) and min(spatial) < 2:
        raise InputError(f"{name} has shape {shape}; each spatial axis needs at least 2 pixels")
    if array.ndim == 3 and shape[-1] != 3 and not volume:
        channels = shape[-1]
        if channels == 4:
            raise InputError(f"{name} is RGBA with shape {shape}; drop alpha: {name}[..., :3]")
        if channels == 2:
            raise InputError(
                f"{name} has 2 channels (shape {shape}); pick one channel, e.g. {name}[..., 0], "
                "or build an RGB image from them"
            )
        if channels == 1:
            raise InputError(f"{name} has a single trailing channel (shape {shape}); squeeze it: {name}[..., 0]")
        if shape[0] in (3, 4) and shape[1] > 4 and shape[2] > 4:
            raise InputError(
                f"{name} looks channels-first with shape {shape}; move the channels last: "
                f"np.moveaxis({name}, 0, -1) (or, if it is a {shape[0]}-slice volume, pass one slice {name}[z])"
            )
        raise InputError(
            f"{name} is a volume with shape {shape} (Z, Y, X); pass one slice, e.g. vol[z] "
            "(or segment it with napari_scribbleseg.volume)"
        )
    if np.issubdtype(array.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise InputError(
                f"{name} contains {bad} NaN/inf values; replace NaN, e.g. np.nan_to_num(img, nan=-1024) "
                "for CT (air in HU), nan=0 otherwise"
            )
    check_size(sorted(spatial)[-2:], f"a slice of the {name}" if len(spatial) == 3 else name)
    return array


def working_shape(shape: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """(h, w) of ``shape`` scaled so its longer side is at most ``max_side`` (None: unchanged): the size a
    classical peer computes at, and the size training's data pack stores images at."""
    h, w = shape
    if max_side is None or max(h, w) <= max_side:
        return h, w
    scale = max_side / max(h, w)
    return max(1, int(round(h * scale))), max(1, int(round(w * scale)))


def ct_window(hu: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map Hounsfield units through a CT window to float32 in [0, 1].

    ``level - width / 2`` maps to 0, ``level + width / 2`` to 1; values outside are clipped.
    """
    if not width > 0:
        raise InputError(f"CT window width is {width}; use a positive width in HU, e.g. (40, 400) for abdomen")
    low = level - width / 2.0
    out = (np.asarray(hu, dtype=np.float32) - np.float32(low)) / np.float32(width)
    return np.clip(out, 0.0, 1.0, out=out)


def resolve_window(window: "str | tuple[float, float] | None") -> tuple[float, float]:
    """Return (level, width) in HU for a window name in :data:`CT_WINDOWS`, a pair, or ``None`` (abdomen)."""
    if window is None:
        window = DEFAULT_CT_WINDOW
    if isinstance(window, str):
        key = window.lower().replace("-", "_").replace(" ", "_")
        if key not in CT_WINDOWS:
            raise InputError(f"unknown CT window {window!r}; use one of {sorted(CT_WINDOWS)} or (level, width) in HU")
        return CT_WINDOWS[key]
    try:
        level, width = (float(v) for v in window)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"CT window {window!r} is not (level, width); pass two numbers in HU, e.g. (40, 400), "
            f"or a name from {sorted(CT_WINDOWS)}"
        ) from error
    return level, width


def mr_normalize(
    x: np.ndarray, percentiles: tuple[float, float] = (0.5, 99.5), mask: np.ndarray | None = None
) -> np.ndarray:
    """Percentile-normalise MR (or any unitless) intensities to float32 in [0, 1].

    Parameters
    ----------
    x : array
        Intensities of any shape.
    percentiles : (low, high)
        Percentiles mapped to 0 and 1; values beyond them are clipped (bright vessels and artefacts
        would otherwise squash the tissue contrast).
    mask : bool array, optional
        Same shape as ``x``: only these pixels set the percentiles (e.g. the brain mask, so the
        zero background of a skull-stripped scan does not count).

    Returns
    -------
    float32 array of ``x``'s shape; all zeros for a constant image.

    A plateau at the maximum holding more than twice the top percentile's share of pixels (a saturated
    detector) would put the high percentile on it and squash every real intensity towards 0: then the
    percentiles are taken over the other pixels, with a warning that says so.
    """
    data = np.asarray(x, dtype=np.float32)
    low_p, high_p = percentiles
    if not 0 <= low_p < high_p <= 100:
        raise InputError(f"percentiles {percentiles} are not 0 <= low < high <= 100; use e.g. (0.5, 99.5)")
    values = data
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != data.shape:
            raise InputError(f"mask has shape {mask.shape} but the image is {data.shape}; pass a mask of the image's shape")
        if mask.any():
            values = data[mask]
    low, high = np.percentile(values, [low_p, high_p])
    top = float(values.max())
    if high == top and high > low:
        saturated = int(np.count_nonzero(values == top))
        # a plateau at the maximum wider than the top percentile is saturation (a clipped detector, a
        # marker burnt in): the percentile then lands on it and squashes every real intensity towards 0
        if saturated > 2 * (100.0 - high_p) / 100.0 * values.size and saturated < values.size:
            low, high = np.percentile(values[values < top], [low_p, high_p])
            warnings.warn(
                f"{saturated / values.size:.1%} of the image is saturated at {top:g}; its intensities were "
                f"scaled over the other pixels ({low:g}..{high:g} -> 0..1). Pass intensity=(low, high) to "
                "set_image to choose the range yourself",
                UserWarning,
                stacklevel=3,
            )
    if not high > low:
        return np.zeros(data.shape, np.float32)
    out = (data - np.float32(low)) / np.float32(high - low)
    return np.clip(out, 0.0, 1.0, out=out)


def intensity_range(x: np.ndarray, intensity: tuple[float, float]) -> np.ndarray:
    """Map ``intensity = (low, high)`` (the image's own units, like napari's contrast limits) linearly to
    [0, 1] as float32, clipping what lies outside."""
    try:
        low, high = (float(v) for v in intensity)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"intensity {intensity!r} is not (low, high); pass two numbers in the image's units, e.g. the "
            "layer's contrast limits (100, 400)"
        ) from error
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise InputError(f"intensity {intensity!r} needs finite low < high, e.g. (100, 400)")
    out = (np.asarray(x, dtype=np.float32) - np.float32(low)) / np.float32(high - low)
    return np.clip(out, 0.0, 1.0, out=out)


def guess_kind(image: np.ndarray) -> str:
    """Guess the intensity convention of a checked image: ``"rgb"``, ``"gray"``, ``"ct"`` or ``"mr"``.

    (H, W, 3) -> rgb; bool, uint8 or floats within [0, 1] -> gray; any values below -500 -> ct (air is
    about -1000 HU); other integer or float images (uint16 MR, z-scored MR, microscopy, floats in [0, 255]) -> mr,
    i.e. percentile normalisation.
    """
    array = np.asarray(image)
    if array.ndim == 3:
        return "rgb"
    if array.dtype == bool or array.dtype == np.uint8:
        return "gray"
    low, high = float(array.min()), float(array.max())
    if low < _CT_MIN_BELOW:
        return "ct"
    if np.issubdtype(array.dtype, np.floating) and low >= 0.0 and high <= 1.0:
        return "gray"
    return "mr"


def _unit_range(array: np.ndarray) -> np.ndarray:
    """Scale a photo or grey image to float32 [0, 1] by its dtype's convention."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.unsignedinteger) and array.dtype.itemsize <= 2:
        return array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    data = array.astype(np.float32)
    low, high = float(data.min()), float(data.max())
    if low >= 0.0 and high <= 1.0 and np.issubdtype(array.dtype, np.floating):
        return data
    if low >= 0.0 and high <= 255.0:
        return data / np.float32(255.0)
    if high <= low:
        return np.zeros_like(data)
    return (data - np.float32(low)) / np.float32(high - low)


def to_rgb_float(
    image: np.ndarray,
    kind: str = "auto",
    window: "str | tuple[float, float] | None" = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
    intensity: "tuple[float, float] | None" = None,
) -> np.ndarray:
    """Convert an image to the model's input: (H, W, 3) float32 in [0, 1].

    The automatic rule (``kind="auto"``, :func:`guess_kind`), in order: (H, W, 3) is RGB; bool and
    uint8 are grey, divided by 255; any value below -500 means CT in HU (abdomen window); floats within
    [0, 1] are grey, kept as they are; everything else (uint16/uint32 microscopy, MR, floats in any
    other range, including [0, 255]) is percentile-normalised as ``"mr"``, ignoring a saturated plateau
    at the maximum (with a warning). ``intensity=(low, high)`` overrides all of it.

    Parameters
    ----------
    image : array
        (H, W) or (H, W, 3), any real dtype (checked by :func:`check_image`).
    kind : {"auto", "rgb", "gray", "ct", "mr"}
        ``"rgb"``/``"gray"``: uint8 and uint16 scaled by the dtype's maximum, floats kept when in
        [0, 1], divided by 255 when in [0, 255], else min-max scaled. ``"ct"``: Hounsfield units
        through ``window``. ``"mr"``: percentile normalisation (:func:`mr_normalize`). ``"auto"``:
        :func:`guess_kind`.
    window : str or (level, width), optional
        CT window: a name in :data:`CT_WINDOWS` or (level, width) in HU; default abdomen (40, 400).
    percentiles : (low, high)
        For ``"mr"``.
    intensity : (low, high), optional
        An explicit range in the image's own units (e.g. a napari layer's contrast limits): ``low`` maps
        to 0, ``high`` to 1, values outside are clipped; ``kind`` and ``window`` are then not used.

    Returns
    -------
    (H, W, 3) float32 in [0, 1]; grey inputs are repeated over the three channels.
    """
    array = check_image(image)
    if kind not in KINDS:
        raise InputError(f"unknown image kind {kind!r}; use one of {list(KINDS)}")
    if kind == "auto" and intensity is None:
        kind = guess_kind(array)
    if kind in ("ct", "mr") and array.ndim == 3 and intensity is None:
        raise InputError(
            f"a {kind.upper()} image must be one channel (H, W) of raw intensities but this one is RGB "
            f"{array.shape}; pass the raw slice, or kind='rgb' for an already windowed picture"
        )
    if intensity is not None:
        out = intensity_range(array, intensity)
    elif kind == "ct":
        level, width = resolve_window(window)
        out = ct_window(array, level, width)
    elif kind == "mr":
        out = mr_normalize(array, percentiles)
    else:
        out = _unit_range(array)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    return np.ascontiguousarray(out, dtype=np.float32)


def image_key(image: np.ndarray) -> str:
    """A content hash of an image, for feature caches: blake2b over its shape, dtype and every byte.

    Two images that differ anywhere get different keys (a sampled hash let images differing in 180,000
    pixels share features); hashing costs about 1 ms per MB, little beside the encoder. Equal arrays give
    equal keys in every process and on every run.
    """
    array = np.ascontiguousarray(image)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((array.shape, array.dtype.str)).encode())
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()
