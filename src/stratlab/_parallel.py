"""Where independent tasks run: a local process pool (the default) or a Dask cluster.

:func:`map_tasks` runs ``fn`` over items and returns the results in the items'
order, whichever backend runs them, so callers (``run_batch``, ``simulate``)
produce the same outputs either way.  :func:`open_client` turns a scheduler
text (``local:N`` for a LocalCluster of N worker processes, or the address of
a running scheduler such as ``tcp://10.0.0.5:8786``) into a
``dask.distributed.Client``.

dask.distributed is imported only when a client is used
(``pip install 'stratlab[dask]'``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from stratlab.errors import InputError, Problem

__all__ = ["client_for", "is_client", "map_tasks", "open_client", "run_chunks"]

T = TypeVar("T")
R = TypeVar("R")

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_INSTALL = "pip install 'stratlab[dask]'"


def is_client(value: object) -> bool:
    """True for a ``dask.distributed.Client`` (checked without importing dask)."""
    return type(value).__name__ == "Client" and hasattr(value, "submit") and hasattr(value, "map")


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError(
            Problem(
                "running on Dask needs dask.distributed, which is not installed.",
                fix=f"{_INSTALL} (or drop --scheduler to use the local process pool).",
            )
        ) from None
    return distributed


@contextmanager
def open_client(scheduler: str, *, quiet: bool = False) -> Iterator[Any]:
    """A Dask client for ``scheduler``, closed (with its LocalCluster) afterwards.

    Parameters
    ----------
    scheduler : str
        ``local:N`` starts a LocalCluster of N worker processes (one thread
        each) on this machine; ``local`` uses 2.  Anything else is the address
        of a running scheduler (``tcp://host:8786``; started with
        ``dask scheduler`` and ``dask worker ADDRESS`` on each machine, which
        must all have stratlab installed and see the same files).
    quiet : bool
        Don't print the dashboard link (to stderr).

    Raises
    ------
    InputError
        A malformed ``local:N``, an unreachable address, or dask not installed.
    """
    text = str(scheduler).strip()
    m = _LOCAL.match(text)
    distributed = _import_distributed()
    if m:
        n = int(m.group(1) or 2)
        if n < 1:
            raise InputError(
                Problem(
                    f"--scheduler {text!r} asks for no workers.", fix="e.g. --scheduler local:2."
                )
            )
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            host="127.0.0.1",
            # shutdown chatter ("worker still alive, killing"); a unit whose worker dies is
            # reported in its own row
            silence_logs=logging.CRITICAL,
        )
        try:
            with distributed.Client(cluster) as client:
                _announce(client, quiet)
                yield client
        finally:
            cluster.close()
        return
    if text.startswith("local") or not text:
        raise InputError(
            Problem(
                f"--scheduler {text!r} is neither local:N nor a scheduler address.",
                fix="write local:4 for 4 worker processes here, or tcp://HOST:8786.",
            )
        )
    address = text if "://" in text else f"tcp://{text}"
    try:
        client = distributed.Client(address, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise InputError(
            Problem(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                fix="start it with `dask scheduler` (and workers with `dask worker ADDRESS`), "
                "or use --scheduler local:N.",
            )
        ) from None
    with client:
        _announce(client, quiet)
        yield client


def _announce(client: Any, quiet: bool) -> None:
    if quiet:
        return
    info = client.scheduler_info()
    n = len(info.get("workers", {}))
    if "dashboard" in info.get("services", {}):
        where = f"; dashboard: {client.dashboard_link}"
    else:
        where = " (no dashboard: pip install bokeh)"
    print(f"dask: {n} workers at {client.scheduler.address}{where}", file=sys.stderr)


@contextmanager
def client_for(client: Any) -> Iterator[Any]:
    """``client`` as a Dask client: a Client is used as is, a text is opened (and closed)."""
    if client is None or is_client(client):
        yield client
        return
    if isinstance(client, str):
        with open_client(client) as opened:
            yield opened
        return
    raise InputError(
        Problem(
            f"client must be a dask.distributed.Client or a scheduler text, got {type(client).__name__}.",
            fix="pass client=Client(...) or client='local:2'.",
        )
    )


def map_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    client: Any = None,
    on_error: Callable[[T, BaseException], R] | None = None,
    progress: bool = False,
    desc: str = "tasks",
    initializer: Callable[[], None] | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, run in parallel, results in the items' order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the worker processes).
    items : sequence
    jobs : int
        Processes of the local pool (ignored with ``client``).
    client : dask.distributed.Client, optional
        Run each item as one Dask task on the client's cluster instead.
    on_error : callable, optional
        ``on_error(item, exc)`` gives the result for an item whose task raised
        (e.g. a worker that died); default: the exception propagates.
    progress : bool
        A tqdm bar (stderr) as tasks complete.
    desc : str
        The bar's label.
    initializer : callable, optional
        Run once in each process of the local pool (e.g. signal handlers).
    """
    from tqdm.auto import tqdm

    results: list[Any] = [None] * len(items)
    if not items:
        return []

    def settle(i: int, get: Callable[[], R]) -> None:
        try:
            results[i] = get()
        except Exception as exc:
            if on_error is None:
                raise
            results[i] = on_error(items[i], exc)

    with tqdm(total=len(items), disable=not progress, desc=desc, unit="task") as bar:
        if client is not None:
            distributed = _import_distributed()
            futures = client.map(fn, list(items), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            try:
                for future in distributed.as_completed(futures):
                    settle(index[future.key], future.result)
                    bar.update(1)
            finally:
                client.cancel([f for f in futures if not f.done()])
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            workers = min(jobs, len(items))
            with ProcessPoolExecutor(max_workers=workers, initializer=initializer) as pool:
                pending = {pool.submit(fn, item): i for i, item in enumerate(items)}
                for future in as_completed(pending):
                    settle(pending[future], future.result)
                    bar.update(1)
    return results


def run_chunks(
    fn: Callable[[Any, T], R],
    shared: Any,
    items: Sequence[T],
    put: Callable[[int, R], None],
    *,
    client: Any = None,
) -> None:
    """``put(i, fn(shared, items[i]))`` for every item, in this process or as Dask tasks.

    With ``client`` (a Client or a scheduler text), ``shared`` is sent to every
    worker once and ``put`` is called as tasks finish (in any order), so the
    caller's memory holds one result at a time beyond what it keeps.
    """
    if client is None:
        for i, item in enumerate(items):
            put(i, fn(shared, item))
        return
    distributed = _import_distributed()
    with client_for(client) as dask:
        shared_f = dask.scatter(shared, broadcast=True, hash=False)
        futures = [dask.submit(fn, shared_f, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in distributed.as_completed(futures):
                put(index[future.key], future.result())
                future.release()
        finally:
            dask.cancel([f for f in futures if not f.done()])


class _NoBar:
    """What :func:`progress_bar` gives when no bar is shown."""

    def update(self, n: int) -> None:
        pass


def progress_bar(show: bool, total: int, *, desc: str, unit: str) -> Any:
    """A tqdm bar (a context manager with ``update(n)``) when ``show``, else a silent stand-in.

    tqdm is imported only to show a bar: ``tqdm.auto`` imports ipywidgets in a
    kernel (about 0.15 s of every review).
    """
    if not show:
        from contextlib import nullcontext

        return nullcontext(_NoBar())
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)
