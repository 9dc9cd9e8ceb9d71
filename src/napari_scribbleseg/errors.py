"""Exceptions raised where bad input enters. Each message names the problem and the fix."""

from __future__ import annotations


class ScribbleSegError(ValueError):
    """Base class: a bad input, named with the fix."""


class InputError(ScribbleSegError):
    """An image, mask, scribble map or file that cannot be used as given."""


class NotReadyError(RuntimeError):
    """A call made before the state it needs exists (e.g. ``predict`` before ``set_image``)."""
