"""The local web calculator: a FastAPI app with a JSON API and one page (vanilla JS, no CDN).

Every route is a thin call into the library. User errors are HTTP 422 naming the field
(`{"detail": {"field": "training.tokens", "message": "..."}}`); anything else is a generic 500
without a traceback. The app reads no files named by the client: a string scenario must be a
preset name.
"""

from __future__ import annotations

import html
import json
import logging
import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__

log = logging.getLogger("truecost.web")

SAMPLES_CAP = 1_000_000
BODY_CAP_BYTES = 1 << 20  # 1 MiB: a scenario is a few KB; a pasted YAML file, tens
STATIC_DIR = Path(__file__).parent / "static"


class UserError(Exception):
    """A request the client must change: answered with `status` and the field at fault."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def error_body(field: str, message: str) -> dict[str, Any]:
    return {"detail": {"field": field, "message": message}}


class ErrorDetail(BaseModel):
    field: str | None = Field(description="The input at fault: a dotted scenario path, or a request field.")
    message: str


class ErrorBody(BaseModel):
    """Every error answer: 422 for input to change, 404 for an unknown name, 413 for a body over the limit."""

    detail: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": about}
    for code, about in ((404, "Unknown name"), (413, "Request body over the limit"), (422, "Input to change"))
}


# ---- request bodies ------------------------------------------------------------------------------
class ScenarioRequest(BaseModel):
    """A scenario to run: a preset name or the scenario itself (the YAML file's shape, as JSON)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | dict[str, Any] = Field(
        description="A preset name (GET /api/presets) or a scenario object; file paths are refused.",
        examples=["deepseek-v3"],
    )
    samples: int | None = Field(
        None, ge=2, description="Monte Carlo trials (at most the server's cap, 1,000,000 by default)."
    )
    seed: int | None = Field(
        None, ge=0, description="Random seed; the same seed gives exactly the same output."
    )


class CompareRequest(BaseModel):
    """Two to four scenarios (preset names or scenario objects) to run side by side."""

    model_config = ConfigDict(extra="forbid")

    scenarios: list[str | dict[str, Any]] = Field(
        min_length=2, max_length=4, description="The first is the base of the ratios."
    )


class YamlText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str = Field(description="A scenario file's text (YAML).")


class ScenarioOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str | dict[str, Any] = Field(description="A preset name or a scenario object.")


# ---- limits --------------------------------------------------------------------------------------
class BodyLimit:
    """Refuses request bodies over `cap` bytes with 413: by Content-Length, and by the bytes
    actually received (a chunked or lying client cannot get past it)."""

    def __init__(self, app: ASGIApp, cap: int):
        self.app = app
        self.cap = cap

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        msg = f"request body over the limit of {self.cap:,} bytes"
        await JSONResponse(error_body("body", msg), status_code=413)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.cap):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.cap:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# ---- helpers -------------------------------------------------------------------------------------
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]-]*): (.+)$", re.S)


def _field_of(exc: Exception) -> tuple[str, str]:
    """(field, message) of a library error; the field from `.field` or the message's prefix."""
    message = str(exc)
    field = getattr(exc, "field", None)
    if field:
        message = message.removeprefix(f"{field}: ")
    else:
        m = _FIELD_PREFIX.match(message)
        field, message = (m.group(1), m.group(2)) if m else ("scenario", message)
    return re.sub(r"\[(\d+)\]", r".\1", str(field)), message


def resolve(scenario: str | dict[str, Any]) -> str | dict[str, Any]:
    """A preset name or a scenario dict; anything else (a path, an unknown name) is refused."""
    if isinstance(scenario, dict):
        return scenario
    from ..scenario import preset_names

    names = preset_names()
    if scenario not in names:
        raise UserError(
            "scenario",
            f"{scenario[:80]!r} is not a preset name; the server reads no files, so send the scenario "
            f"itself as a JSON object. Presets: {', '.join(names)}",
        )
    return scenario


def check_samples(samples: int | None, cap: int) -> None:
    if samples is not None and samples > cap:
        raise UserError("samples", f"{samples:,} samples requested; this server allows at most {cap:,}")


MAX_NODES = 100_000  # far above any real scenario; stops YAML alias bombs before they reach JSON


def check_size(obj: Any) -> None:
    """Refuse a parsed document with more than MAX_NODES values once aliases are expanded."""
    budget = MAX_NODES
    stack = [obj]
    while stack:
        budget -= 1
        if budget < 0:
            raise UserError(
                "yaml", f"the scenario has more than {MAX_NODES:,} values (YAML aliases expanded)"
            )
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def _template(name: str) -> str:
    return resources.files("truecost.web").joinpath("templates", name).read_text(encoding="utf-8")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "scenario"


def index_page() -> str:
    from ..scenario import preset_summaries

    options = "".join(
        f'<option value="{html.escape(p["id"])}" title="{html.escape(p["description"])}">'
        f"{html.escape(p['name'])} ({html.escape(p['id'])})</option>"
        for p in preset_summaries()
    )
    from ..report.html import script_json
    from .page import field_help

    return Template(_template("index.html")).substitute(
        presets=options, version=html.escape(__version__), field_help=script_json(field_help())
    )


def docs_page(spec: dict[str, Any]) -> str:
    """A self-contained API reference generated from the OpenAPI spec (no Swagger UI, no CDN)."""
    e = html.escape
    parts = [
        f"<h1>{e(spec['info']['title'])} API {e(spec['info']['version'])}</h1>",
        f"<p>{e(spec['info'].get('description', ''))}</p>",
        '<p>Machine-readable spec: <a href="/openapi.json">/openapi.json</a>. Errors: '
        "<code>{&quot;detail&quot;: {&quot;field&quot;: ..., &quot;message&quot;: ...}}</code>; "
        "422 for input to change, 413 for a body over the size limit.</p>",
    ]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            parts.append(
                f'<section><h2><span class="method">{e(method.upper())}</span> <code>{e(path)}</code></h2>'
            )
            parts.append(f"<p><b>{e(op.get('summary', ''))}</b></p><p>{e(op.get('description', ''))}</p>")
            params = op.get("parameters", [])
            if params:
                rows = "".join(
                    f"<tr><td><code>{e(p['name'])}</code></td><td>{e(p.get('in', ''))}</td>"
                    f"<td>{e(p.get('description', ''))}</td></tr>"
                    for p in params
                )
                parts.append(f"<table><tr><th>parameter</th><th>in</th><th>about</th></tr>{rows}</table>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                ref = body.get("$ref", "")
                schema = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], body)
                parts.append(f"<p>Request body (JSON):</p><pre>{e(json.dumps(schema, indent=2))}</pre>")
            codes = ", ".join(f"{c} {r.get('description', '')}" for c, r in op.get("responses", {}).items())
            parts.append(f"<p class='muted'>Responses: {e(codes)}</p></section>")
    return Template(_template("docs.html")).substitute(body="\n".join(parts))


# ---- the app -------------------------------------------------------------------------------------
def create_app(samples_cap: int = SAMPLES_CAP, body_cap_bytes: int = BODY_CAP_BYTES) -> FastAPI:
    """The web calculator. `samples_cap` bounds Monte Carlo trials per request; bodies over
    `body_cap_bytes` are refused with 413."""
    app = FastAPI(
        title="truecost",
        version=__version__,
        description="What does it really cost to build this AI model? The truecost chain as a local JSON API.",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.add_middleware(BodyLimit, cap=body_cap_bytes)

    @app.exception_handler(UserError)
    async def _user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(error_body(exc.field, exc.message), status_code=exc.status)

    @app.exception_handler(ValueError)  # TruecostError, ScenarioError, UnknownIdError, CatalogError
    async def _value_error(_request: Request, exc: ValueError) -> JSONResponse:
        field, message = _field_of(exc)
        return JSONResponse(error_body(field, message), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        # Request bodies are flat (scenario, samples, seed, yaml): the first name is the field;
        # what follows is pydantic's union-member tag ("scenario.str"), not a path.
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "path", "query")]
        field = loc[0] if loc else "body"
        message = str(first.get("msg", "invalid request"))
        if field == "scenario" and len(loc) > 1:
            message = "expected a preset name (a string) or a scenario object"
        if first.get("type") == "json_invalid" or (not loc and first.get("type") == "model_attributes_type"):
            field, message = "body", "the request body must be a JSON object"
        return JSONResponse(error_body(field, message), status_code=422)

    @app.exception_handler(Exception)
    async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %r", exc)
        return JSONResponse({"detail": {"field": None, "message": "internal error"}}, status_code=500)

    def run(req: ScenarioRequest) -> Any:
        from ..chain import estimate

        check_samples(req.samples, samples_cap)
        return estimate(resolve(req.scenario), samples=req.samples, seed=req.seed)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return index_page()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return docs_page(app.openapi())

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        from ..report.html import plotly_js

        return Response(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/report.css", include_in_schema=False)
    def report_css() -> Response:
        from ..report.html import template

        return Response(template("report.css"), media_type="text/css")

    @app.get("/api/presets", summary="List the built-in scenarios")
    def presets() -> list[dict[str, str]]:
        """id, name and description of each preset."""
        from ..scenario import preset_summaries

        return preset_summaries()

    @app.get("/api/presets/{name}", summary="A preset's scenario (raw, as in its YAML file)")
    def preset(name: str) -> dict[str, Any]:
        """The preset as a scenario object, distributions untouched: edit it and POST it back."""
        from ..scenario import load_raw, preset_names

        if name not in preset_names():
            raise UserError(
                "name", f"no preset {name[:80]!r}; presets: {', '.join(preset_names())}", status=404
            )
        return load_raw(name)

    @app.get("/api/catalog/{kind}", summary="A shipped catalog: hardware, models or runs")
    def catalog(kind: str) -> list[dict[str, Any]]:
        """Catalog rows, each with its source and access date."""
        from ..catalog import CATALOG_KINDS, catalog_rows

        if kind not in CATALOG_KINDS:
            raise UserError(
                "kind", f"unknown catalog {kind!r}; valid: {', '.join(CATALOG_KINDS)}", status=404
            )
        return catalog_rows(kind)

    @app.post("/api/estimate", summary="Run a scenario through the chain")
    def estimate(req: ScenarioRequest) -> JSONResponse:
        """Exactly what `truecost estimate --json` prints (`Estimate.to_dict()`)."""
        return JSONResponse(run(req).to_dict())

    @app.post("/api/report", response_class=HTMLResponse, summary="The HTML report of a scenario")
    def report(req: ScenarioRequest) -> HTMLResponse:
        """One self-contained HTML file (plotly.js inlined), as `truecost report` writes it."""
        from ..report import html_report

        check_samples(req.samples, samples_cap)
        return HTMLResponse(
            html_report(resolve(req.scenario), req.samples, req.seed),
            headers={"Content-Disposition": 'inline; filename="truecost-report.html"'},
        )

    @app.post("/api/view", summary="Results, charts and HTML fragments for the calculator page")
    def view(req: ScenarioRequest) -> dict[str, Any]:
        """`estimate` (the --json output), plotly `figures` and escaped HTML fragments."""
        from ..report import html as rhtml
        from ..report.charts import charts, plotly_figure
        from ..report.content import gather
        from .page import page_sensitivity, ranked_table

        est = run(req)
        data = gather(est, page_sensitivity(est))
        keys = ("views", "waterfall", "breakdown", "distributions", "tornado", "serving")
        shown = [c for c in charts(data) if c.key in keys]
        figures = {c.key: plotly_figure(c) for c in shown}
        caption = {c.key: rhtml.tag("p", c.caption, class_="note") for c in shown}
        fragments = {
            "answer": rhtml.esc(data.answer),
            "cards": rhtml.cards(data.views),
            "mc_note": rhtml.tag("p", data.mc_note, class_="note mc-note") if data.mc_note else "",
            "views": rhtml.views_table(data.views),
            "waterfall": rhtml.join([caption["waterfall"], rhtml.waterfall_table(data)])
            if data.waterfall
            else "",
            "breakdown": rhtml.join(
                [
                    caption.get("breakdown", ""),
                    rhtml.breakdown_table(data) if data.breakdown else "",
                    rhtml.fleet_block(data),
                ]
            ),
            "references": rhtml.reference_table(data) if data.reference_points else "",
            "notes": rhtml.join(rhtml.tag("blockquote", n) for n in data.notes),
            "sensitivity": rhtml.join([caption.get("tornado", ""), rhtml.sobol_table(data)]),
            "ranked": ranked_table(est),
            "derivation": rhtml.derivation(data),
            "results": rhtml.results_table(data.results, data.samples is not None),
            "assumptions": rhtml.assumptions_table(data),
            "warnings": rhtml.warnings_block(data.warnings),
            "serving": rhtml.serving_block(data),
        }
        return {"estimate": est.to_dict(), "figures": figures, "html": fragments}

    @app.post("/api/compare", summary="Scenarios side by side, for the calculator page")
    def compare(req: CompareRequest) -> dict[str, Any]:
        """`scenarios` (each the --json output), an HTML `table` with ratios and plotly `figures`."""
        from ..analysis.compare import compare as run_compare
        from ..report.compare import figures, side_by_side

        cmp = run_compare([resolve(s) for s in req.scenarios])
        return {"scenarios": cmp.to_dict()["scenarios"], "table": side_by_side(cmp), "figures": figures(cmp)}

    @app.post("/api/scenario/parse", summary="Read a scenario file's text (YAML) into a scenario object")
    def parse(body: YamlText) -> dict[str, Any]:
        """For the page's paste and upload: the YAML as JSON. Checks the syntax, not the values."""
        from ..scenario import parse_yaml

        raw = parse_yaml(body.yaml, "yaml")
        check_size(raw)
        return raw

    @app.post("/api/scenario/yaml", response_class=PlainTextResponse, summary="A scenario object as YAML")
    def to_yaml(body: ScenarioOnly) -> PlainTextResponse:
        """The scenario file to save (a preset name gives the preset's file)."""
        from ..scenario import load_raw

        raw = load_raw(resolve(body.scenario))
        name = _slug(str(raw.get("name", "scenario")))
        text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
        return PlainTextResponse(
            text,
            media_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'},
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
