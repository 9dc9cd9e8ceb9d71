"""Connect Qt signals and background workers to the widgets' actions, safely.

Qt hands its arguments to a slot (``clicked(bool)``, ``toggled(bool)``, ``currentTextChanged(str)``); a
slot wrapped by a decorator that takes ``*args`` receives them all, so ``accept(self, False)`` fails.
:func:`on` drops whatever the signal carries. :func:`start_worker` runs a function in a thread with one
error handler: a failure is one notification (:func:`~napari_scribbleseg._napari._notify.report`), never
a second copy from napari's own relay, and never a re-raise that aborts a plain script's Qt loop.
"""

from __future__ import annotations

from typing import Any, Callable

from napari_scribbleseg._napari._notify import report


def on(signal: Any, action: Callable[..., Any], *args: Any) -> None:
    """Call ``action(*args)`` whenever ``signal`` fires, whatever arguments the signal carries."""
    signal.connect(lambda *_ignored: action(*args))


def start_worker(
    fn: Callable[..., Any],
    *args: Any,
    returned: Callable[[Any], Any] | None = None,
    finished: Callable[[], Any] | None = None,
) -> Any:
    """Run ``fn(*args)`` in a thread; ``returned(value)`` and ``finished()`` run on the GUI thread.

    An exception in ``fn`` is reported once as an error notification naming the problem. Returns the
    started worker (``worker.quit()`` asks it to stop).
    """
    from superqt.utils import create_worker  # napari's adds a relay to its notifications: a second copy

    connect: dict[str, Any] = {"errored": report}
    if returned is not None:
        connect["returned"] = returned
    worker = create_worker(fn, *args, _start_thread=False, _connect=connect)
    if finished is not None:
        on(worker.finished, finished)
    worker.start()
    return worker
