"""The local web calculator: a FastAPI app with a JSON API and one page (vanilla JS, no CDN).

Every route is a thin call into the library. Every error has one shape,
`{"detail": {"field": "training.tokens", "message": "..."}}`: 422 for input to change, 404 for
an unknown name, 413 for a body over the limit, 503 (with Retry-After) when the server is busy;
anything else is a generic 500 without a traceback. The app reads no files named by the client:
a string scenario must be a preset name.

Bounded work: request bodies are size-, depth- and number-checked before they are parsed;
estimates, reports and views run in worker processes (`truecost.web.workers`) with a deadline,
killed at the deadline or when the client disconnects; each lane of workers has a bounded queue.
Point estimates of presets are cached (they are pure functions of the preset).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..errors import TruecostError
from ..scenario.limits import MAX_DEPTH, MAX_INT_DIGITS
from . import workers as wk

if TYPE_CHECKING:
    from ..report.content import ReportData

log = logging.getLogger("truecost.web")

SAMPLES_CAP = 1_000_000
BODY_CAP_BYTES = 1 << 20  # 1 MiB: a scenario is a few KB; a pasted YAML file, tens
DEADLINE_S = 20.0  # per request, queueing included; the job is killed when it passes
QUEUE_PER_WORKER = 4  # requests that may wait for each worker before 503
RETRY_AFTER_S = 2
CACHE_ENTRIES = 64
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
    for code, about in (
        (404, "Unknown name"),
        (413, "Request body over the limit"),
        (422, "Input to change (including work over the server's time limit)"),
        (503, "Server busy: retry after the Retry-After header's seconds"),
    )
}


def _json_errors() -> dict[int | str, dict[str, Any]]:
    """ERROR_RESPONSES for a route whose success is not JSON (FastAPI would list its errors
    under the route's media type): the same bodies, as application/json."""
    ref = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    return {
        code: {"description": r["description"], "content": {"application/json": ref}}
        for code, r in ERROR_RESPONSES.items()
    }


# ---- request bodies ------------------------------------------------------------------------------
def _preset_names() -> list[str]:
    from ..scenario import preset_names

    return preset_names()


# The string form of `scenario` is a preset name: the schema lists them, so that what the schema
# allows is what the server accepts.
PresetName = Annotated[str, Field(json_schema_extra={"enum": _preset_names()})]


class ScenarioRequest(BaseModel):
    """A scenario to run: a preset name or the scenario itself (the YAML file's shape, as JSON)."""

    model_config = ConfigDict(extra="forbid")

    scenario: PresetName | dict[str, Any] = Field(
        description="A preset name (GET /api/presets) or a scenario object; file paths are refused.",
        examples=["deepseek-v3"],
    )
    samples: int | None = Field(
        None,
        strict=True,
        ge=2,
        le=SAMPLES_CAP,
        description="Monte Carlo trials (at most the server's cap, 1,000,000 by default).",
    )
    seed: int | None = Field(
        None,
        strict=True,
        ge=0,
        le=10**18,
        description="Random seed; the same seed gives exactly the same output.",
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

    scenario: PresetName | dict[str, Any] = Field(description="A preset name or a scenario object.")


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
        problem = json_problem(body) if _is_json(scope) else None
        if problem is not None:
            await JSONResponse(error_body("body", problem), status_code=422)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    ctype = dict(scope.get("headers") or []).get(b"content-type", b"")
    return scope.get("method") in ("POST", "PUT", "PATCH") and b"json" in ctype.lower()


def _json_depth(body: bytes) -> int:
    """Deepest nesting of [ and { in a JSON text, strings skipped (one pass, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for b in body:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif b in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-')):,} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def json_problem(body: bytes) -> str | None:
    """Why a JSON request body is refused before it is parsed for real, or None.

    Nesting deeper than the scenario limit (json.loads recurses) and integers of more than 40
    digits are refused here; NaN, Infinity and overflowing floats (1e400) parse, and are then
    refused naming their field by the scenario checks.
    """
    if not body.strip():
        return None
    if _json_depth(body) > MAX_DEPTH + 4:  # the request wraps the scenario in a couple of levels
        return f"the JSON body is nested more than {MAX_DEPTH + 4} levels deep"
    try:
        json.loads(body, parse_int=_bounded_int)
    except RecursionError:
        return "the JSON body is nested too deeply"
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            return None  # FastAPI answers malformed JSON itself (422, field "body")
        return f"the JSON body holds {exc}"
    return None


# ---- helpers -------------------------------------------------------------------------------------
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]-]*): (.+)$", re.S)


def field_of(exc: Exception) -> tuple[str, str]:
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


def check_size(obj: Any) -> None:
    """Refuse a parsed document over the scenario limits (values once aliases are expanded,
    depth, keys, numbers), naming the field; `parse_yaml` already did, this is for dicts."""
    from ..scenario.limits import check_tree

    check_tree(obj, "yaml")


def needs_search(scenario: str | dict[str, Any]) -> bool:
    """Whether a scenario's point estimate may run the layout search (the slow lane's work):
    an architecture and a cluster, with neither MFU nor GPU-hours nor reported stages."""
    if not isinstance(scenario, Mapping):
        return False
    cluster, training = scenario.get("cluster"), scenario.get("training")
    if not isinstance(cluster, Mapping) or scenario.get("model") is None:
        return False
    if isinstance(training, Mapping) and training.get("stages"):
        return False
    return cluster.get("mfu") is None and cluster.get("gpu_hours") is None


def view_payload(scenario: str | dict[str, Any], samples: int | None, seed: int | None) -> dict[str, Any]:
    """What /api/view answers: `estimate` (the --json output), plotly `figures` and HTML fragments."""
    from ..chain import estimate
    from ..report import html as rhtml
    from ..report.charts import charts, plotly_figure
    from ..report.content import gather
    from .page import page_sensitivity, ranked_table

    est = estimate(scenario, samples=samples, seed=seed)
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
        "carbon": carbon_fragment(data),
    }
    return {"estimate": est.to_dict(), "figures": figures, "html": fragments}


def carbon_fragment(data: ReportData) -> str:
    """The report's energy and carbon section without its heading: where the grid intensity
    comes from, then energy, intensity and every emissions result (p50 and the 90% interval when
    sampled). Empty without emissions (no grid named or intensity given)."""
    from ..report import html as rhtml

    if not data.carbon:
        return ""
    return rhtml.join(
        [
            rhtml.tag("p", data.carbon_note, class_="intro") if data.carbon_note else "",
            rhtml.results_table(data.carbon, data.samples is not None),
        ]
    )


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
    from ..catalog.carbon_tables import grid_regions
    from ..report.html import script_json
    from .page import field_help

    regions = "".join(f'<option value="{html.escape(r)}">{html.escape(r)}</option>' for r in grid_regions())
    return Template(_template("index.html")).substitute(
        presets=options,
        grid_regions=regions,
        version=html.escape(__version__),
        field_help=script_json(field_help()),
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
def create_app(
    samples_cap: int = SAMPLES_CAP,
    body_cap_bytes: int = BODY_CAP_BYTES,
    deadline_s: float = DEADLINE_S,
    workers: tuple[int, int] | None = None,
    processes: bool = True,
    warm: bool = False,
) -> FastAPI:
    """The web calculator. `samples_cap` bounds Monte Carlo trials per request; bodies over
    `body_cap_bytes` are refused with 413; each estimate, report or view must finish within
    `deadline_s` (queueing included). `workers` = (fast, slow) worker processes (default: one
    fast, the other cores slow, at most four); `processes=False` runs jobs in threads instead
    (no kill at the deadline; for tests that patch the library). `warm` computes every preset's
    point estimate at start (`truecost serve` does), so that presets answer from the cache."""
    fast_n, slow_n = workers or wk.default_sizes()
    lane_cls: Any = wk.Lane if processes else wk.InlineLane
    nice: dict[str, dict[str, int]] = {"fast": {"nice": 2}, "slow": {"nice": 10}} if processes else {}
    lanes = {
        "fast": lane_cls("fast", fast_n, QUEUE_PER_WORKER * fast_n, **nice.get("fast", {})),
        "slow": lane_cls("slow", slow_n, QUEUE_PER_WORKER * slow_n, **nice.get("slow", {})),
    }
    cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    async def compute(
        kind: str, req: ScenarioRequest, request: Request | None, lane: str | None = None
    ) -> Any:
        """Run a job in its lane; a preset's deterministic answer comes from the cache."""
        check_samples(req.samples, samples_cap)
        scenario = resolve(req.scenario)
        key = None
        if isinstance(scenario, str) and kind != "report" and (req.samples is None or req.seed is not None):
            key = (kind, scenario, req.samples, req.seed if req.samples is not None else None)
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        if isinstance(scenario, dict):
            # Read and validate here first (bounded work: input limits, physical ranges, the
            # layout search counted): bad input gets its 422 in milliseconds, never a worker.
            from ..chain import prepare

            await asyncio.to_thread(prepare, scenario)
        if lane is None:
            lane = (
                "slow" if (req.samples is not None or kind == "report" or needs_search(scenario)) else "fast"
            )
        out = await in_lane(lane, kind, (scenario, req.samples, req.seed), request, req.samples is not None)
        if key is not None:
            cache[key] = out
            while len(cache) > CACHE_ENTRIES:
                cache.popitem(last=False)
        return out

    async def in_lane(
        lane: str, kind: str, args: tuple[Any, ...], request: Request | None, sampled: bool
    ) -> Any:
        """Run one job in a lane's worker, with the deadline; errors in the one error shape."""
        disconnected = request.is_disconnected if request is not None else None
        try:
            return await lanes[lane].run(kind, args, deadline_s, disconnected)
        except wk.Busy:
            raise UserError(
                "", f"the server is busy ({lane} work); retry in {RETRY_AFTER_S} s", status=503
            ) from None
        except wk.Deadline:
            field = "samples" if sampled else "scenario"
            raise UserError(
                field,
                f"the work did not finish within the server's limit of {deadline_s:g} s and was stopped; "
                + ("ask for fewer samples" if sampled else "fix more of the layout or give cluster.mfu"),
            ) from None
        except wk.JobFailed as exc:
            if exc.kind == "user":
                field, message = exc.payload
                raise UserError(field, message) from None
            raise RuntimeError(exc.payload) from None

    async def warm_presets() -> None:
        """Fill the cache with every preset's point estimate, in the background at start."""
        for name in _preset_names():
            try:
                await compute("estimate", ScenarioRequest(scenario=name), None, lane="fast")
            except Exception as exc:  # a preset that fails is reported when asked for
                log.warning("warming preset %s: %r", name, exc)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for lane in lanes.values():
            lane.start()
        warming = asyncio.create_task(warm_presets()) if warm else None
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
            for lane in lanes.values():
                lane.close()

    app = FastAPI(
        title="truecost",
        version=__version__,
        description="What does it really cost to build this AI model? The truecost chain as a local JSON API.",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, cap=body_cap_bytes)

    @app.exception_handler(UserError)
    async def _user_error(_request: Request, exc: UserError) -> JSONResponse:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None
        body = {"detail": {"field": exc.field or None, "message": exc.message}}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(ValueError)  # TruecostError, ScenarioError, UnknownIdError, CatalogError
    async def _value_error(_request: Request, exc: ValueError) -> JSONResponse:
        field, message = field_of(exc)
        return JSONResponse(error_body(field, message), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code if exc.status_code in (404, 405, 413) else 422
        field = "path" if status in (404, 405) else "body"
        message = str(exc.detail) if exc.detail else "invalid request"
        return JSONResponse(error_body(field, message), status_code=status, headers=exc.headers)

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
        if isinstance(exc, RecursionError | MemoryError):
            return JSONResponse(error_body("body", "the input is too large to process"), status_code=422)
        log.error("internal error: %r", exc)
        return JSONResponse({"detail": {"field": None, "message": "internal error"}}, status_code=500)

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

    summaries: list[list[dict[str, str]]] = []

    @app.get("/api/presets", summary="List the built-in scenarios")
    def presets() -> list[dict[str, str]]:
        """id, name and description of each preset."""
        from ..scenario import preset_summaries

        if not summaries:  # the package's presets do not change while the server runs
            summaries.append(preset_summaries())
        return summaries[0]

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
                "kind", f"unknown catalog {kind[:80]!r}; valid: {', '.join(CATALOG_KINDS)}", status=404
            )
        return catalog_rows(kind)

    @app.post("/api/estimate", summary="Run a scenario through the chain")
    async def estimate(req: ScenarioRequest, request: Request) -> JSONResponse:
        """Exactly what `truecost estimate --json` prints (`Estimate.to_dict()`)."""
        return JSONResponse(await compute("estimate", req, request))

    @app.post(
        "/api/report",
        response_class=HTMLResponse,
        summary="The HTML report of a scenario",
        responses=_json_errors(),
    )
    async def report(req: ScenarioRequest, request: Request) -> HTMLResponse:
        """One self-contained HTML file (plotly.js inlined), as `truecost report` writes it."""
        return HTMLResponse(
            await compute("report", req, request),
            headers={"Content-Disposition": 'inline; filename="truecost-report.html"'},
        )

    @app.post("/api/view", summary="Results, charts and HTML fragments for the calculator page")
    async def view(req: ScenarioRequest, request: Request) -> dict[str, Any]:
        """`estimate` (the --json output), plotly `figures` and escaped HTML fragments."""
        out: dict[str, Any] = await compute("view", req, request)
        return out

    @app.post("/api/compare", summary="Scenarios side by side, for the calculator page")
    async def compare(req: CompareRequest, request: Request) -> dict[str, Any]:
        """`scenarios` (each the --json output), an HTML `table` with ratios and plotly `figures`.
        Runs in a slow-lane worker with the deadline, like every other computation."""
        from ..chain import prepare

        scenarios = [resolve(s) for s in req.scenarios]
        for i, scn in enumerate(scenarios):  # bad input gets its 422 here, never a worker
            try:
                await asyncio.to_thread(prepare, scn)
            except TruecostError as exc:
                where = f"scenarios[{i}]" + (f".{exc.field}" if exc.field else "")
                raise UserError(where, str(exc).removeprefix(f"{exc.field}: ")) from None
        out: dict[str, Any] = await in_lane("slow", "compare", (scenarios,), request, False)
        return out

    @app.post("/api/scenario/parse", summary="Read a scenario file's text (YAML) into a scenario object")
    def parse(body: YamlText) -> dict[str, Any]:
        """For the page's paste and upload: the YAML as JSON. Checks the syntax and the input
        limits (size, depth, aliases, keys, finite numbers), not the values."""
        from ..scenario import parse_yaml

        raw = parse_yaml(body.yaml, "yaml")
        check_size(raw)
        return raw

    @app.post(
        "/api/scenario/yaml",
        response_class=Response,
        summary="A scenario object as YAML",
        responses={
            200: {
                "content": {"application/yaml": {"schema": {"type": "object"}}},
                "description": "The scenario file (a YAML mapping)",
            },
            **_json_errors(),
        },
    )
    def to_yaml(body: ScenarioOnly) -> Response:
        """The scenario file to save (a preset name gives the preset's file)."""
        from ..scenario import load_raw

        raw = load_raw(resolve(body.scenario))
        name = _slug(str(raw.get("name", "scenario")))
        try:
            text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
        except yaml.YAMLError as exc:
            raise UserError("scenario", f"cannot be written as YAML: {exc}") from None
        return Response(
            text,
            media_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'},
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
