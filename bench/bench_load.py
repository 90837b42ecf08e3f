"""Bounded loopback load test of `truecost serve` (issue 13). Prints figures; not a test.

Starts the server on a free loopback port, then for a fixed time sends a mix of cheap
requests (a preset's point estimate, the preset list, a small scenario object) and expensive
ones (1,000,000-sample runs, a 900k-row layout search refused up front, a full HTML report)
from a fixed number of concurrent clients. Reports throughput and p50/p95/p99 latency per kind
and status counts; then checks the two promises of issue 13: with 40 expensive requests in
flight a preset estimate answers within 1 s, and SIGTERM stops the server within 5 s.

    python bench/bench_load.py [--seconds 20] [--clients 16]

Loopback only: the server binds 127.0.0.1 and the clients talk to it there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import httpx

SMALL = {"training": {"flops": 1e24}, "cluster": {"accelerator": "h800", "count": 2048, "mfu": 0.35}}
SEARCH_TOO_BIG = {
    "model": "kimi-k2",
    "training": {"tokens": 1.0e13, "global_batch": 322560},
    "cluster": {"accelerator": "h100-sxm", "count": 40320},
}
# (kind, weight, method, path, json body)
MIX: list[tuple[str, int, str, str, Any]] = [
    ("preset estimate", 4, "POST", "/api/estimate", {"scenario": "deepseek-v3"}),
    ("preset list", 2, "GET", "/api/presets", None),
    ("small object", 2, "POST", "/api/estimate", {"scenario": SMALL}),
    (
        "1M samples",
        2,
        "POST",
        "/api/estimate",
        {"scenario": "deepseek-lab", "samples": 1_000_000, "seed": None},
    ),
    ("search too big", 1, "POST", "/api/estimate", {"scenario": SEARCH_TOO_BIG}),
    ("report", 1, "POST", "/api/report", {"scenario": "deepseek-lab"}),
]
EXPENSIVE = {"scenario": "deepseek-lab", "samples": 1_000_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, warm: str = "deepseek-lab", deadline_s: float = 20.0) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "truecost.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--deadline",
            str(deadline_s),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=1).status_code == 200:
                # the preset cache is warmed in the background: wait for it
                t = time.monotonic()
                httpx.post(f"http://127.0.0.1:{port}/api/estimate", json={"scenario": warm}, timeout=60)
                if time.monotonic() - t < 1:
                    return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def load(base: str, seconds: float, clients: int, seed: int = 0) -> dict[str, Any]:
    import random

    rng = random.Random(seed)
    weighted = [m for m in MIX for _ in range(m[1])]
    lat: dict[str, list[float]] = defaultdict(list)
    status: dict[str, Counter[int]] = defaultdict(Counter)
    end = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one_client() -> None:
            while time.monotonic() < end:
                kind, _, method, path, body = rng.choice(weighted)
                if body is not None and body.get("seed", 0) is None:
                    body = {**body, "seed": rng.randrange(1 << 30)}  # not cached
                t = time.monotonic()
                r = await client.request(method, path, json=body)
                lat[kind].append(time.monotonic() - t)
                status[kind][r.status_code] += 1
                if r.status_code == 503:
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")) * rng.random())

        t0 = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.monotonic() - t0
    return {"wall_s": wall, "latency": dict(lat), "status": {k: dict(v) for k, v in status.items()}}


async def preset_under_load(
    base: str, expensive: int = 40, body: dict[str, Any] = EXPENSIVE, wait: bool = True
) -> dict[str, Any]:
    """Start `expensive` 1M-sample requests at once; while they are in flight, time a preset.
    `wait=False` abandons the expensive requests once timed (their clients disconnect)."""
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=httpx.Limits(max_connections=100)) as c:
        heavy = [
            asyncio.create_task(c.post("/api/estimate", json={**body, "seed": i})) for i in range(expensive)
        ]
        await asyncio.sleep(0.5)
        times = []
        for _ in range(5):
            t = time.monotonic()
            r = await c.post("/api/estimate", json={"scenario": "deepseek-v3"})
            assert r.status_code == 200, r.text
            times.append(time.monotonic() - t)
        small_t = time.monotonic()
        small = await c.post("/api/estimate", json={"scenario": SMALL})
        small_s = time.monotonic() - small_t
        if wait:
            done = list(await asyncio.gather(*heavy))
        else:
            done = [t.result() for t in heavy if t.done() and not t.exception()]
            for t in heavy:
                t.cancel()
            await asyncio.gather(*heavy, return_exceptions=True)
    busy = next((r for r in done if r.status_code == 503), None)
    return {
        "preset_max_s": max(times),
        "small_object_s": small_s,
        "small_status": small.status_code,
        "expensive_status": dict(Counter(r.status_code for r in done)),
        "busy_detail": busy.json()["detail"] if busy is not None else None,
        "busy_retry_after": busy.headers.get("retry-after") if busy is not None else None,
    }


def sigterm_stop_s(
    port: int, proc: subprocess.Popen[bytes], expensive: int = 40, body: dict[str, Any] = EXPENSIVE
) -> float:
    """Put `expensive` requests in flight, send SIGTERM, time until the server has exited."""
    base = f"http://127.0.0.1:{port}"

    async def fire() -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=100)
        ) as c:
            tasks = [
                asyncio.create_task(c.post("/api/estimate", json={**body, "seed": 1000 + i}))
                for i in range(expensive)
            ]
            await asyncio.sleep(1.0)
            t = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            while proc.poll() is None and time.monotonic() - t < 30:
                await asyncio.sleep(0.05)
            stop["s"] = time.monotonic() - t
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    stop: dict[str, float] = {}
    asyncio.run(fire())
    return stop["s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the mixed load phase")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients in the mixed load")
    args = ap.parse_args()

    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        res = asyncio.run(load(base, args.seconds, args.clients))
        n = sum(len(v) for v in res["latency"].values())
        print(f"machine: {os.cpu_count()} cores; {args.clients} clients for {res['wall_s']:.1f} s")
        print(f"throughput: {n / res['wall_s']:.1f} requests/s ({n} requests)")
        print(f"{'kind':18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
        for kind, xs in res["latency"].items():
            print(
                f"{kind:18} {len(xs):5d} {1e3 * pct(xs, 0.5):8.0f} {1e3 * pct(xs, 0.95):8.0f} "
                f"{1e3 * pct(xs, 0.99):8.0f}  {res['status'][kind]}"
            )
        under = asyncio.run(preset_under_load(base))
        print(
            f"40 x 1M-sample requests in flight: preset estimate max {1e3 * under['preset_max_s']:.0f} ms; "
            f"small object {1e3 * under['small_object_s']:.0f} ms ({under['small_status']}); "
            f"the 40 answered {under['expensive_status']}"
        )
        print(f"SIGTERM with 40 expensive requests in flight: stopped in {sigterm_stop_s(port, proc):.2f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
