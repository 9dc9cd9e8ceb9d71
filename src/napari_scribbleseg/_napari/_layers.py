"""Small pure functions between napari layers and the core's arrays (micro-sam style adapters).

Axis order: a layer's data axes as napari keeps them; a volume is (Z, Y, X). A slice key is ``()`` for 2-D
data and ``(axis, index)`` for the slice of a volume in view.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels, Shapes

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.interactive import check_image
from napari_scribbleseg.scribbles import rasterize_path
from napari_scribbleseg.slicing import slice_key

#: Width in pixels of a Shapes-layer path turned into scribbles.
PATH_WIDTH = 3.0


def image_array(layer: Image) -> np.ndarray:
    """The image of ``layer`` as a numpy array the core can segment; raises :class:`InputError` otherwise."""
    if not isinstance(layer, Image):
        raise InputError("pick an Image layer to segment (open an image or a sample: File > Open Sample)")
    if layer.multiscale:
        raise InputError(f"layer {layer.name!r} is multiscale; open one resolution level as a plain image")
    data = np.asarray(layer.data)
    if layer.rgb and data.shape[-1] == 4:
        raise InputError(
            f"layer {layer.name!r} is RGBA; drop the alpha channel (layer.data[..., :3]) or convert to RGB"
        )
    return check_image(data, rgb=bool(layer.rgb))


def derived_name(role: str, image_name: str) -> str:
    """The name of a layer the widget makes for an image: its role first ("scribbles: CT head")."""
    return f"{role}: {image_name}"


def spatial_shape(layer: Image) -> tuple[int, ...]:
    """Shape of the image without its RGB axis."""
    shape = tuple(layer.data.shape)
    return shape[:-1] if layer.rgb else shape


def check_labels_layer(layer: Labels, shape: tuple[int, ...], role: str) -> None:
    """Raise :class:`InputError` unless ``layer`` is an integer Labels layer of ``shape``."""
    data = layer.data
    if tuple(data.shape) != tuple(shape):
        raise InputError(
            f"the {role} layer {layer.name!r} has shape {tuple(data.shape)} but the image is {tuple(shape)}; "
            "pick a Labels layer made for this image, or let the widget create one"
        )
    if not np.issubdtype(np.asarray(data[(0,) * data.ndim]).dtype, np.integer):
        raise InputError(
            f"the {role} layer {layer.name!r} holds {data.dtype} values; labels must be integers "
            "(convert it: layer.data = layer.data.astype(int))"
        )


def slice_in_view(layer: Image, world_point: np.ndarray, displayed: tuple[int, ...]) -> tuple:
    """The slice key of ``layer`` in view: ``()`` in 2-D, ``(axis, index)`` for a 3-D volume in 2-D display.

    ``world_point`` is ``viewer.dims.point``, ``displayed`` is ``viewer.dims.displayed``; layer scale and
    translate are honoured by mapping the world point into data coordinates.
    """
    shape = spatial_shape(layer)
    if len(shape) == 2:
        return ()
    ndim_world = len(world_point)
    offset = ndim_world - len(shape)
    sliced = [a - offset for a in range(ndim_world) if a not in displayed and a - offset >= 0]
    if len(sliced) != 1:
        raise InputError("switch the viewer to 2-D display (the square button) to scribble on a slice")
    axis = sliced[0]
    data_point = np.asarray(layer.world_to_data(np.asarray(world_point)[offset:]))
    index = int(np.clip(np.round(data_point[axis]), 0, shape[axis] - 1))
    return (axis, index)



def labels_slice(layer: Labels, key: tuple) -> np.ndarray:
    """A copy of slice ``key`` of a Labels layer, (H, W) int32."""
    return np.array(layer.data[slice_key(key)], np.int32)


def _on_slice(coords: np.ndarray, key: tuple) -> bool:
    """Whether all vertices ``coords`` (N, D) lie on slice ``key`` (always, for 2-D data)."""
    if not key:
        return True
    axis, index = key
    return coords.shape[1] >= 3 and bool(np.all(np.round(coords[:, axis]) == index))


def shape_vertices(layer: Shapes, image: Image | None = None) -> list[np.ndarray]:
    """The vertices (N, D) float of each shape of ``layer`` in the data coordinates of ``image``.

    Shapes are drawn in their own layer's data coordinates; going through world coordinates honours both
    layers' scale, translate and other transforms. ``image=None`` keeps the layer's own coordinates.
    """
    out = []
    for coords in layer.data:
        coords = np.asarray(coords, float)
        if image is not None and len(coords):
            coords = np.array([image.world_to_data(layer.data_to_world(p)) for p in coords], float)
        out.append(coords)
    return out


def shapes_on_slice(layer: Shapes, key: tuple, image: Image | None = None) -> list[int]:
    """Indices (ascending, i.e. oldest first) of the shapes of ``layer`` lying on slice ``key`` of ``image``."""
    if key and layer.ndim < 3:
        return []  # a 2-D Shapes layer over a volume lies on no slice in particular
    return [i for i, coords in enumerate(shape_vertices(layer, image)) if _on_slice(coords, key)]


def set_shape_class(layer: Shapes, value: int) -> None:
    """Make ``value`` the class (``label`` feature) of shapes drawn next on ``layer``.

    Adds the ``label`` feature (1 for the shapes already there, as :func:`shapes_slice` reads them) if
    the layer has none.
    """
    if "label" not in layer.features:
        features = layer.features.copy()
        features["label"] = np.ones(len(layer.data), int)
        layer.features = features
    layer.feature_defaults = {**layer.feature_defaults.iloc[0].to_dict(), "label": int(value)}


def shapes_slice(layer: Shapes, key: tuple, shape: tuple[int, int], image: Image | None = None) -> np.ndarray:
    """Rasterise the shapes of a Shapes layer lying on slice ``key`` into an (H, W) int32 scribble map.

    ``key`` and the map are in the data coordinates of ``image`` (the Shapes layer's own if None); the
    shapes are mapped there through world coordinates, so differing scale or translate are honoured.
    A shape's class is its ``label`` feature (``layer.features['label']``), else 1. Paths and lines become
    strokes :data:`PATH_WIDTH` wide, polygons, rectangles and ellipses are filled.
    """
    out = np.zeros(shape, np.int32)
    if key and layer.ndim < 3:
        return out
    classes = layer.features["label"].to_numpy() if "label" in layer.features else np.ones(len(layer.data), int)
    for coords, kind, label in zip(shape_vertices(layer, image), layer.shape_type, classes):
        if not _on_slice(coords, key):
            continue
        if key:
            coords = np.delete(coords, key[0], axis=1)
        coords = coords[:, -2:]
        if kind == "ellipse":
            coords = _ellipse_outline(coords)
        closed = kind in ("polygon", "rectangle", "ellipse")
        mask = rasterize_path(coords, shape, width=PATH_WIDTH, closed=closed, fill=closed)
        out[mask] = int(label)
    return out


def _ellipse_outline(corners: np.ndarray, n: int = 64) -> np.ndarray:
    centre = corners.mean(axis=0)
    radii = (corners.max(axis=0) - corners.min(axis=0)) / 2
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return centre + np.stack([radii[0] * np.cos(t), radii[1] * np.sin(t)], axis=1)


def write_slice(layer: Labels, key: tuple, values: np.ndarray) -> None:
    """Write (H, W) ``values`` into slice ``key`` of a Labels layer where they differ, as one undo step.

    Goes through ``data_setitem`` so napari refreshes only what changed and keeps its history coherent.
    """
    current = np.asarray(layer.data[slice_key(key)])
    changed = np.nonzero(current != values)
    if changed[0].size == 0:
        return
    if key:
        axis, index = key
        full = list(changed)
        full.insert(axis, np.full(changed[0].size, index))
        indices = tuple(full)
    else:
        indices = changed
    layer.data_setitem(indices, values[changed].astype(layer.data.dtype))


def labels_slice_after(layer: Labels, key: tuple, atoms: list | None) -> np.ndarray:
    """Slice ``key`` of a Labels layer as it is once the history ``atoms`` of a paint event are applied.

    ``data_setitem`` emits its paint event before it writes the data, so the (indices, old, new) atoms of
    the event are applied to the copy here; brush atoms (``_MaskedPaintAtom``) are already in the data.
    """
    painted = labels_slice(layer, key)
    for atom in atoms or []:
        if not isinstance(atom, tuple) or len(atom) != 3:
            continue
        indices, _old, new = atom
        indices = [np.asarray(i) for i in indices]
        new = np.broadcast_to(np.asarray(new), indices[0].shape)
        if key:
            axis, index = key
            on_slice = indices[axis] == index
            indices = [i[on_slice] for j, i in enumerate(indices) if j != axis]
            new = new[on_slice]
        painted[tuple(indices)] = new
    return painted


class ShapeHistory:
    """Undo / redo of strokes drawn as shapes (paths) on a Shapes scribble layer: undo takes the last shape
    of the slice off the layer and keeps it, with its class, for redo. Qt-free (the layer is napari's)."""

    def __init__(self) -> None:
        self._taken: list[tuple[np.ndarray, str, int]] = []

    def clear(self) -> None:
        self._taken.clear()

    def undo(self, layer: Shapes, on_slice: list[int]) -> bool:
        """Remove the last of the shapes ``on_slice`` (indices into the layer); False when there is none."""
        if not on_slice:
            return False
        last = on_slice[-1]
        label = int(layer.features["label"].iloc[last]) if "label" in layer.features else 1
        self._taken.append((layer.data[last], layer.shape_type[last], label))
        layer.selected_data = {last}
        layer.remove_selected()
        return True

    def redo(self, layer: Shapes) -> bool:
        """Put the shape taken last back with its class; the class picked for new shapes stays picked."""
        if not self._taken:
            return False
        data, kind, label = self._taken.pop()
        if "label" in layer.features:
            brush = int(layer.feature_defaults["label"].iloc[0])
            set_shape_class(layer, label)
            layer.add(data, shape_type=kind)
            set_shape_class(layer, brush)
        else:
            layer.add(data, shape_type=kind)
        return True
