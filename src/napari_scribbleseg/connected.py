"""Keep each class's predicted region connected to its strokes.

A stroke says "this object"; a patch of the same class elsewhere in the image, not touching any of
that class's strokes, is what the user never asked for (a similar texture, a second object of the
same colour). :func:`keep_connected` takes such patches from their class, so painting one object
never lights up another, and hands each to the competing class that borders it most (with one
class scribbled, to "no class", 0): every pixel keeps a class once two or more are scribbled. Classes that mean "every such thing" (all the cells of a type) want
the opposite: ``Session(connected=False)`` and the widget's "keep only parts touching their strokes" switch leave the
prediction as the model made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def keep_connected(pred: np.ndarray, scribbles: np.ndarray, classes: Iterable[int] | None = None) -> np.ndarray:
    """The label map ``pred`` with every class-k patch that holds no class-k stroke pixel given away.

    A patch taken from class k goes to the other scribbled class that borders it along most of its
    edge (a look-alike in the background becomes background); a patch no rival touches is grown into
    from the rivals around it, so each class stays connected to its strokes. With only one class
    scribbled there is no competitor: the patch becomes 0.

    Parameters
    ----------
    pred : (H, W) int array
        Predicted labels, 0 = no class; scribbled pixels are expected to hold their class already.
    scribbles : (H, W) int array
        The strokes, 0 = none, k >= 1 = class k.
    classes : iterable of int, optional
        The classes to treat (default: every class with a stroke). A class without strokes is left as
        it is: there is nothing to be connected to (e.g. a class given by extreme points only).

    Returns
    -------
    (H, W) array of ``pred``'s dtype, a new array. Patches are 8-connected.
    """
    import cv2

    pred = np.asarray(pred)
    scribbles = np.asarray(scribbles)
    if pred.shape != scribbles.shape or pred.ndim != 2:
        raise ValueError(f"pred {pred.shape} and scribbles {scribbles.shape} must be the same (H, W) shape")
    out = pred.copy()
    todo = np.unique(scribbles[scribbles > 0]) if classes is None else np.asarray(list(classes))
    stroked = [k for k in todo.tolist() if (scribbles == k).any()]
    taken: dict[int, np.ndarray] = {}  # class -> its patches that hold none of its strokes
    for k in stroked:
        seeds = scribbles == k
        region = out == k
        n, parts = cv2.connectedComponents(region.view(np.uint8), connectivity=8)
        if n == 1 or (n == 2 and (parts[seeds] == 1).any()):  # no patch, or one that holds a stroke
            continue
        held = np.zeros(n, bool)
        held[parts[seeds]] = True
        held[0] = True  # label 0 is everything that is not class k: left alone
        lost = ~held[parts]
        out[lost] = 0
        taken[k] = lost
    if taken and len(stroked) >= 2:
        _hand_over(out, taken, stroked)
    return out


def _hand_over(out: np.ndarray, taken: dict[int, np.ndarray], stroked: list[int]) -> None:
    """Give each patch in ``taken`` (class -> mask) to the best competing stroked class, in place.

    A patch goes whole to the rival along most of its edge; what no rival touches (a patch enclosed by
    other taken patches) is grown into from the rivals' regions, one pixel ring at a time, so every
    class stays connected to its strokes. Pixels no rival can reach (walled in by unscribbled classes)
    stay 0.
    """
    import cv2

    kernel = np.ones((3, 3), np.uint8)

    def touching(c: int) -> np.ndarray:
        return cv2.dilate((out == c).view(np.uint8), kernel).view(bool)

    near = {c: touching(c) for c in stroked}
    rest: dict[int, np.ndarray] = {}
    for k, lost in taken.items():
        n, parts = cv2.connectedComponents(lost.view(np.uint8), connectivity=8)
        rivals = [c for c in stroked if c != k]
        # contact[i, j]: pixels of patch j that touch class rivals[i]
        contact = np.stack([np.bincount(parts[near[c] & lost], minlength=n) for c in rivals])
        contact[:, 0] = 0
        winner = np.asarray(rivals, out.dtype)[contact.argmax(0)]
        fill = (contact.max(0) > 0)[parts] & lost
        out[fill] = winner[parts[fill]]
        if not fill.all() and (lost & ~fill).any():
            rest[k] = lost & ~fill
    while rest:
        grown = False
        for k in list(rest):
            # k itself too: a patch of k walled in by patches given to k is connected to k's strokes now
            for c in stroked:
                ring = touching(c) & rest[k]
                if ring.any():
                    out[ring] = c
                    rest[k] &= ~ring
                    grown = True
            if not rest[k].any():
                del rest[k]
        if not grown:
            break


class ConnectedPredictor:
    """Any predictor (the predictor protocol) with :func:`keep_connected` applied to its labels.

    Other attributes (``predict_proba``, ``prepare``, ...) are the wrapped predictor's, unchanged, as
    the Session's ``predict_proba`` is.

    The Session has the rule built in (``Session(connected=True)``); this wrapper gives it to the
    classical peers, so a comparison can show what the rule alone is worth::

        evaluate({"grabcut+connected": ConnectedPredictor(get_predictor("grabcut"))}, dataset)
    """

    def __init__(self, predictor: Any) -> None:
        from napari_scribbleseg.predictor import Predictor

        if not isinstance(predictor, Predictor):
            raise TypeError(f"{type(predictor).__name__} is not a predictor; wrap one with set_image and predict")
        self.predictor = predictor

    def set_image(self, image: np.ndarray, **options: Any) -> None:
        """``set_image`` of the wrapped predictor, with the keyword options it accepts (``kind``, ``key``)."""
        from napari_scribbleseg.predictor import accepts_keyword

        method = self.predictor.set_image
        method(image, **{k: v for k, v in options.items() if accepts_keyword(method, k)})

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        """The wrapped predictor's (H, W) labels with each class's unstroked patches set to 0."""
        from napari_scribbleseg.scribbles import as_label_map

        labels = np.asarray(self.predictor.predict(scribbles, prev))
        return keep_connected(labels, as_label_map(scribbles, labels.shape))

    def __getattr__(self, name: str) -> Any:
        # everything else (predict_proba, prepare, reset_image, ...) is the wrapped predictor's, as is
        if name == "predictor":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.predictor, name)
