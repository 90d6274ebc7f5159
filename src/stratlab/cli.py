"""The ``stratlab`` command: a thin layer that parses arguments and calls the library.

Every subcommand is registered once in :data:`COMMANDS` with its parser set-up and
its handler; a handler returns a DataFrame to print (table, CSV or JSON) or an
exit status.  Bad input of any kind (a :class:`~stratlab.errors.StratlabError`)
prints its located message and exits with status 2, without a traceback; a
failing review notebook exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._cli_history import add_history_options, history_argument, read_history, warn_stale
from ._outputs import check_writable, refuse_inputs
from .errors import InputError, Problem, escape_controls
from .limits import LIMIT_HELP

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMANDS", "main"]

Handler = Callable[[argparse.Namespace], "pd.DataFrame | int | None"]


@dataclass(frozen=True)
class Command:
    help: str
    examples: str
    setup: Callable[[argparse.ArgumentParser], None]
    run: Handler


COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, examples: str
) -> Callable[[Callable[[argparse.ArgumentParser], None]], Callable[[Handler], Handler]]:
    """Register a subcommand: ``@command(...)(setup)(handler)``."""

    def with_setup(
        setup: Callable[[argparse.ArgumentParser], None],
    ) -> Callable[[Handler], Handler]:
        def with_run(run: Handler) -> Handler:
            COMMANDS[name] = Command(help, examples, setup, run)
            return run

        return with_run

    return with_setup


# --------------------------------------------------------------------------- output


def _fmt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )


def emit(frame: pd.DataFrame, fmt: str) -> None:
    """Print a result frame as an aligned table, CSV or JSON records."""
    if fmt == "csv":
        from ._xlsx import csv_safe

        # text meant for a spreadsheet: '=cmd|...' is shown, never run (OWASP CSV injection)
        sys.stdout.write(csv_safe(frame).to_csv(index=False, float_format="%.10g"))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2, double_precision=15) + "\n")
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows",
            None,
            "display.max_columns",
            None,
            "display.width",
            200,
            "display.max_colwidth",
            90,
        ):
            shown = frame.copy()
            for col in shown.columns:
                if shown[col].dtype == float:
                    shown[col] = shown[col].map(plain_number)
            shown = shown.astype(object).where(shown.notna(), "")
            for col in shown.columns:  # a name can't repaint or clear the terminal
                shown[col] = shown[col].map(
                    lambda v: escape_controls(v) if isinstance(v, str) else v
                )
            sys.stdout.write(shown.to_string(index=False) + "\n")


def plain_number(v: float, digits: int = 4) -> str:
    """``v`` at ``digits`` significant digits in plain decimal notation (never ``1e-08``)."""
    import math

    if v != v:
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    decimals = min(max(0, digits - 1 - math.floor(math.log10(abs(v)))), 12)
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _setup_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file (.yaml, .json or .xlsx)")
    p.add_argument(
        "history", nargs="?", help="optional KPI history to check against the model (.csv or .xlsx)"
    )


@command(
    "validate",
    "check a model file (and optionally a history); exit 0, or 2 with located errors",
    "stratlab validate model.yaml\n  stratlab validate model.yaml history.csv",
)(_setup_validate)
def _validate(args: argparse.Namespace) -> int:
    from .io import load_model

    model = load_model(args.model)
    msg = f"{args.model}: OK — {len(model.objectives)} objectives, {len(model.measures)} measures, {len(model.links)} links, {len(model.okrs)} OKRs, {len(model.initiatives)} initiatives"
    if args.history:
        hist = read_history(args)
        warn_stale(model, hist)
        msg += (
            f"; {history_argument(args)}: OK — {hist.shape[1]} series, {len(hist)} periods ({hist.index[0]} to {hist.index[-1]})"
            if len(hist)
            else ""
        )
    print(msg)
    return 0


def _setup_score(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history (file or database URL), long or wide")
    p.add_argument("--period", help="score as of this period of the history (e.g. 2025Q3, 2025-07)")
    _fmt(p)


@command(
    "score",
    "score every node: id, kind, name, perspective, value, score, status",
    "stratlab score model.yaml history.csv\n  stratlab score model.yaml history.csv --period 2025-06 --format csv",
)(_setup_score)
def _score(args: argparse.Namespace) -> pd.DataFrame:
    from .scoring import score

    period = args.period
    if period is not None and args.dayfirst:  # --dayfirst reads --period too (01/02/2024)
        from .periods import period_arg

        period = period_arg(period, dayfirst=True)
    return score(args.model, read_history(args), period=period)


def _setup_schema(p: argparse.ArgumentParser) -> None:
    pass


@command(
    "schema",
    "print the JSON Schema of the model file (for editor validation and autocomplete)",
    "stratlab schema > stratlab.schema.json",
)(_setup_schema)
def _schema(args: argparse.Namespace) -> int:
    import json

    from .model import model_schema

    print(json.dumps(model_schema(), indent=2))
    return 0


def _setup_example(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "directory", help="folder to write the example model and history into (created if missing)"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument(
        "--excel",
        action="store_true",
        help="also write the model and history as Excel workbooks (northwind.xlsx, northwind_history.xlsx)",
    )


@command(
    "example",
    "write the bundled example model and KPI history to start from",
    "stratlab example my_strategy/\n  stratlab example my_strategy/ --excel",
)(_setup_example)
def _example(args: argparse.Namespace) -> int:
    from .datasets import write_example

    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(
            Problem(f"{args.directory!r} is a file, not a folder.", fix="give a folder path.")
        )
    directory.mkdir(parents=True, exist_ok=True)
    for path in write_example(directory, overwrite=args.force, excel=args.excel):
        print(f"wrote {path}")
    return 0


def _setup_whatif(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="set a measure, key result or link weight (repeatable)",
    )
    p.add_argument(
        "--shift",
        dest="shifts",
        action="append",
        default=[],
        metavar="ID=DELTA",
        help="shift a value by DELTA (repeatable)",
    )
    p.add_argument("--horizon", type=int, help="also show the trajectory over this many periods")
    _fmt(p)


@command(
    "whatif",
    "what-if: before, after and delta of every node for changed inputs",
    "stratlab whatif model.yaml --set nps=40\n  stratlab whatif model.yaml history.csv --shift wait_min=-1 --horizon 6",
)(_setup_whatif)
def _whatif(args: argparse.Namespace) -> pd.DataFrame:
    from .propagation import parse_changes, whatif

    if not args.sets and not args.shifts:
        raise InputError(Problem("no change given.", fix="add --set ID=VALUE or --shift ID=DELTA."))
    changes = parse_changes(args.sets, shifts=args.shifts)
    result = whatif(args.model, changes, read_history(args), horizon=args.horizon)
    return result.trajectory if args.horizon else result.to_frame()


def _pairs(flag: str, args: Sequence[str], example: str) -> dict[str, float]:
    """Parse repeated ``ID=NUMBER`` arguments of one flag."""
    import math

    out: dict[str, float] = {}
    for arg in args:
        key, sep, text = str(arg).rpartition("=")
        try:
            value = float(text) if sep and key.strip() else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(
                Problem(
                    f"{flag} {arg!r}: expected ID=NUMBER.", fix=f"write it like {flag} {example}."
                )
            )
        out[key.strip()] = value
    return out


def _setup_goal_seek(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history (current values)")
    p.add_argument(
        "--target",
        dest="targets",
        action="append",
        default=[],
        metavar="ID=SCORE",
        help="an objective, perspective or OKR and the score it must reach (repeatable)",
    )
    p.add_argument(
        "--lever",
        dest="levers",
        action="append",
        default=None,
        metavar="ID",
        help="a measure or key result that may move (repeatable; default: all of them)",
    )
    p.add_argument(
        "--effort",
        dest="efforts",
        action="append",
        default=[],
        metavar="ID=WEIGHT",
        help="cost of one unit of a lever's score (repeatable; default 1)",
    )
    p.add_argument(
        "--allow-worse",
        action="store_true",
        help="let levers move against their good direction",
    )
    _fmt(p)


@command(
    "goal-seek",
    "the smallest change of measures and key results that brings targets to their scores",
    "stratlab goal-seek model.yaml --target financial=0.7\n"
    "  stratlab goal-seek model.yaml history.csv --target growth=0.8 --lever nps --lever avg_ticket",
)(_setup_goal_seek)
def _goal_seek(args: argparse.Namespace) -> pd.DataFrame:
    from .planning import goal_seek

    if not args.targets:
        raise InputError(
            Problem("no target given.", fix="add --target ID=SCORE, e.g. --target financial=0.7.")
        )
    result = goal_seek(
        args.model,
        read_history(args),
        targets=_pairs("--target", args.targets, "financial=0.7"),
        levers=args.levers,
        effort=_pairs("--effort", args.efforts, "wait_min=2") or None,
        allow_worse=args.allow_worse,
    )
    shifts = " ".join(f"--shift {c.key}={c.value:.6g}" for c in result.changes)
    sys.stderr.write(
        f"effort {result.effort:.4g} (score units); the plan as what-if shifts (see their long "
        f"run): stratlab whatif {args.model} {shifts}\n"
        if shifts
        else "every target is already reached: nothing needs to move.\n"
    )
    return result.to_frame()


def _setup_portfolio(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history (current values, volatility)")
    p.add_argument("--budget", type=float, required=True, help="money available")
    p.add_argument(
        "--target", help="objective, perspective or OKR to lift (default: the top perspective)"
    )
    p.add_argument(
        "--goal",
        choices=("effect", "p_green"),
        default="effect",
        help="maximise the long-run score (effect) or P(green) over Monte Carlo scenarios",
    )
    p.add_argument("--samples", type=int, default=2000, help="scenarios for p_green (default 2000)")
    p.add_argument("--seed", type=int, default=None, help="scenario seed (same seed, same output)")
    p.add_argument(
        "--elapsed",
        type=float,
        default=None,
        help="share of the OKR period elapsed, in (0, 1] (p_green)",
    )
    _fmt(p)


@command(
    "portfolio",
    "the initiatives to fund within a budget, for the most effect on a target or P(green)",
    "stratlab portfolio model.yaml --budget 600000\n"
    "  stratlab portfolio model.yaml history.csv --budget 600000 --target financial "
    "--goal p_green --seed 1",
)(_setup_portfolio)
def _portfolio(args: argparse.Namespace) -> pd.DataFrame:
    from .planning import plan_portfolio

    result = plan_portfolio(
        args.model,
        read_history(args),
        budget=args.budget,
        target=args.target,
        goal=args.goal,
        samples=args.samples,
        seed=args.seed,
        elapsed=args.elapsed,
    )
    what = "score" if result.goal == "effect" else "P(green)"
    seed = f" (seed {result.seed})" if result.seed is not None else ""
    sys.stderr.write(
        f"budget used {result.budget_used:,.0f} of {result.budget:,.0f}; {result.target} "
        f"{what} {result.before:.3f} → {result.after:.3f}{seed}\n"
    )
    return result.to_frame()


def _setup_simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history (gives measure volatility)")
    p.add_argument(
        "--samples", type=int, default=10_000, help="Monte Carlo samples (default 10000)"
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same output)")
    p.add_argument("--horizon", type=int, default=None, help="periods ahead")
    p.add_argument(
        "--elapsed",
        type=float,
        default=None,
        help="share of the OKR period elapsed, in (0, 1] (default: by the model's as_of date, else by the last period with data; today only without either)",
    )
    _fmt(p)


@command(
    "simulate",
    "Monte Carlo: mean, p05, p50, p95 and P(green) of every objective",
    "stratlab simulate model.yaml history.csv --samples 20000 --seed 1",
)(_setup_simulate)
def _simulate(args: argparse.Namespace) -> pd.DataFrame:
    from .simulation import simulate

    if args.samples < 1:
        raise InputError(
            Problem(
                f"--samples must be at least 1, got {args.samples}.", fix="e.g. --samples 10000."
            )
        )
    return simulate(
        args.model,
        read_history(args),
        samples=args.samples,
        seed=args.seed,
        horizon=args.horizon,
        elapsed=args.elapsed,
        progress=False,
    ).summary()


def _setup_correlate(p: argparse.ArgumentParser) -> None:
    p.add_argument("history", help="KPI history (file or database URL), long or wide")
    p.add_argument("--method", choices=("pearson", "spearman", "kendall"), default="pearson")
    p.add_argument(
        "--transform",
        choices=("diff", "pct_change", "detrend", "none"),
        default="diff",
        help="default diff: levels of trending KPIs correlate spuriously",
    )
    p.add_argument(
        "--max-lag", type=int, default=0, help="also test leads and lags up to K periods"
    )
    p.add_argument(
        "--min-periods", type=int, default=None, help="fewest paired observations for a result"
    )
    _fmt(p)


@command(
    "correlate",
    "KPI correlations with n, r, CI, p and BH q-values (lead-lag with --max-lag)",
    "stratlab correlate history.csv --max-lag 3 --format csv",
)(_setup_correlate)
def _correlate(args: argparse.Namespace) -> pd.DataFrame:
    from .stats import correlate

    return correlate(
        read_history(args, with_model=False),
        method=args.method,
        transform=args.transform,
        max_lag=args.max_lag,
        min_periods=args.min_periods,
    )


def _setup_check_links(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", help="KPI history")
    _fmt(p)


@command(
    "check-links",
    "test every link of the map against the history: best lag, r, q, Granger p, verdict",
    "stratlab check-links model.yaml history.csv",
)(_setup_check_links)
def _check_links(args: argparse.Namespace) -> pd.DataFrame:
    from .stats import check_links

    return check_links(args.model, read_history(args))


def _setup_calibrate(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", help="KPI history")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the calibrated model (.yaml, .json or .xlsx)",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    _fmt(p)


@command(
    "calibrate",
    "estimate link weights and driver coefficients from history; write the new model",
    "stratlab calibrate model.yaml history.csv -o calibrated.yaml",
)(_setup_calibrate)
def _calibrate(args: argparse.Namespace) -> pd.DataFrame:
    from .io import save_model
    from .stats import calibrate

    out = Path(args.output)
    _refuse_overwrite(out, args.force, same_as=args.model)
    # the history is never overwritten; the model only with --force (a deliberate
    # in-place recalibration, which keeps the file's comments and layout)
    refuse_inputs({"-o": out}, {"history": args.history})
    check_writable(out)
    result = calibrate(args.model, read_history(args), seed=args.seed)
    frame = result.to_frame()
    save_model(result.model, out)
    print(f"wrote {out}", file=sys.stderr)
    return frame


def _refuse_overwrite(out: Path, force: bool, same_as: str | None = None) -> None:
    if (
        same_as is not None
        and not force
        and out.exists()
        and out.resolve() == Path(same_as).resolve()
    ):
        raise InputError(
            Problem(
                "the output would overwrite the input model.",
                fix="choose another -o path, or add --force to replace the input "
                "(its comments and layout are kept).",
                file=str(out),
            )
        )
    if out.exists() and not force:
        raise InputError(
            Problem(
                "the output file exists already.",
                fix="choose another -o path or add --force.",
                file=str(out),
            )
        )


def _setup_initiatives(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", nargs="?", help="KPI history")
    p.add_argument(
        "--target",
        metavar="ID",
        help="perspective or objective to rank by (default: the top perspective)",
    )
    p.add_argument(
        "--per",
        type=float,
        default=1000.0,
        metavar="AMOUNT",
        help="express the effect per this much budget (default 1000: effect_per_1k)",
    )
    _fmt(p)


@command(
    "initiatives",
    "rank initiatives by effect on a perspective or objective, in total and per budget",
    "stratlab initiatives model.yaml\n  stratlab initiatives model.yaml --target customer --per 100000",
)(_setup_initiatives)
def _initiatives(args: argparse.Namespace) -> pd.DataFrame:
    import warnings

    from .errors import StratlabWarning
    from .propagation import rank_initiatives

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StratlabWarning)
        frame = rank_initiatives(args.model, read_history(args), target=args.target, per=args.per)
    for w in caught:
        print(f"stratlab initiatives: warning: {w.message}", file=sys.stderr)
    return frame


def _setup_review(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file")
    p.add_argument("history", help="KPI history")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")
    p.add_argument("--period", help="review as of this period")
    p.add_argument(
        "--template",
        default="quarterly_review",
        help="template name (quarterly_review, link_check, okr_checkin) or path to a .ipynb",
    )
    p.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter (repeatable)",
    )
    p.add_argument(
        "--keep-notebook", action="store_true", help="keep the executed notebook beside the HTML"
    )
    p.add_argument("--show-code", action="store_true", help="show code cells in the HTML")
    p.add_argument(
        "--comments",
        metavar="FILE",
        help="commentary and actions for the review (CSV, Excel or YAML with columns "
        "id, period, comment and optionally action, owner, due)",
    )
    p.add_argument(
        "--full-plotly",
        action="store_true",
        help="embed the full plotly.js (~4.8 MB) instead of the cartesian partial bundle (~1.5 MB)",
    )


@command(
    "review",
    "run a review template with papermill and export one self-contained HTML file",
    "stratlab review model.yaml history.csv -o review.html\n  stratlab review model.yaml history.csv -o q3.html --period 2025Q3 -p samples=2000",
)(_setup_review)
def _review(args: argparse.Namespace) -> int:
    from .report import run_review

    plain = not (args.sheet or args.decimal or args.dayfirst or args.strict or args.fix)
    out = run_review(
        args.model,
        history_argument(args) if plain else read_history(args),  # the notebook reads a path/URL
        args.output,
        period=args.period,
        template=args.template,
        parameters=parse_parameters(args.parameters),
        keep_notebook=args.keep_notebook,
        show_code=args.show_code,
        full_plotly=args.full_plotly,
        comments=args.comments,
    )
    print(f"wrote {out}")
    return 0


def parse_parameters(items: Sequence[str]) -> dict[str, Any]:
    """``["samples=2000", "title=Q3 review"]`` → ``{"samples": 2000, "title": "Q3 review"}`` (YAML scalars)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                Problem(f"parameter {item!r} is not KEY=VALUE.", fix="write e.g. -p samples=2000.")
            )
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def _setup_batch(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "manifest",
        help="CSV or YAML manifest: unit, model, history[, period, template, weight, comments, "
        "template parameters...] (format below)",
    )
    p.add_argument("-o", "--output", required=True, help="folder for the reviews and index.html")
    p.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("--scheduler", help="Dask: local:N worker processes here, or tcp://HOST:8786")
    _fmt(p)


_MANIFEST_HELP = """stratlab review-batch units.csv -o reviews/ --jobs 2   (or --scheduler local:4)

manifest (CSV or YAML; paths relative to it):
  CSV   unit,model,history,weight,comments,samples
        north,north.yaml,north.csv,2,north_comments.csv,2000
  YAML  parameters: {samples: 2000}        # optional, shared (also: template)
        units:
          - {unit: north, model: north.yaml, history: north.csv, weight: 2, seed: 1}
  unit, model required; history, period, template, weight (in the group
  roll-up, default 1), comments (see review --comments) optional; any other
  column or key is a template parameter (a YAML unit may give `parameters`).
writes <unit>.html, index.html (links only to reviews written) and group.html
(status grid, perspective heatmap, movers, stale KPIs, weighted roll-up).
A failing unit does not stop the others: one line per failure, exit 1."""


@command(
    "review-batch",
    "one review per business unit, in parallel, with an index.html and a group page",
    _MANIFEST_HELP,
)(_setup_batch)
def _batch(args: argparse.Namespace) -> pd.DataFrame | int:
    from .report import run_batch

    frame = run_batch(args.manifest, args.output, jobs=args.jobs, client=args.scheduler)
    emit(frame, args.format)
    failed = frame[frame["status"] != "ok"]
    for row in failed.itertuples(index=False):
        print(f"{row.unit}: review failed: {row.error}", file=sys.stderr)
    return 0 if not len(failed) else 1


def _setup_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        default="stratlab-demo",
        help="folder for the demo outputs (default ./stratlab-demo)",
    )
    p.add_argument("--samples", type=int, default=5000, help="Monte Carlo samples in the review")


@command(
    "demo",
    "validate, score, check links, simulate and write the review of the bundled example",
    "stratlab demo -o build/demo",
)(_setup_demo)
def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.output, samples=args.samples)
    return 0


# --------------------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratlab",
        description="Test, calibrate and simulate Balanced Scorecard strategy maps and OKRs.",
        epilog="Start with:  stratlab example my_strategy/  then  stratlab score my_strategy/northwind.yaml my_strategy/northwind_history.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stratlab {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        sub = subs.add_parser(
            name,
            help=cmd.help,
            description=cmd.help[0].upper() + cmd.help[1:] + ".",
            epilog="examples:\n  " + cmd.examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.setup(sub)
        if any(a.dest == "history" for a in sub._actions):
            add_history_options(sub)
        sub.add_argument("--limit", action="append", default=[], metavar="N=V", help=LIMIT_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from ._cli_exit import run_command
    from .limits import parse_limits

    def body() -> int:
        result = COMMANDS[args.command].run(args)
        if result is None or isinstance(result, int):
            return result or 0
        emit(result, getattr(args, "format", "table"))
        return 0

    return run_command(args.command, body, lambda: parse_limits(args.limit))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
