"""Turn exceptions into napari notifications, so bad input never shows a traceback to the user."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, TypeVar

from napari.utils.notifications import show_error, show_info, show_warning

from napari_scribbleseg.errors import NotReadyError, ScribbleSegError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("napari_scribbleseg")


def report(exc: BaseException) -> None:
    """Show ``exc`` as a napari error notification: our own errors as they are, others with their type."""
    if isinstance(exc, (ScribbleSegError, NotReadyError)):
        show_error(str(exc))
    else:
        # an unexpected failure: the traceback goes to the debug log (for a bug report), never to the
        # console or a second notification; the user sees one line
        log.debug("scribbleseg failed", exc_info=exc)
        show_error(f"{type(exc).__name__}: {exc}")


def notify_errors(fn: F) -> F:
    """Decorate a GUI callback so that any exception becomes a notification and the call returns None."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the GUI must survive any failure of a callback
            report(exc)
            return None

    return wrapper  # type: ignore[return-value]


__all__ = ["report", "notify_errors", "show_error", "show_info", "show_warning"]
