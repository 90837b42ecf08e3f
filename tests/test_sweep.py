"""Sweeps (issue 15): the grid, seeding, resume, Dask local vs distributed, a killed worker, bad input."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

import truecost
from truecost.analysis import sweep as sweep_mod
from truecost.cli import app
from truecost.errors import ScenarioError
from truecost.scenario import load_raw

RATES = [1.5, 2, 2.5]
COUNTS = [1024, 2048]
GRID = {"pricing.rental_usd_per_gpu_hour": RATES, "cluster.count": COUNTS}
DSV3_GPU_HOURS = 2.788e6  # DeepSeek-V3 Technical Report, Table 1


def uncertain_dsv3() -> dict[str, Any]:
    """deepseek-v3 with an uncertain rental price, so sampled results vary by trial."""
    raw = copy.deepcopy(load_raw("deepseek-v3"))
    raw["pricing"]["rental_usd_per_gpu_hour"] = {"ci90": [1.5, 3.0]}
    return raw


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield lc, client


def test_readme_3x2_grid_rows_and_costs() -> None:
    """The README example: 6 rows, in product order, cost = rate x 2.788M GPU-hours."""
    df = truecost.sweep("deepseek-v3", GRID)
    assert len(df) == 6
    assert list(df.columns[:2]) == list(GRID)
    assert df["pricing.rental_usd_per_gpu_hour"].tolist() == [1.5, 1.5, 2, 2, 2.5, 2.5]
    assert df["cluster.count"].tolist() == [1024, 2048] * 3
    assert_allclose(df["final_run_cost_usd"], [r * DSV3_GPU_HOURS for r in [1.5, 1.5, 2, 2, 2.5, 2.5]])
    # GPU-hours are reported, so twice the GPUs halves the wall clock and leaves the cost alone
    assert_allclose(df["wall_clock_days"], DSV3_GPU_HOURS / np.array(COUNTS * 3) / 24)
    assert df.columns[-1] == "warnings"


def test_sampled_columns_and_seed_independent_of_partitioning() -> None:
    grid = {"cluster.count": [1024, 2048, 4096], "training.tokens": [10e12, 14.8e12]}
    a = truecost.sweep(uncertain_dsv3(), grid, samples=200, seed=3, partition=1)
    b = truecost.sweep(uncertain_dsv3(), grid, samples=200, seed=3, partition=4)
    c = truecost.sweep(uncertain_dsv3(), grid, samples=200, seed=3, scheduler="threads", partition=2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    for q in ("mean", "p5", "p50", "p95"):
        assert f"final_run_cost_usd_{q}" in a.columns
    assert (a["final_run_cost_usd_p5"] < a["final_run_cost_usd_p95"]).all()
    # each point has its own stream: equal costs (GPU-hours are reported) but different draws
    assert a["final_run_cost_usd_p50"].nunique() == len(a)
    d = truecost.sweep(uncertain_dsv3(), grid, samples=200, seed=4)
    assert not np.allclose(a["final_run_cost_usd_p50"], d["final_run_cost_usd_p50"])


def test_point_matches_a_single_estimate() -> None:
    raw = uncertain_dsv3()
    df = truecost.sweep(raw, {"cluster.count": [1024, 2048]}, samples=300, seed=9)
    one = copy.deepcopy(raw)
    one["cluster"]["count"] = 2048
    est = truecost.estimate(one, samples=300, seed=sweep_mod.point_seed(9, 1))
    assert df.loc[1, "final_run_cost_usd_p50"] == est.results["final_run_cost_usd"]["p50"]


def test_local_and_distributed_tables_identical(cluster: Any) -> None:
    _, client = cluster
    local = truecost.sweep("deepseek-v3", GRID)
    dist = truecost.sweep("deepseek-v3", GRID, scheduler=client)
    pd.testing.assert_frame_equal(local, dist)
    local_s = truecost.sweep(uncertain_dsv3(), GRID, samples=500, seed=1, scheduler="sync")
    dist_s = truecost.sweep(uncertain_dsv3(), GRID, samples=500, seed=1, scheduler=client, partition=4)
    pd.testing.assert_frame_equal(local_s, dist_s)


def test_cli_scheduler_address_agrees_with_local(cluster: Any, tmp_path: Path) -> None:
    lc, _ = cluster
    args = ["sweep", "deepseek-v3", "--set", "pricing.rental_usd_per_gpu_hour=1.5,2,2.5"]
    args += ["--set", "cluster.count=1024,2048"]
    r1 = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "local.csv")])
    r2 = CliRunner().invoke(
        app, [*args, "-o", str(tmp_path / "dist.csv"), "--scheduler", lc.scheduler_address]
    )
    assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)
    assert "6 points" in r1.output
    local, dist = (tmp_path / "local.csv").read_text(), (tmp_path / "dist.csv").read_text()
    assert local == dist
    assert len(pd.read_csv(tmp_path / "local.csv")) == 6
    assert not (tmp_path / "local.csv.parts").exists()


def test_killed_worker_is_survived(cluster: Any) -> None:
    """A worker killed mid-sweep: the scheduler reruns its partition and the table is complete."""
    lc, client = cluster
    grid = {"cluster.count": list(range(1000, 1040))}
    pids = client.run(os.getpid)
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if done > 0 and not killed:
            busy = [addr for addr, keys in client.processing().items() if keys]
            assert busy, "no partition in flight to lose"
            os.kill(pids[busy[0]], signal.SIGKILL)  # with the partition it is running
            killed.append(pids[busy[0]])

    df = truecost.sweep(
        uncertain_dsv3(), grid, samples=20_000, seed=2, scheduler=client, partition=4, progress=progress
    )
    assert killed
    expected = truecost.sweep(uncertain_dsv3(), grid, samples=20_000, seed=2, scheduler="sync")
    pd.testing.assert_frame_equal(df, expected)
    client.wait_for_workers(2, timeout=30)  # the nanny restarts it for the next test
    assert killed[0] not in client.run(os.getpid).values()


class Interrupt(Exception):
    pass


def test_resume_skips_finished_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sweep.parquet"
    grid = {"cluster.count": [1000 + 8 * i for i in range(10)]}
    kw: dict[str, Any] = dict(samples=100, seed=5, scheduler="sync", partition=2, output=out)

    def stop_after_two(done: int, total: int) -> None:
        if done >= 4:
            raise Interrupt

    with pytest.raises(Interrupt):
        truecost.sweep(uncertain_dsv3(), grid, progress=stop_after_two, **kw)
    parts = tmp_path / "sweep.parquet.parts"
    stamps = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*")}
    assert len(stamps) == 2 and all(name.endswith(".parquet") for name in stamps)
    finished = {int(name[5:11]) * 2 for name in stamps}  # first point of each finished partition
    assert not out.exists()

    with pytest.raises(ScenarioError) as info:  # no silent restart over an unfinished sweep
        truecost.sweep(uncertain_dsv3(), grid, **kw)
    assert info.value.field == "resume"
    with pytest.raises(ScenarioError) as info:  # nor a resume of a different sweep
        truecost.sweep(uncertain_dsv3(), grid, **(kw | {"samples": 200}), resume=True)
    assert "samples" in str(info.value)

    ran: list[int] = []
    real = sweep_mod.run_partition

    def counting(raw: Any, paths: Any, rows: Any, start: int, *a: Any) -> Any:
        ran.append(start)
        assert {n: (parts / n).stat().st_mtime_ns for n in stamps} == stamps
        return real(raw, paths, rows, start, *a)

    monkeypatch.setattr(sweep_mod, "run_partition", counting)
    seen: list[int] = []
    df = truecost.sweep(uncertain_dsv3(), grid, resume=True, progress=lambda d, t: seen.append(d), **kw)
    assert sorted(ran) == sorted({0, 2, 4, 6, 8} - finished)
    assert seen[0] == 4
    assert not parts.exists()
    monkeypatch.undo()
    full = truecost.sweep(uncertain_dsv3(), grid, samples=100, seed=5, scheduler="sync")
    pd.testing.assert_frame_equal(df, full)
    pd.testing.assert_frame_equal(pd.read_parquet(out), full)


def test_latin_hypercube_points_and_sweep() -> None:
    pts = sweep_mod.latin_hypercube({"cluster.count": (1024, 4096), "cluster.mfu": (0.3, 0.5)}, 20, seed=7)
    assert len(pts) == 20
    assert pts["cluster.count"].dtype.kind == "i"
    assert pts["cluster.count"].between(1024, 4096).all() and pts["cluster.mfu"].between(0.3, 0.5).all()
    # one point in each of the 20 strata of each range
    assert sorted(((pts["cluster.mfu"] - 0.3) / 0.2 * 20).astype(int)) == list(range(20))
    pd.testing.assert_frame_equal(
        pts, sweep_mod.latin_hypercube({"cluster.count": (1024, 4096), "cluster.mfu": (0.3, 0.5)}, 20, seed=7)
    )
    raw = copy.deepcopy(load_raw("gpt-3"))
    del raw["cluster"]["gpu_hours"]  # so that GPU-hours follow from FLOPs and MFU
    df = truecost.sweep(raw, pts)
    assert len(df) == 20 and df["cluster.mfu"].tolist() == pts["cluster.mfu"].tolist()
    # fixed FLOPs: GPU-hours scale as 1 / MFU
    assert_allclose(df["gpu_hours"] * df["cluster.mfu"], (df["gpu_hours"] * df["cluster.mfu"]).iloc[0])


@pytest.mark.parametrize(
    ("grid", "field", "words"),
    [
        ({"cluster.cont": [1]}, "cluster.cont", "unknown key"),
        ({"cluster.count": [1024, -1]}, "cluster.count", "-1"),
        ({"cluster.accelerator": ["h100-sxm", "zz"]}, "cluster.accelerator", "'zz'"),
        ({"fleet[0].count": [1]}, "fleet[0].count", "not a list"),
        ({"cluster..count": [1]}, "cluster..count", "path"),
        ({"cluster.count": []}, "cluster.count", "no values"),
    ],
)
def test_bad_path_or_value_fails_before_any_work(
    grid: dict[str, Any], field: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_mod, "run_partition", lambda *a: pytest.fail("work started"))
    with pytest.raises(ScenarioError) as info:
        truecost.sweep("deepseek-v3", grid)
    assert info.value.field == field
    assert words in str(info.value)


def test_limits_on_work() -> None:
    with pytest.raises(ScenarioError, match="limit") as info:
        truecost.sweep(
            "deepseek-v3", {"cluster.count": list(range(1, 1001)), "training.tokens": list(range(1, 1002))}
        )
    assert info.value.field == "grid"
    with pytest.raises(ScenarioError, match="limit") as info:
        truecost.sweep("deepseek-v3", {"cluster.count": list(range(1, 1001))}, samples=20_000_000)
    assert info.value.field == "samples"


def test_cli_bad_input_exit_2_names_field(tmp_path: Path) -> None:
    out = str(tmp_path / "x.csv")
    for args, field in [
        (["--set", "cluster.count=1024,abc"], "cluster.count"),
        (["--set", "pricing.rental_usd_per_gpu_hour"], "pricing.rental_usd_per_gpu_hour"),
        (["--lhs", "4", "cluster.mfu=0.5:0.3"], "cluster.mfu"),
        ([], "set"),
    ]:
        r = CliRunner().invoke(app, ["sweep", "deepseek-v3", *args, "-o", out])
        assert r.exit_code == 2, r.output
        assert f"error: {field}" in r.output
        assert "Traceback" not in r.output
    assert not Path(out).exists()


def test_cli_lhs_parquet(tmp_path: Path) -> None:
    out = tmp_path / "lhs.parquet"
    args = ["sweep", "gpt-3", "--lhs", "8", "cluster.mfu=0.2:0.4", "cluster.count=512:2048", "--seed", "1"]
    r = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out)
    assert len(df) == 8 and df["cluster.mfu"].between(0.2, 0.4).all()


def test_parse_helpers() -> None:
    assert sweep_mod.parse_set("cluster.mfu={ci90: [0.3, 0.5]},0.4") == (
        "cluster.mfu",
        [{"ci90": [0.3, 0.5]}, 0.4],
    )
    assert sweep_mod.parse_set("training.tokens=14.8e12") == ("training.tokens", [14.8e12])
    assert sweep_mod.parse_path("a[2].b[0]") == ("a", 2, "b", 0)


def test_frontier_example_sweeps_hardware_generations() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "frontier-trend.yaml"
    grid = {"cluster.accelerator": ["a100-sxm4-80gb", "h100-sxm", "b200"]}
    df = truecost.sweep(str(path), grid, samples=500, seed=1)
    assert (df["error"] if "error" in df else pd.Series([""])).eq("").all()
    # the same FLOPs take fewer GPU-hours on each newer generation
    assert df["gpu_hours_p50"].is_monotonic_decreasing
    assert (df["final_run_cost_usd_p5"] < df["final_run_cost_usd_p95"]).all()


def test_report_charts_a_sweep_file(tmp_path: Path) -> None:
    from truecost.report.sweep import sweep_figure

    src = tmp_path / "s.parquet"
    truecost.sweep(uncertain_dsv3(), GRID, samples=200, seed=1, output=src)
    fig = sweep_figure(pd.read_parquet(src), x="pricing.rental_usd_per_gpu_hour")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 2  # one per cluster.count
    assert len(ax.collections) == 2  # each with its p5-p95 band
    for out in ("c.png", "c.html", "c.md"):
        r = CliRunner().invoke(app, ["report", str(src), "-o", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in (tmp_path / "c.html").read_text()
    assert (tmp_path / "c-sweep.png").exists()
    r = CliRunner().invoke(app, ["report", str(src), "-o", str(tmp_path / "d.png"), "--y", "nope"])
    assert r.exit_code == 2 and "error: y" in r.output and "final_run_cost_usd" in r.output


def test_product_rows_by_index_match_itertools() -> None:
    import itertools

    grid = {"a.b": [1, 2, 3], "c.d": ["x", "y"], "e.f": [5, 6, 7, 8]}
    pts = sweep_mod._Points(grid)
    full = list(itertools.product(*grid.values()))
    assert pts.rows(0, pts.n) == full
    assert pts.rows(5, 9) == full[5:9]


def test_interrupted_before_any_part_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"

    def stop(done: int, total: int) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        truecost.sweep("deepseek-v3", GRID, output=out, progress=stop)
    assert list(tmp_path.iterdir()) == []
    assert len(truecost.sweep("deepseek-v3", GRID, output=out)) == 6  # no --resume needed


def test_final_file_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "s.csv"
    out.write_text("old table\n")

    def fail_midway(self: pd.DataFrame, path: Any, *a: Any, **k: Any) -> None:
        Path(path).write_text("half a tab")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        truecost.sweep("deepseek-v3", {"cluster.count": COUNTS}, output=out)
    assert out.read_text() == "old table\n"  # the old file is left whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.csv.parts"]  # no temp file
    monkeypatch.undo()
    # the finished parts are kept, so the sweep resumes and then replaces the file
    df = truecost.sweep("deepseek-v3", {"cluster.count": COUNTS}, output=out, resume=True)
    assert_allclose(pd.read_csv(out)["wall_clock_days"], df["wall_clock_days"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_points_file_pairs_inputs_row_by_row(tmp_path: Path) -> None:
    pts = tmp_path / "p.csv"
    pts.write_text(
        "# rate and count move together\n"
        "pricing.rental_usd_per_gpu_hour,cluster.count,pricing.date\n"
        "1.5,1024,2024-07\n2.5,2048,2025\n"
    )
    got = sweep_mod.read_points(pts)
    assert got.to_dict("list") == {
        "pricing.rental_usd_per_gpu_hour": [1.5, 2.5],
        "cluster.count": [1024, 2048],
        "pricing.date": ["2024-07", 2025],
    }
    out = tmp_path / "o.csv"
    r = CliRunner().invoke(app, ["sweep", "deepseek-v3", "--points", str(pts), "-o", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert len(df) == 2  # two points, not the 2x2 product
    assert_allclose(df["final_run_cost_usd"], [1.5 * DSV3_GPU_HOURS, 2.5 * DSV3_GPU_HOURS], rtol=1e-6)
    bad = tmp_path / "bad.csv"
    for text, msg in [
        ("cluster..count\n1\n", "field path"),
        ("cluster.count,cluster.mfu\n1024\n", "line 2 has 1 cells"),
        ("cluster.count\n", "one row per point"),
    ]:
        bad.write_text(text)
        with pytest.raises(ScenarioError, match=msg):
            sweep_mod.read_points(bad)
    r = CliRunner().invoke(
        app, ["sweep", "deepseek-v3", "--points", str(pts), "--set", "cluster.count=1", "-o", str(out)]
    )
    assert r.exit_code == 2 and "points" in r.output


def test_frontier_by_year_example_and_trend_chart(tmp_path: Path) -> None:
    from truecost.report.sweep import growth_per_year, sweep_figure

    root = Path(__file__).resolve().parent.parent / "examples"
    out = tmp_path / "by-year.csv"
    df = truecost.sweep(
        str(root / "frontier-by-year.yaml"),
        sweep_mod.read_points(root / "frontier-by-year.csv"),
        samples=500,
        seed=1,
        output=out,
    )
    assert len(df) == 11 and "error" not in df
    assert df["training.start_date"].tolist() == [f"{y}-07" for y in range(2020, 2031)]
    assert df["final_run_cost_usd_p50"].is_monotonic_increasing
    assert (df["final_run_cost_usd_p5"] < df["final_run_cost_usd_p95"]).all()
    years = np.arange(2020, 2031) + 0.5
    assert 2.0 < growth_per_year(years, df["final_run_cost_usd_p50"]) < 3.4
    # the accelerator, FLOPs and count move with the year: one line, not one per point
    fig = sweep_figure(pd.read_csv(out), x="training.start_date", trend=2.4)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 2 and "fitted" in labels[0] and labels[1] == "reference: 2.4x a year"
    assert ax.get_xlim()[0] > 2019 and ax.get_yscale() == "log"
    r = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "c.html"), "--trend", "2.4"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app,
        ["report", str(out), "-o", str(tmp_path / "c.png"), "--x", "cluster.accelerator", "--trend", "2.4"],
    )
    assert r.exit_code == 2 and "error: trend" in r.output


def test_sweep_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Dask/pandas/pyarrow (a plain `pip install truecost`), `truecost sweep` exits 2 and
    names the extra, instead of an internal error."""
    import importlib.util

    from typer.testing import CliRunner

    from truecost.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda m, *a: None if m == "pandas" else real(m, *a))
    res = CliRunner().invoke(app, ["sweep", "deepseek-v3", "--set", "cluster.count=1024,2048", "-o", "x.csv"])
    assert res.exit_code == 2
    assert "truecost[sweep]" in res.output and "pandas" in res.output
