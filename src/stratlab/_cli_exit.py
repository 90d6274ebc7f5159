"""How a command ends: its exit status and one line on stderr, whatever happened.

:func:`run_command` runs a command's body with the limits of its ``--limit``
flags, warnings shown as one line each, and SIGINT/SIGTERM handled
(:mod:`stratlab._signals`); it maps every outcome to the documented status:
0 done, 1 a review notebook failed, 2 bad input (a located message, no
traceback), 130/143 stopped by SIGINT/SIGTERM.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

from ._signals import Terminated, handle_signals
from .errors import ReportError, StratlabError, clean_text
from .limits import Limits, using

__all__ = ["run_command", "say"]


def say(line: str) -> None:
    """One line on stderr, even when stderr cannot encode it."""
    try:
        print(line, file=sys.stderr)
    except UnicodeEncodeError:
        print(line.encode("ascii", "backslashreplace").decode("ascii"), file=sys.stderr)


def run_command(name: str, body: Callable[[], int], limits: Callable[[], Limits]) -> int:
    """Run ``body`` (which returns the exit status) as the command ``name``; never raises."""

    def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
        say(clean_text(f"stratlab {name}: warning: {message}"))

    try:
        with handle_signals(), warnings.catch_warnings(), using(limits()):
            warnings.showwarning = show
            return body()
    except ReportError as exc:
        say(f"stratlab {name}: {exc}")
        return 1
    except StratlabError as exc:
        say(f"stratlab {name}: {exc}")
        return 2
    except BrokenPipeError:  # the reader went away (e.g. `stratlab score … | head`): not an error
        return 0
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        fix = "Fix: check the path and its permissions."
        say(clean_text(f"stratlab {name}:{where}: {exc.strerror or exc}. {fix}"))
        return 2
    except Terminated as exc:
        say(f"stratlab {name}: {exc.summary}")
        return exc.status
    except KeyboardInterrupt:
        say("stratlab: interrupted")
        return 130
    except RecursionError:
        say(f"stratlab {name}: the input is nested too deeply. Fix: check its brackets.")
        return 2
