"""The local web calculator (FastAPI + uvicorn): `truecost serve`.

Routes: the calculator page at /, a self-contained API reference at /docs (spec at
/openapi.json), and the JSON API under /api (see `truecost.web.app`).
"""

from __future__ import annotations

from .app import BODY_CAP_BYTES, DEADLINE_S, SAMPLES_CAP, create_app

__all__ = ["BODY_CAP_BYTES", "SAMPLES_CAP", "create_app", "serve"]


# On SIGTERM or Ctrl-C, requests still running after this many seconds are cancelled (their
# worker processes killed), so the server stops within a few seconds whatever it is doing.
GRACEFUL_SHUTDOWN_S = 2


def serve(host: str = "127.0.0.1", port: int = 8000, deadline_s: float = DEADLINE_S) -> None:
    """Run the calculator until interrupted. Binds to loopback unless told otherwise."""
    import uvicorn

    uvicorn.run(
        create_app(deadline_s=deadline_s, warm=True),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        limit_concurrency=1000,  # connections; beyond it uvicorn answers 503 at once
    )
