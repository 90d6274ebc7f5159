"""Clean exit on SIGINT / SIGTERM: stop every child process, unwind, exit 130 / 143.

While a command runs, :func:`handle_signals` turns SIGINT and SIGTERM into a
:class:`Terminated` exception, after first stopping every descendant process
(review kernels, batch workers and their kernels; they are found through the
process tree, so kernels started in a session of their own are found too).
Raising it unwinds the ``with`` blocks on the way out: temporary folders (and
the kernel connection files inside them) are removed, a half-written output
is deleted (outputs are written atomically), and finished outputs stay intact.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

__all__ = ["Terminated", "handle_signals", "stop_children"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(BaseException):
    """SIGINT or SIGTERM arrived; :attr:`status` is the conventional exit status (128 + signal)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.status = 128 + signum
        super().__init__(signal.Signals(signum).name)

    @property
    def summary(self) -> str:
        """The one line the command line prints."""
        name = signal.Signals(self.signum).name
        return f"stopped by {name}; finished outputs are kept, nothing half-written remains."


def stop_children(timeout: float = 5.0) -> None:
    """Terminate every descendant of this process; kill those still running after ``timeout`` s."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return
    try:
        children = psutil.Process(os.getpid()).children(recursive=True)
    except psutil.Error:  # pragma: no cover
        return
    for child in children:
        with suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=timeout)


def _raise(signum: int, frame: FrameType | None) -> None:
    # a second signal while cleaning up must not interrupt the clean-up
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    stop_children()
    raise Terminated(signum)


@contextmanager
def handle_signals() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM stop the children and raise :class:`Terminated`.

    Only in the main thread (elsewhere signals cannot be handled); the previous
    handlers are restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
