"""Run the web app's computations in worker processes, each request with a deadline.

A request's estimate runs in a long-lived worker process (spawned once, truecost imported
once), never on the server's event loop or in its thread pool. The request waits for the
answer without blocking anything; if the deadline passes or the client goes away, the worker is
killed (SIGKILL: numpy holds no lock a kill could leave behind) and a fresh one is spawned in its
place. So a request can never keep a core busy after its client stopped waiting.

Work is split into lanes, each with its own workers and a bounded queue: point estimates that
need no layout search go to the "fast" lane; sample runs, reports and layout searches go to the
"slow" lane. When a lane's queue is full, a request is refused at once with 503 (and
Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# ---- the worker side -----------------------------------------------------------------------


def _job_estimate(scenario: Any, samples: int | None, seed: int | None) -> dict[str, Any]:
    from ..chain import estimate

    est = estimate(scenario, samples=samples, seed=seed)
    out: dict[str, Any] = est.to_dict()
    return out


def _job_report(scenario: Any, samples: int | None, seed: int | None) -> str:
    from ..report import html_report

    return html_report(scenario, samples, seed)


def _job_view(scenario: Any, samples: int | None, seed: int | None) -> dict[str, Any]:
    from .app import view_payload

    return view_payload(scenario, samples, seed)


def _job_compare(scenarios: list[Any]) -> dict[str, Any]:
    from ..analysis.compare import compare
    from ..report.compare import figures, side_by_side

    cmp = compare(scenarios)
    return {"scenarios": cmp.to_dict()["scenarios"], "table": side_by_side(cmp), "figures": figures(cmp)}


JOBS: dict[str, Callable[..., Any]] = {
    "estimate": _job_estimate,
    "report": _job_report,
    "view": _job_view,
    "compare": _job_compare,
}


def _warm() -> None:
    """Import what the jobs use, so that the first request does not pay for it."""
    from .. import chain, report  # noqa: F401
    from ..report import charts, content, html  # noqa: F401


def _worker_main(conn: Connection, memory_bytes: int | None = None, nice: int = 0) -> None:
    # The server handles SIGINT/SIGTERM; a worker only ever stops by being told or killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the server's priority: however busy the workers, the event loop that answers cached
    # presets and refuses bad input gets the CPU first.
    with contextlib.suppress(Exception):
        os.nice(nice)
    if memory_bytes:  # a job over its share of memory gets MemoryError, not the machine's OOM killer
        with contextlib.suppress(Exception):
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(Exception):
        _warm()
    try:
        conn.send(("ready", None))  # only now does the server hand this worker a job
    except (OSError, EOFError):
        return
    while True:
        try:
            kind, args = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):  # the server went away
            return
        try:
            conn.send(("ok", JOBS[kind](*args)))
        except ValueError as exc:  # TruecostError, ScenarioError, UnknownIdError: the client's input
            from .app import field_of

            conn.send(("user", field_of(exc)))
        except (RecursionError, MemoryError) as exc:
            conn.send(("user", ("scenario", f"the input is too large to process ({type(exc).__name__})")))
        except Exception as exc:
            conn.send(("internal", f"{type(exc).__name__}: {exc}"))


# ---- the server side -----------------------------------------------------------------------


class Busy(Exception):
    """Every worker of a lane is busy and its queue is full: answer 503 and Retry-After."""


class Deadline(Exception):
    """The job ran past its deadline and was killed."""


class Gone(Exception):
    """The client disconnected; its job was killed."""


class JobFailed(Exception):
    """The job raised: `user` (field, message) for bad input, else an internal error."""

    def __init__(self, kind: str, payload: Any):
        super().__init__(str(payload))
        self.kind = kind
        self.payload = payload


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.process.join(timeout=1)


def _spawn(memory_bytes: int | None = None, nice: int = 0) -> _Worker:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_worker_main, args=(child, memory_bytes, nice), daemon=True, name="truecost-worker"
    )
    proc.start()
    child.close()
    return _Worker(proc, parent)


class Lane:
    """`size` worker processes and at most `queue` requests waiting for one."""

    def __init__(self, name: str, size: int, queue: int, memory_bytes: int | None = None, nice: int = 0):
        self.name = name
        self.nice = nice
        self.memory_bytes = memory_bytes
        self.size = size
        self.queue = queue
        self.waiting = 0
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._closed = False

    def start(self) -> None:
        if self._idle is not None:
            return
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._add_when_ready(_spawn(self.memory_bytes, self.nice))

    def _add_when_ready(self, w: _Worker) -> None:
        """Put a new worker in the idle queue once it says it is ready (truecost imported), so
        that a request's deadline never pays for a worker's start."""
        self._all.add(w)
        loop = asyncio.get_running_loop()
        fd = w.conn.fileno()

        def ready() -> None:
            loop.remove_reader(fd)
            try:
                status, _ = w.conn.recv()
            except (EOFError, OSError):
                status = "dead"
            if status == "ready" and not self._closed and self._idle is not None:
                self._idle.put_nowait(w)
            else:
                w.kill()
                self._all.discard(w)

        loop.add_reader(fd, ready)

    def close(self) -> None:
        self._closed = True
        for w in list(self._all):
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(w.conn.fileno())
            w.kill()
        self._all.clear()

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self._all.discard(w)
        if self._closed or self._idle is None:
            return
        self._add_when_ready(_spawn(self.memory_bytes, self.nice))

    async def run(
        self,
        kind: str,
        args: tuple[Any, ...],
        deadline_s: float,
        disconnected: Callable[[], Awaitable[bool]] | None = None,
    ) -> Any:
        """Run JOBS[kind](*args) in a worker; raise Busy, Deadline, Gone or JobFailed."""
        self.start()
        assert self._idle is not None
        end = time.monotonic() + deadline_s
        if self._idle.empty() and self.waiting >= self.queue:
            raise Busy(self.name)
        self.waiting += 1
        try:
            w = await asyncio.wait_for(self._idle.get(), timeout=max(0.01, end - time.monotonic()))
        except TimeoutError:
            raise Busy(self.name) from None
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        fd = w.conn.fileno()
        try:
            w.conn.send((kind, args))

            def wake() -> None:
                if not done.done():
                    done.set_result(None)

            loop.add_reader(fd, wake)
            while not done.done():
                left = end - time.monotonic()
                if left <= 0:
                    raise Deadline(self.name)
                await asyncio.wait({done}, timeout=min(0.1, left))
                if not done.done() and disconnected is not None and await disconnected():
                    raise Gone(self.name)
            status, payload = w.conn.recv()
        except (EOFError, OSError):  # the worker died (killed from outside, or out of memory)
            loop.remove_reader(fd)
            self._replace(w)
            raise JobFailed("internal", "the worker process stopped") from None
        except BaseException:  # Deadline, Gone, the server cancelling the request: kill the job
            loop.remove_reader(fd)
            self._replace(w)
            raise
        loop.remove_reader(fd)
        self._idle.put_nowait(w)
        if status != "ok":
            raise JobFailed(status, payload)
        return payload


def default_sizes() -> tuple[int, int]:
    """(fast, slow) worker counts: one fast worker; the slow lane gets the other cores (>= 1, <= 4)."""
    cores = os.cpu_count() or 1
    return 1, max(1, min(4, cores - 1))


class InlineLane:
    """The same interface without processes (for tests that patch the library in this process):
    jobs run in a thread; the deadline is enforced on the answer but the work is not killed."""

    def __init__(self, name: str, size: int, queue: int):
        self.name = name
        self.size = size
        self.queue = queue
        self.running = 0

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def run(
        self,
        kind: str,
        args: tuple[Any, ...],
        deadline_s: float,
        disconnected: Callable[[], Awaitable[bool]] | None = None,
    ) -> Any:
        if self.running >= self.size + self.queue:
            raise Busy(self.name)
        self.running += 1
        try:
            try:
                return await asyncio.wait_for(asyncio.to_thread(JOBS[kind], *args), timeout=deadline_s)
            except TimeoutError:
                raise Deadline(self.name) from None
            except ValueError as exc:
                from .app import field_of

                raise JobFailed("user", field_of(exc)) from None
            except (RecursionError, MemoryError) as exc:
                raise JobFailed(
                    "user", ("scenario", f"the input is too large ({type(exc).__name__})")
                ) from None
            except Exception as exc:
                raise JobFailed("internal", f"{type(exc).__name__}: {exc}") from None
        finally:
            self.running -= 1
