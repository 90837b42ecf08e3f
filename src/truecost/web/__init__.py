"""The local web calculator (FastAPI + uvicorn): `truecost serve`.

Routes: the calculator page at /, a self-contained API reference at /docs (spec at
/openapi.json), and the JSON API under /api (see `truecost.web.app`).
"""

from __future__ import annotations

from .app import BODY_CAP_BYTES, SAMPLES_CAP, create_app

__all__ = ["BODY_CAP_BYTES", "SAMPLES_CAP", "create_app", "serve"]


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the calculator until interrupted. Binds to loopback unless told otherwise."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
