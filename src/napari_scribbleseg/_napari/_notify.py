"""Turn exceptions into napari notifications, so bad input never shows a traceback to the user."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, TypeVar

from napari.utils.notifications import show_error, show_info, show_warning

from napari_scribbleseg.errors import NotReadyError, ScribbleSegError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("napari_scribbleseg")


#: A message shown again within this many seconds is not shown twice (one stroke may fail as a live
#: preview and again when it ends; the user needs to read it once).
REPEAT_S = 3.0
_last: dict[str, float] = {}


def report(exc: BaseException) -> None:
    """Show ``exc`` as a napari error notification: our own errors as they are, others with their type."""
    if isinstance(exc, (ScribbleSegError, NotReadyError)):
        message = str(exc)
    else:
        # an unexpected failure: the traceback goes to the debug log (for a bug report), never to the
        # console or a second notification; the user sees one line
        log.debug("scribbleseg failed", exc_info=exc)
        message = f"{type(exc).__name__}: {exc}"
    now = time.monotonic()
    if now - _last.get(message, -REPEAT_S) < REPEAT_S:
        return
    _last.clear()
    _last[message] = now
    show_error(message)


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
