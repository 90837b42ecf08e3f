"""Bounded work in the web server: the deadline kills a job, a disconnecting client cancels its
job, a busy lane answers 503 at once, a preset answers within 1 s with 40 expensive requests in
flight, and SIGTERM stops the server within 5 s (a live `truecost serve` on loopback)."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_load.py"
spec = importlib.util.spec_from_file_location("bench_load", BENCH)
assert spec is not None and spec.loader is not None
bench: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

HEAVY = {"scenario": "deepseek-lab", "samples": 300_000}
DEADLINE_S = 1.0


def _in_thread(fn: Any, *args: Any) -> Any:
    """Run `fn` (which calls asyncio.run) in a thread of its own: the browser tests' Playwright
    keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out |= {int(x) for x in text}
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, Any]]:
    if not Path("/proc/self/task").exists():
        pytest.skip("needs Linux /proc")
    port = bench.free_port()
    proc = bench.start_server(port, warm="deepseek-v3", deadline_s=DEADLINE_S)
    yield port, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_deadline_kills_the_job_and_the_lane_recovers(server: tuple[int, Any]) -> None:
    port, proc = server
    before = _children(proc.pid)
    base = f"http://127.0.0.1:{port}"
    t = time.monotonic()
    r = httpx.post(
        f"{base}/api/report", json={"scenario": "deepseek-lab", "samples": 1_000_000, "seed": 3}, timeout=30
    )
    assert r.status_code == 422 and r.json()["detail"]["field"] == "samples", r.text[:300]
    assert f"limit of {DEADLINE_S:g} s" in r.json()["detail"]["message"]
    assert time.monotonic() - t < DEADLINE_S + 1.5
    assert not _children(proc.pid) >= before  # the worker was killed (and replaced)
    for _ in range(20):  # the replacement takes work once it has imported truecost
        ok = httpx.post(
            f"{base}/api/estimate", json={"scenario": "deepseek-lab", "samples": 100, "seed": 1}, timeout=30
        )
        if ok.status_code == 200:
            break
        time.sleep(0.5)
    assert ok.status_code == 200, ok.text[:300]


def test_a_client_that_disconnects_cancels_its_work(server: tuple[int, Any]) -> None:
    port, proc = server
    before = _children(proc.pid)
    body = b'{"scenario": "deepseek-lab", "samples": 1000000, "seed": 7}'
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(
            b"POST /api/estimate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        time.sleep(0.5)  # the job is running in a worker
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and _children(proc.pid) >= before:
        time.sleep(0.05)
    assert not _children(proc.pid) >= before, "the worker running the abandoned job is still alive"


def test_preset_answers_within_1s_under_40_expensive_requests(server: tuple[int, Any]) -> None:
    port, _ = server
    res = _in_thread(asyncio.run, bench.preset_under_load(f"http://127.0.0.1:{port}", 40, HEAVY, wait=False))
    assert res["preset_max_s"] < 1.0, res
    assert res["small_status"] == 200 and res["small_object_s"] < 2.0, res
    # The slow lane's queue is bounded: the rest are refused at once, in the one error shape.
    assert res["expensive_status"].get(503, 0) >= 20, res
    assert set(res["busy_detail"]) == {"field", "message"} and res["busy_retry_after"], res


def test_sigterm_stops_the_server_within_5s(server: tuple[int, Any]) -> None:
    port, proc = server
    assert _in_thread(bench.sigterm_stop_s, port, proc, 40, HEAVY) < 5.0
