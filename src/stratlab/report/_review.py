"""Run a review template with papermill and export it to one HTML file."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratlab._outputs import check_writable, refuse_inputs
from stratlab.errors import InputError, Problem, ReportError
from stratlab.io import atomic_write
from stratlab.plots.plotlyjs import PLOTLYJS_ENV
from stratlab.report._export import normalise_notebook, notebook_to_html
from stratlab.report._scratch import remove_stale_scratch, scratch_folder
from stratlab.report._templates import (
    Template,
    check_run_parameters,
    coerce_parameters,
    load_template,
    with_kernelspec,
)

if TYPE_CHECKING:
    import pandas as pd

    from stratlab.io import DatabaseSource
    from stratlab.model import Model

__all__ = ["PLOTLY_RENDERER", "run_review", "setup_notebook"]

#: The plotly renderer used inside review notebooks: the plotly mimetype for
#: Jupyter plus HTML that nbconvert keeps, with plotly.js embedded once.
PLOTLY_RENDERER = "plotly_mimetype+notebook"

KERNEL_NAME = "python3"

# Parameters that run_review fills from its own arguments.
_RESERVED = ("model", "history")
# filled from run_review's history too (a database table or query), when declared
_SOURCE_PARAMS = ("history_table", "history_query")


def setup_notebook() -> None:
    """Prepare a kernel for a review: plotly figures render in the exported HTML.

    Call it in the first cell of a template.  It sets plotly's default
    renderer to ``plotly_mimetype+notebook`` (the ``notebook`` part writes
    text/html that nbconvert keeps and embeds plotly.js, once, with the first
    figure shown).  Calling it again does nothing, so plotly.js is never
    embedded twice.  plotly's renderers are imported without nbformat (which
    a review never uses and which costs seconds to import), and the libraries
    every review uses are imported up front, with the garbage collector
    paused, and frozen out of its later passes (see
    :mod:`stratlab.report._kernel`).  Unless the notebook chose another,
    plotly's default template becomes ``plotly_white`` (cut to 2-D charts),
    the template of every stratlab chart: figures a template adds look the
    same, and plotly's own default is never built.
    """
    from stratlab.plots import use_white_template
    from stratlab.plots.plotlyjs import PLOTLYJS_ENV, PLOTLYJS_PLACEHOLDER
    from stratlab.report._kernel import frozen_heap, import_review_libraries

    with frozen_heap():
        import_review_libraries()
        import plotly.io as pio

        if os.environ.get(PLOTLYJS_ENV) == "placeholder":
            # a kernel of run_review: the page gets plotly.js from run_review (normalise_notebook)
            import plotly.io._base_renderers as base

            base.get_plotlyjs = lambda: PLOTLYJS_PLACEHOLDER

        if pio.renderers.default != PLOTLY_RENDERER:
            pio.renderers.default = PLOTLY_RENDERER
        use_white_template()


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


def _stage_model(
    model: str | os.PathLike[str] | Mapping[str, Any] | Model, folder: Path
) -> tuple[str, Model]:
    """Validate the model here (located errors before a kernel starts); return a path for the notebook."""
    from stratlab.io import load_model, save_model

    if _is_path(model):
        path = Path(model).expanduser().resolve()  # type: ignore[arg-type,unused-ignore]
        return str(path), load_model(path)
    loaded = load_model(model)
    target = folder / "model.yaml"
    save_model(loaded, target)
    return str(target), loaded


def _stage_history(
    history: str | os.PathLike[str] | pd.DataFrame | DatabaseSource | None,
    model: Model,
    folder: Path,
    *,
    tpl: Template,
    env: dict[str, str],
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The notebook's history parameters; the history is validated here first.

    A database source is passed as ``history`` (its URL), ``history_table`` and
    ``history_query`` when the template declares them: a password written in
    the URL is replaced by ``${VAR}`` and handed to the kernel in ``env``, so
    the notebook (and a kept ``.ipynb``) never contains it.
    """
    if history is None:
        return {"history": None}, None
    from stratlab.io import DatabaseSource, is_source, is_url, load_history

    if is_url(history) or (is_source(history) and not isinstance(history, (str, os.PathLike))):
        source = history if isinstance(history, DatabaseSource) else DatabaseSource(history)
        frame = load_history(source, model)
        declared = {"history_table", "history_query"} <= tpl.parameters.keys()
        if declared and isinstance(source.url, str):
            return {
                "history": _url_for_kernel(source.url, env),
                "history_table": source.table,
                "history_query": source.query,
            }, frame
        target = folder / "history.csv"
        frame.to_csv(target)
        return {"history": str(target)}, frame
    path, frame = _stage_history_file(history, model, folder)
    return {"history": path}, frame


def _url_for_kernel(url: str, env: dict[str, str]) -> str:
    """``url`` with a literal password replaced by ``${STRATLAB_DB_PASSWORD_…}`` (value put in ``env``)."""
    import secrets

    from stratlab.io import mask_url

    masked = mask_url(url)
    if masked == url.strip() or "${" in url:
        return url
    text = url.strip()
    scheme_end = text.index("://") + 3
    at = text.rfind("@")
    user, _, password = text[scheme_end:at].partition(":")
    name = f"STRATLAB_DB_PASSWORD_{secrets.token_hex(4).upper()}"
    env[name] = password
    return f"{text[:scheme_end]}{user}:${{{name}}}@{text[at + 1 :]}"


def _stage_history_file(
    history: str | os.PathLike[str] | pd.DataFrame, model: Model, folder: Path
) -> tuple[str, pd.DataFrame]:
    from stratlab.io import load_history

    if _is_path(history):
        path = Path(history).expanduser().resolve()
        return str(path), load_history(path, model)
    frame = load_history(history, model)
    target = folder / "history.csv"
    frame.to_csv(target)
    return str(target), frame


def _stage_comments(
    comments: str | os.PathLike[str] | pd.DataFrame, model: Model, folder: Path
) -> str:
    """Check the comments here (located errors before a kernel starts); return a path."""
    from stratlab.comments import load_comments

    if _is_path(comments):
        path = Path(comments).expanduser().resolve()
        load_comments(path, model)
        return str(path)
    frame = load_comments(comments, model)
    target = folder / "comments.csv"
    frame.assign(period=frame["period"].astype(str)).to_csv(target, index=False)
    return str(target)


def _page_title(params: Mapping[str, Any], template: Template, model: Model) -> str:
    for value in (params.get("title"), template.parameters.get("title")):
        if isinstance(value, str) and value.strip():
            return value
    return f"{model.name} — {template.name.replace('_', ' ')}"


def run_review(
    model: str | os.PathLike[str] | Mapping[str, Any] | Model,
    history: str | os.PathLike[str] | pd.DataFrame | DatabaseSource | None,
    output: str | os.PathLike[str],
    *,
    period: str | None = None,
    template: str | os.PathLike[str] = "quarterly_review",
    parameters: Mapping[str, Any] | None = None,
    keep_notebook: bool = False,
    show_code: bool = False,
    progress: bool = True,
    full_plotly: bool = False,
    comments: str | os.PathLike[str] | pd.DataFrame | None = None,
) -> Path:
    """Run a review template with papermill and write it as one HTML file.

    The page is self-contained (plotly.js embedded once — the cartesian
    partial bundle unless ``full_plotly`` — nothing loaded from the network), hides code unless ``show_code``, is the same bytes for the
    same inputs and seed, and is written atomically: on any failure an
    existing ``output`` is left untouched and nothing half-written remains.

    Parameters
    ----------
    model : path, dict or Model
        The strategy model.  Objects are saved into the run's scratch folder
        and the notebook receives a path.
    history : path, URL, DatabaseSource, DataFrame or None
        The KPI history (long or wide); a DataFrame is saved as CSV for the
        notebook.  A database (:class:`stratlab.io.DatabaseSource`, or a URL
        for its only table) is read by the notebook itself through the
        template parameters ``history``, ``history_table`` and
        ``history_query``; a password in the URL reaches the kernel only as
        an environment variable, never in the notebook or the page.
    output : path
        The HTML file to write (its folder is created if needed).
    period : str, optional
        The review period (e.g. ``'2025Q3'``); default: the template's
        default (the latest period).
    template : str or path
        A shipped template name (``quarterly_review``, ``link_check``,
        ``okr_checkin``; see :func:`stratlab.report.list_templates`) or the
        path of a notebook with a cell tagged ``parameters``.
    parameters : mapping, optional
        Other template parameters (``samples``, ``seed``, ``horizon``,
        ``title``...).  Each must be declared in the template's
        ``parameters`` cell.
    keep_notebook : bool
        Also keep the executed notebook as ``<output stem>.ipynb``.
    show_code : bool
        Show the code cells in the page.
    progress : bool
        Show a progress bar while the cells run.
    comments : path or DataFrame, optional
        Commentary and actions (``id, period, comment[, action, owner, due]``;
        CSV, Excel or YAML, see :func:`stratlab.comments.load_comments`),
        checked against the model before the notebook runs and passed as the
        template's ``comments`` parameter (which may also be given in
        ``parameters``).
    full_plotly : bool
        Embed plotly.py's full plotly.js (~4.8 MB) instead of the cartesian
        partial bundle (~1.5 MB, every trace type the shipped templates draw;
        a page drawing another trace type gets the full bundle anyway).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    InputError
        Unknown template or parameter (with a close match), ``model`` or
        ``history`` given in ``parameters``.
    ModelError, HistoryError
        The model or history is invalid (checked before the notebook runs).
    ReportError
        A cell failed: ``cell_index``, ``ename`` and ``evalue`` say which and
        why; the partly executed notebook is kept as
        ``<output stem>.failed.ipynb`` (``notebook_path``), and ``output`` is
        not written.
    """
    import nbformat

    output = Path(output).expanduser()
    tpl = load_template(template)
    params = coerce_parameters(tpl, parameters or {})
    reserved = [key for key in (*_RESERVED, *_SOURCE_PARAMS) if key in params]
    if reserved:
        raise InputError(
            Problem(
                f"{', '.join(map(repr, reserved))} cannot be given as a template parameter",
                fix="pass the model and the history as run_review's own arguments "
                "(MODEL HISTORY on the command line)",
            )
        )
    missing = [key for key in _RESERVED if key not in tpl.parameters]
    if period is not None and "period" not in tpl.parameters:
        missing.append("period")
    if missing:
        raise InputError(
            Problem(
                f"the template's parameters cell does not declare {', '.join(map(repr, missing))}",
                fix="add e.g. `model = None` and `history = None` to the cell tagged 'parameters'",
                file=tpl.source,
            )
        )
    if comments is None:
        comments = params.pop("comments", None)
    elif "comments" in params:
        raise InputError(
            Problem(
                "comments given twice (as an argument and as a template parameter)",
                fix="give the comments file once (--comments FILE)",
            )
        )
    if comments is not None and "comments" not in tpl.parameters:
        raise InputError(
            Problem(
                f"the template {tpl.name!r} takes no comments",
                fix="use the quarterly_review template, or add `comments = None` to the "
                "template's parameters cell",
                file=tpl.source,
            )
        )
    failed_path = output.with_name(f"{output.stem}.failed.ipynb")
    # before any work: no output may be an input, and the output folder must be writable
    outputs: dict[str, Any] = {"the HTML output": output, "the failed-run notebook": failed_path}
    if keep_notebook:
        outputs["the kept notebook"] = output.with_suffix(".ipynb")
    template_file = tpl.source if Path(tpl.source).is_file() else None
    refuse_inputs(
        outputs,
        {"model": model, "history": history, "template": template_file, "comments": comments},
    )
    check_writable(output)
    remove_stale_scratch()
    with scratch_folder() as folder:
        params["model"], loaded = _stage_model(model, folder)
        env: dict[str, str] = {PLOTLYJS_ENV: "placeholder"}
        staged, frame = _stage_history(history, loaded, folder, tpl=tpl, env=env)
        params.update(staged)
        if comments is not None:
            params["comments"] = _stage_comments(comments, loaded, folder)
        if period is not None:
            params["period"] = str(period)
        check_run_parameters(params, loaded, frame)
        source = folder / f"{tpl.name}.ipynb"
        source.write_text(with_kernelspec(tpl.text), encoding="utf-8")
        executed = folder / f"{tpl.name}.executed.ipynb"
        with _kernel_env(env):
            ran = _execute(
                source,
                executed,
                params,
                folder,
                tpl=tpl,
                failed_path=failed_path,
                progress=progress,
            )
        nb = normalise_notebook(
            ran, stable_ids=tpl.cell_ids, plotly_js="full" if full_plotly else "cartesian"
        )
        html = notebook_to_html(nb, title=_page_title(params, tpl, loaded), show_code=show_code)
        if keep_notebook:
            atomic_write(output.with_suffix(".ipynb"), nbformat.writes(nb))
        atomic_write(output, html)
    if failed_path.exists():  # a stale partial notebook from an earlier failed run
        failed_path.unlink()
    return output


@contextmanager
def _kernel_env(env: Mapping[str, str]) -> Iterator[None]:
    """Environment variables the kernel inherits while it starts and runs (removed after)."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _execute(
    source: Path,
    executed: Path,
    params: dict[str, Any],
    cwd: Path,
    *,
    tpl: Template,
    failed_path: Path,
    progress: bool,
) -> Any:
    """papermill, with its failures turned into ReportError (partial notebook kept).

    Returns the executed notebook (saved to ``executed`` only when a cell failed).
    """
    import nbformat
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors
    from papermill.utils import chdir
    from traitlets.config import Config

    def keep_partial() -> str | None:
        if not executed.exists():
            return None
        nb = normalise_notebook(nbformat.read(executed, as_version=4), stable_ids=tpl.cell_ids)
        atomic_write(failed_path, nbformat.writes(nb))
        return str(failed_path)

    # Unix-socket transport: no TCP ports to race for when reviews run in parallel
    # (and none open on the network); the sockets and the connection file live in
    # the run's scratch folder, removed with it (also on SIGINT/SIGTERM).
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(cwd / "kernel")
    config.KernelManager.connection_file = str(cwd / "kernel-connection.json")
    # The kernel is ours and thrown away: once the last cell has run (or failed) it is
    # stopped at once instead of asked to shut down and waited for (1-2 s while a kernel
    # holding a review's imports exits); nothing it would still do reaches the notebook.
    config.NotebookClient.shutdown_kernel = "immediate"
    try:
        # papermill.execute_notebook in two steps, to skip its last step on success: writing
        # the executed notebook (validated and serialised, with plotly.js: about a second)
        # that nobody reads; run_review works on the returned notebook.  A failure still
        # writes it (raise_for_execution_errors, with papermill's error marker), for the
        # partial notebook kept below.
        nb = pm.execute_notebook(
            str(source), None, parameters=params, kernel_name=KERNEL_NAME, prepare_only=True
        )
        with chdir(str(cwd)):
            nb = papermill_engines.execute_notebook_with_engine(
                None,
                nb,
                kernel_name=KERNEL_NAME,
                input_path=str(source),
                output_path=None,
                progress_bar=progress,
                store_widget_state=False,
                # the kernel's own log (e.g. "KeyboardInterrupt caught" when jupyter_client
                # interrupts it before shutdown) is noise for a review; failures come back as
                # PapermillExecutionError / DeadKernelError
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                config=config,
            )
        raise_for_execution_errors(nb, str(executed))
        return nb
    except PapermillExecutionError as exc:
        kept = keep_partial()
        first_line = next((ln for ln in str(exc.source).splitlines() if ln.strip()), "")
        raise ReportError(
            Problem(
                f"cell {exc.cell_index} of the executed notebook failed ({first_line.strip()!r}): "
                f"{exc.ename}: {exc.evalue}",
                fix=(f"open {kept} to see the traceback" if kept else "run the template in Jupyter")
                + "; check the inputs and parameters",
                file=tpl.source,
            ),
            file=tpl.source,
            cell_index=exc.cell_index,
            ename=str(exc.ename),
            evalue=str(exc.evalue),
            notebook_path=kept,
        ) from exc
    except NoSuchKernel as exc:
        raise ReportError(
            Problem(
                f"no Jupyter kernel named {KERNEL_NAME!r} to run the review",
                fix="install one into this environment: python -m ipykernel install --sys-prefix",
                file=tpl.source,
            ),
            file=tpl.source,
            ename=type(exc).__name__,
            evalue=str(exc),
        ) from exc
    except (DeadKernelError, CellTimeoutError, RuntimeError) as exc:
        kept = keep_partial()
        raise ReportError(
            Problem(
                f"the notebook kernel stopped while running the review: {exc}",
                fix="rerun; if it persists, run the template in Jupyter with the same parameters"
                + (f" (partial notebook: {kept})" if kept else ""),
                file=tpl.source,
            ),
            file=tpl.source,
            ename=type(exc).__name__,
            evalue=str(exc),
            notebook_path=kept,
        ) from exc
