"""The `truecost` command: a thin layer over the library (every number comes from truecost.*)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .errors import TruecostError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="truecost: what does it really cost to build this AI model? From one scenario: FLOPs, "
    "GPU-hours, the rental headline, the owned cost of the run, development cost and the lab's "
    "total spend, with every assumption sourced.",
)

F = TypeVar("F", bound=Callable[..., Any])
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
OPTION_FIELDS = ("samples", "seed")


def _user_errors(fn: F) -> F:
    """Bad input -> one paragraph on stderr and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .catalog.schema import UnknownIdError

        try:
            return fn(*args, **kwargs)
        except (TruecostError, UnknownIdError) as exc:
            text = str(exc)
            field = getattr(exc, "field", None)
            if field in OPTION_FIELDS:  # the library's `samples` is the command's `--samples`
                text = f"--{field}: " + text.removeprefix(f"{field}: ")
            typer.echo(f"error: {text}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except (RecursionError, MemoryError) as exc:
            typer.echo(f"error: scenario: the input is too large to process ({type(exc).__name__})", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a bug: say so in one line; TRUECOST_DEBUG=1 shows the traceback
            import os

            if os.environ.get("TRUECOST_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc} (a bug in truecost; run with "
                "TRUECOST_DEBUG=1 for the traceback)",
                err=True,
            )
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


def _print_json(obj: Any) -> None:
    try:
        text = json.dumps(obj, indent=2, allow_nan=False)
    except ValueError:  # a NaN or infinity reached the output: refuse rather than print invalid JSON
        raise TruecostError(
            "the output holds a value that is not a finite number; check the inputs it depends on",
            field="scenario",
        ) from None
    typer.echo(text)


ScenarioArg = Annotated[
    str, typer.Argument(help="A preset name (see `truecost presets`) or a path to a YAML scenario.")
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON instead of tables (results, units, formulas, assumptions, warnings, details).",
    ),
]
SamplesOpt = Annotated[
    int | None,
    typer.Option(
        "--samples",
        min=2,
        help="Monte Carlo trials. Each uncertain input is drawn once per trial; the chain runs "
        "vectorised in chunks of 250,000 trials, so working memory stays bounded (only the "
        "outputs' samples are kept, 8 bytes per output per trial).",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed", min=0, help="Random seed (0 or more); the same seed gives exactly the same output."
    ),
]
# Sobol' base samples: scipy needs a power of two; the chain runs n x (inputs + 2) trials at
# once, ~0.7 GB at 65,536 for a lab scenario with ten uncertain inputs.


def _version(flag: bool) -> None:
    if flag:
        from . import __version__

        typer.echo(f"truecost {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """truecost: what does it really cost to build this AI model?"""


def _seed(samples: int | None, seed: int | None) -> int | None:
    """The seed to use: the one given, or (with samples) a fresh one, printed so the run can be repeated."""
    if samples is None or seed is not None:
        return seed
    import secrets

    drawn = secrets.randbelow(2**31)
    typer.echo(f"seed {drawn} (no --seed given; repeat this run with --seed {drawn})", err=True)
    return drawn


class _Progress:
    """A progress bar on stderr for Monte Carlo runs that take over about a second (terminals only)."""

    THRESHOLD = 500_000  # trials: about a third of a second of sampling; the rest is summaries

    def __init__(self, samples: int | None, label: str = "sampling"):
        self.bar: Any = None
        self.label = label
        if samples is not None and samples >= self.THRESHOLD and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(transient=True, console=Console(stderr=True))

    def __enter__(self) -> Callable[[int, int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task(self.label, total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def _warn(warnings: list[str]) -> None:
    if warnings:
        from .render import print_renderable, warnings_panel

        print_renderable(warnings_panel(warnings), stderr=True)


def _need_sweep_extra() -> None:
    """Sweeps need the `sweep` extra (Dask, pandas, pyarrow): say so instead of a traceback."""
    import importlib.util

    missing = [m for m in ("dask", "distributed", "pandas", "pyarrow") if importlib.util.find_spec(m) is None]
    if missing:
        raise TruecostError(
            f"sweeps need the sweep extra ({', '.join(missing)} not installed): pip install 'truecost[sweep]'",
            field="sweep",
        )


def _width() -> int:
    from .render import console

    return console().width


@app.command()
@_user_errors
def estimate(
    scenario: ScenarioArg,
    json_out: JsonOpt = False,
    samples: SamplesOpt = None,
    seed: SeedOpt = None,
    assumptions: Annotated[
        bool,
        typer.Option(
            "--assumptions",
            help="List every assumption with its source (and the scenario's notes); by default the "
            "ten that move the answer most.",
        ),
    ] = False,
    csv_out: Annotated[
        bool,
        typer.Option("--csv", help="Print CSV (results, then assumptions with sources) instead of tables."),
    ] = False,
) -> None:
    """Run a scenario through the chain: the answer first, then the key results and the assumptions."""
    from .chain import estimate as run_estimate

    seed = _seed(samples, seed)
    with _Progress(samples) as progress_cb:
        est = run_estimate(scenario, samples=samples, seed=seed, progress=progress_cb)
    if json_out or csv_out:  # warnings on stderr; stdout stays machine-readable
        _warn(list(est.warnings))
    if json_out:
        _print_json(est.to_dict())
        return
    if csv_out:
        from .export import to_csv

        sys.stdout.write(to_csv(est))
        return
    from .render import estimate_tables, print_renderable

    ranked: tuple[Any, Any] = (None, ())
    if not assumptions:
        from .analysis.assumptions import rank_assumptions

        ranked = rank_assumptions(scenario, est.assumptions)
    from .report.content import overridden

    print_renderable(
        estimate_tables(
            est, width=_width(), all_assumptions=assumptions, ranked=ranked, scenario_arg=scenario
        )
    )
    _warn([*overridden(est), *est.warnings])


@app.command()
@_user_errors
def compare(
    scenarios: Annotated[
        list[str],
        typer.Argument(help="Two or more preset names or YAML paths; the first is the base of the ratios."),
    ],
    json_out: JsonOpt = False,
    samples: SamplesOpt = None,
    seed: SeedOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Also write an HTML page: the table, the views and the waterfall grouped."
        ),
    ] = None,
) -> None:
    """Scenarios side by side: every result, with its ratio to the first scenario's."""
    from .analysis.compare import compare as run_compare

    seed = _seed(samples, seed)
    with _Progress(samples) as progress_cb:
        cmp = run_compare(scenarios, samples=samples, seed=seed, progress=progress_cb)
    if output is not None:
        from .report import write_compare

        typer.echo(f"wrote {write_compare(cmp, output)}", err=True)
    if json_out:
        _print_json(cmp.to_dict())
        return
    from .render import compare_table, print_renderable

    print_renderable(compare_table(cmp, _width()))
    for e in cmp.estimates:
        _warn([f"{e.scenario}: {w}" for w in e.warnings])


@app.command()
@_user_errors
def sweep(
    scenario: ScenarioArg,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File to write: .csv or .parquet, one row per point.")
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="PATH=V1,V2,... : a scenario field (cluster.count, fleet[0].unit_price_usd) and its "
            "values, read as YAML scalars. Repeat it: the sweep runs the product of all --set values.",
        ),
    ] = None,
    lhs: Annotated[
        int | None,
        typer.Option(
            "--lhs",
            min=1,
            help="Instead of a grid, N points of a Latin hypercube over the ranges given as extra "
            "arguments PATH=LOW:HIGH (integer ends give integers).",
        ),
    ] = None,
    ranges: Annotated[
        list[str] | None,
        typer.Argument(help="With --lhs: PATH=LOW:HIGH ranges, for example cluster.mfu=0.3:0.5."),
    ] = None,
    points: Annotated[
        Path | None,
        typer.Option(
            "--points",
            help="Instead of a grid, explicit points: a CSV file whose header names field paths and "
            "whose rows are points (for inputs that move together, such as a year and its hardware).",
        ),
    ] = None,
    samples: SamplesOpt = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Random seed. Point i is seeded from (seed, i), so results do not depend on how the "
            "sweep is split across workers; it also seeds --lhs.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask distributed scheduler address (tcp://host:8786); default: this machine "
            "(worker processes for large sweeps).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an interrupted sweep from OUTPUT.parts/, skipping finished partitions."
        ),
    ] = False,
) -> None:
    """Run a scenario over a grid of inputs (on Dask) and write one row per point."""
    _need_sweep_extra()
    from .analysis.sweep import latin_hypercube, parse_range, parse_set, read_points
    from .analysis.sweep import sweep as run_sweep

    grid: Any
    if points is not None:
        if set_ or lhs is not None or ranges:
            raise TruecostError("--points takes no --set, --lhs or ranges", field="points")
        grid = read_points(points)
    elif lhs is not None:
        if set_:
            raise TruecostError("--lhs takes PATH=LOW:HIGH ranges, not --set", field="lhs")
        grid = latin_hypercube(dict(parse_range(r) for r in ranges or []), lhs, seed=seed)
    else:
        if ranges:
            raise TruecostError(f"unexpected argument {ranges[0]!r}; ranges go with --lhs N", field="lhs")
        grid = dict(parse_set(s) for s in set_ or [])
        if not grid:
            raise TruecostError(
                "give at least one --set PATH=V1,V2,... (or --lhs N PATH=LOW:HIGH)", field="set"
            )

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("sweep", total=None)

    def progress(done: int, total: int) -> None:  # first called once the inputs are validated
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        df = run_sweep(
            scenario,
            grid,
            samples=samples,
            seed=seed,
            scheduler=scheduler,
            output=output,
            resume=resume,
            progress=progress,
        )
    finally:
        bar.stop()
    failed = int((df["error"] != "").sum()) if "error" in df else 0
    warned = int((df["warnings"] != "").sum())
    typer.echo(
        f"wrote {output}: {len(df):,} points x {len(df.columns)} columns"
        + (f"; {warned:,} with warnings" if warned else "")
        + (f"; {failed:,} failed (see the error column)" if failed else "")
    )


@app.command()
@_user_errors
def presets(json_out: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from .scenario import preset_summaries

    rows = preset_summaries()
    if json_out:
        _print_json(rows)
        return
    from .render import print_renderable, rows_table

    print_renderable(rows_table(rows, ["id", "name", "description"], "Presets"))


@app.command()
@_user_errors
def catalog(
    kind: Annotated[
        str,
        typer.Argument(help="hardware | models | runs | stacks | grid | embodied | prices | hardware-prices"),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Print a shipped catalog (accelerators, model architectures, published training runs, software
    stacks, grid carbon intensity by region and year, embodied carbon of hardware, dated rental prices
    by basis, dated purchase prices)."""
    from .catalog import catalog_rows

    rows = catalog_rows(kind)
    if json_out:
        _print_json(rows)
        return
    from .render import print_renderable, rows_table

    columns = {
        "hardware": [
            "id",
            "name",
            "dense_bf16_tflops",
            "dense_fp8_tflops",
            "memory_gb",
            "tdp_w",
            "unit_price_usd",
            "rental_usd_per_gpu_hour",
        ],
        "models": ["id", "arch", "params_total", "params_active", "layers", "d_model", "source"],
        "runs": [
            "id",
            "model",
            "accelerator_id",
            "n_accelerators",
            "gpu_hours",
            "reported_flops",
            "reported_cost_usd",
        ],
        "stacks": ["id", "first_date", "accelerators", "recompute", "schedules", "max_zero", "source"],
        "grid": ["region", "year", "g_co2e_per_kwh", "dataset", "verification"],
        "embodied": ["id", "kg_co2e", "unit", "boundary", "default_for"],
        "prices": [
            "accelerator_id",
            "date",
            "usd_per_gpu_hour",
            "basis",
            "provider",
            "region",
            "verification",
        ],
        "hardware-prices": ["accelerator_id", "date", "usd_per_accelerator", "kind", "item", "verification"],
    }[kind]
    shown = [c for c in columns if not rows or c in rows[0]]
    print_renderable(rows_table(rows, shown, f"Catalog: {kind}"))


@app.command()
@_user_errors
def validate(json_out: JsonOpt = False) -> None:
    """Compare predictions with published figures: FLOPs of catalog runs, measured step times, GPU-hours,
    training emissions recomputed from each publication's inputs."""
    from .analysis.validate import validate_all

    report = validate_all()
    if json_out:
        _print_json(report)
        return
    from .render import print_renderable, validation_table

    for name, block in report["sets"].items():
        print_renderable(validation_table(name, block))
        if "coverage_90" in block:
            print_renderable(
                f"{name}: leave-one-out median GPU-hour error {block['median_abs_error_pct']:.1f}%, "
                f"90% interval coverage {block['coverage_90']:.0%} of {block['n']} runs"
            )


@app.command()
@_user_errors
def sensitivity(
    scenario: ScenarioArg,
    json_out: JsonOpt = False,
    output: Annotated[
        str | None,
        typer.Option(help="Result to explain; default the deepest available (lab_total_cost_usd first)."),
    ] = None,
    samples: Annotated[
        int,
        typer.Option(
            help="Base samples for the Sobol estimate (scipy.stats.sobol_indices): a power of two "
            "from 64 to 65,536.",
            min=64,
        ),
    ] = 4096,
    seed: SeedOpt = None,
) -> None:
    """Which uncertain inputs drive the result: one-at-a-time tornado (p5 to p95) and Sobol indices."""
    from .analysis.sensitivity import check_base_samples
    from .analysis.sensitivity import sensitivity as run_sensitivity

    check_base_samples(samples, field="--samples")
    seed = _seed(samples, seed)
    res = run_sensitivity(scenario, output=output, n=samples, seed=seed)
    if json_out:
        _print_json(res)
        return
    from .render import print_renderable, sensitivity_table

    print_renderable(sensitivity_table(res, _width()))


@app.command()
@_user_errors
def plan(
    scenario: ScenarioArg,
    json_out: JsonOpt = False,
    objective: Annotated[
        str, typer.Option(help="time (fastest step) or cost (fewest GPU-hours per token).")
    ] = "time",
    top: Annotated[int, typer.Option(help="How many layouts to show.", min=1)] = 10,
) -> None:
    """Search parallel layouts (tp, pp, dp, ep, micro-batch, recompute) for the scenario's model and GPU count."""
    from .analysis.plan import plan as run_plan

    res = run_plan(scenario, objective=objective, top=top)
    if json_out:
        _print_json(res)
        return
    from .render import plan_table, print_renderable

    print_renderable(plan_table(res, _width()))


@app.command()
@_user_errors
def report(
    scenario: ScenarioArg,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File to write (.html, or .md with --format md).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="html (self-contained, offline) or md (Markdown + PNG charts).")
    ] = "html",
    samples: SamplesOpt = None,
    seed: SeedOpt = None,
    x: Annotated[
        str | None,
        typer.Option("--x", help="Sweep file only: the varied input on the x axis (default the first)."),
    ] = None,
    y: Annotated[
        str | None,
        typer.Option("--y", help="Sweep file only: the result to chart (default final_run_cost_usd)."),
    ] = None,
    trend: Annotated[
        float | None,
        typer.Option(
            "--trend",
            help="Sweep file only, x in years or dates: a reference line growing this factor a year "
            "(2.4 for Epoch AI's frontier cost trend), and each line's fitted growth in its label.",
        ),
    ] = None,
) -> None:
    """Write a self-contained report: the answer, the four cost views, charts, derivation and sources.
    Given a sweep file (.csv or .parquet from `truecost sweep`), chart a result against a varied
    input with its 90% band on a log scale (.html, .png or .md)."""
    from .report.sweep import is_sweep_file, write_sweep_report

    if is_sweep_file(scenario):
        _need_sweep_extra()
        typer.echo(f"wrote {write_sweep_report(scenario, output, x=x, y=y, trend=trend)}")
        return
    from .report import write_report

    seed = _seed(samples, seed)
    path = write_report(scenario, output, fmt=fmt, samples=samples, seed=seed)
    typer.echo(f"wrote {path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    deadline: Annotated[
        float,
        typer.Option(
            help="Seconds an estimate, report or view may take, queueing included; the work is "
            "stopped (its worker process killed) when it passes.",
            min=0.5,
            max=3600,
        ),
    ] = 20.0,
) -> None:
    """Start the local web calculator (FastAPI; OpenAPI docs at /docs)."""
    from .web import serve as run_server

    run_server(host=host, port=port, deadline_s=deadline)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
