// truecost calculator page: a form over a scenario object, results from POST /api/view.
// The server does every calculation and escapes every HTML fragment it sends.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { base: null, last: null, busy: false };
const PLOT_CONFIG = { responsive: true, displaylogo: false };

// ---- numbers in inputs ----------------------------------------------------------------------
function fmtNum(n) {
  if (typeof n !== "number" || !isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) {
    const e = Math.floor(Math.log10(a) / 3) * 3;
    return `${parseFloat((n / 10 ** e).toPrecision(12))}e${e}`;
  }
  return String(parseFloat(n.toPrecision(12)));
}

function showValue(v) {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return fmtNum(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// "" -> undefined (the key is removed: the chain's cited default applies); numbers; JSON objects
// (distributions such as {"ci90": [1, 2]}); anything else stays a string.
function parseValue(text) {
  const t = text.trim();
  if (t === "") return undefined;
  const num = t.replace(/[,_\s]/g, "");
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(num)) return Number(num);
  if (t.startsWith("{") || t.startsWith("[")) return JSON.parse(t);
  return t;
}

// ---- paths into the scenario object ---------------------------------------------------------
function getPath(obj, path) {
  return path.reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (o[k] === undefined || o[k] === null || typeof o[k] !== "object") o[k] = typeof path[i + 1] === "number" ? [] : {};
    o = o[k];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

const dotted = (path) => path.join(".");
const isDistribution = (v) => v && typeof v === "object" && !Array.isArray(v) &&
  ["ci90", "dist", "choice"].some((k) => k in v);
const isLeaf = (v) => typeof v === "number" || isDistribution(v);

// ---- labels, tooltips and distribution widgets ------------------------------------------------
const HELP = (() => {
  try { return JSON.parse(document.getElementById("field-help").textContent || "{}"); } catch (_) { return {}; }
})();
// Unit of a field from its name's suffix, longest first (the scenario's naming convention).
const UNITS = [
  ["_usd_per_gpu_hour", "USD/GPU-h"], ["_usd_per_kw_month", "USD/kW-month"], ["_usd_per_kwh", "USD/kWh"],
  ["_usd_per_year", "USD/yr"], ["_usd_per_mw", "USD/MW"], ["_oom_per_year", "OOM/yr"],
  ["_share_per_year", "share/yr"], ["_usd", "USD"], ["_years", "yr"], ["_mw", "MW"], ["_w", "W"],
];
const cap = (t) => t.charAt(0).toUpperCase() + t.slice(1);

function humanLabel(key) {
  const k = String(key);
  for (const [suffix, unit] of UNITS) {
    if (k.endsWith(suffix)) return `${cap(k.slice(0, -suffix.length).replaceAll("_", " "))} (${unit})`;
  }
  return cap(k.replaceAll("_", " "));
}

const helpFor = (path) => HELP[path.filter((p) => typeof p !== "number").join(".")] || "";

const DIST_KEYS = ["ci90", "dist", "low", "high", "mode", "mean", "sd", "p5", "p95", "choice", "weights"];
const KINDS = [["", "fixed"], ["ci90", "90% range"], ["uniform", "uniform"], ["triangular", "triangular"]];
const num = (t) => {
  const v = parseValue(String(t));
  return typeof v === "number" ? v : undefined;
};

// A number input becomes: the number, a kind (fixed, 90% range, uniform, triangular) and the
// range's ends, so that distributions are edited as fields, not JSON.
function enhance(input) {
  if (input.closest(".dist")) return;
  const wrap = document.createElement("div");
  wrap.className = "dist";
  input.classList.add("v");
  input.replaceWith(wrap);
  const kind = document.createElement("select");
  kind.className = "kind";
  kind.setAttribute("aria-label", "kind of value");
  for (const [v, t] of KINDS) kind.add(new Option(t, v));
  const range = document.createElement("div");
  range.className = "range";
  range.hidden = true;
  const part = (cls, ph) => {
    const el = document.createElement("input");
    el.className = cls;
    el.inputMode = "decimal";
    el.autocomplete = "off";
    el.placeholder = ph;
    el.setAttribute("aria-label", ph);
    return el;
  };
  const lo = part("lo", "low (p5)"), mode = part("mode", "most likely"), hi = part("hi", "high (p95)");
  const to = document.createElement("span");
  to.textContent = "to";
  range.append(lo, mode, to, hi);
  wrap.append(input, kind, range);
  kind.addEventListener("change", () => switchKind(input));
}

function showKind(input) {
  const w = input.closest(".dist");
  if (!w) return;
  const k = w.querySelector("select.kind").value;
  const ranged = k !== "" && k !== "json";
  input.hidden = ranged;
  w.querySelector(".range").hidden = !ranged;
  w.querySelector(".mode").hidden = k !== "triangular";
  const [lo, hi] = k === "ci90" ? ["low (p5)", "high (p95)"] : ["low", "high"];
  w.querySelector(".lo").placeholder = lo;
  w.querySelector(".hi").placeholder = hi;
}

function switchKind(input) {
  const w = input.closest(".dist");
  const k = w.querySelector("select.kind").value;
  const lo = w.querySelector(".lo"), hi = w.querySelector(".hi"), mode = w.querySelector(".mode");
  const v = num(input.value);
  if (k !== "" && v !== undefined && lo.value === "" && hi.value === "") {
    lo.value = fmtNum(v * 0.8);
    hi.value = fmtNum(v * 1.25);
    mode.value = fmtNum(v);
  }
  if (k === "" && input.value === "") {
    const a = num(lo.value), b = num(hi.value), m = num(mode.value);
    if (a !== undefined && b !== undefined) input.value = fmtNum(m !== undefined ? m : a > 0 && b > 0 ? Math.sqrt(a * b) : (a + b) / 2);
  }
  showKind(input);
}

function setWidget(input, v) {
  const w = input.closest(".dist");
  input._orig = v;
  if (!w) {
    input.value = showValue(v);
    return;
  }
  const kind = w.querySelector("select.kind");
  const [lo, mode, hi] = [".lo", ".mode", ".hi"].map((c) => w.querySelector(c));
  lo.value = mode.value = hi.value = "";
  [...kind.options].filter((o) => o.value === "json").forEach((o) => o.remove());
  let k = "";
  if (isDistribution(v)) {
    if (Array.isArray(v.ci90) && v.ci90.length === 2) {
      k = "ci90";
      [lo.value, hi.value] = v.ci90.map(fmtNum);
    } else if (v.dist === "uniform") {
      k = "uniform";
      [lo.value, hi.value] = [v.low, v.high].map(fmtNum);
    } else if (v.dist === "triangular") {
      k = "triangular";
      [lo.value, mode.value, hi.value] = [v.low, v.mode, v.high].map(fmtNum);
    } else {
      k = "json";  // other shapes (normal, lognormal by percentiles, choice) stay as written
      kind.add(new Option("other (JSON)", "json"));
    }
  }
  kind.value = k;
  input.value = k === "" || k === "json" ? showValue(v) : "";
  showKind(input);
}

function readWidget(input, path) {
  const w = input.closest(".dist");
  const k = w ? w.querySelector("select.kind").value : "";
  if (k === "" || k === "json") return parseValue(input.value);
  const [lo, mode, hi] = [".lo", ".mode", ".hi"].map((c) => num(w.querySelector(c).value));
  if (lo === undefined || hi === undefined || (k === "triangular" && mode === undefined)) {
    throw { field: dotted(path), message: "give both ends of the range as numbers" };
  }
  const extra = {};
  if (isDistribution(input._orig)) {
    for (const [key, val] of Object.entries(input._orig)) if (!DIST_KEYS.includes(key)) extra[key] = val;
  }
  if (k === "ci90") return { ...extra, ci90: [lo, hi] };
  if (k === "uniform") return { ...extra, dist: "uniform", low: lo, high: hi };
  return { ...extra, dist: "triangular", low: lo, mode, high: hi };
}

// ---- building the dynamic parts of the form -------------------------------------------------
function field(path, label, value) {
  const id = "f-" + path.join("-").replace(/[^A-Za-z0-9-]/g, "_");
  const wrap = document.createElement("div");
  wrap.className = "field";
  const lab = document.createElement("label");
  lab.htmlFor = id;
  lab.textContent = label;
  const help = helpFor(path);
  if (help) lab.title = help;
  const input = document.createElement("input");
  input.id = id;
  input.dataset.path = JSON.stringify(path);
  input.dataset.key = String(path[path.length - 1]);
  input.inputMode = "decimal";
  input.autocomplete = "off";
  if (help) input.title = help;
  wrap.append(lab, input);
  enhance(input);
  setWidget(input, value);
  return wrap;
}

function fieldset(legend, attrs) {
  const fs = document.createElement("fieldset");
  const lg = document.createElement("legend");
  lg.textContent = legend;
  fs.append(lg);
  for (const [k, v] of Object.entries(attrs || {})) fs.dataset[k] = v;
  return fs;
}

const nameOf = (o, i) => o.name || o.role || o.label || o.accelerator || o.kind || `#${i + 1}`;

// Every number (or distribution) under `obj`, as inputs; nested objects and lists of objects
// become their own fieldsets.
function leafFields(container, obj, path, depth) {
  for (const [k, v] of Object.entries(obj)) {
    const p = path.concat([k]);
    if (isLeaf(v)) container.append(field(p, humanLabel(k), v));
    else if (depth < 3 && Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item && typeof item === "object") {
          const fs = fieldset(`${humanLabel(k)}: ${nameOf(item, i)}`);
          leafFields(fs, item, p.concat([i]), depth + 1);
          if (fs.querySelector("input")) container.append(fs);
        }
      });
    } else if (depth < 3 && v && typeof v === "object") {
      const fs = fieldset(humanLabel(k));
      leafFields(fs, v, p, depth + 1);
      if (fs.querySelector("input")) container.append(fs);
    }
  }
}

function buildFleet(scn) {
  const box = $("#fleet-fields");
  box.replaceChildren();
  const pools = Array.isArray(scn.fleet) ? scn.fleet : [];
  if (!pools.length) return;
  const outer = fieldset("Fleet pools");
  pools.forEach((pool, i) => {
    if (!pool || typeof pool !== "object") return;
    const fs = fieldset(`Pool ${i + 1}: ${pool.name || pool.accelerator || ""}`, {
      poolAccelerator: String(pool.accelerator || ""),
      poolIndex: String(i),
    });
    fs.classList.add("pool");
    leafFields(fs, pool, ["fleet", i], 1);
    outer.append(fs);
  });
  box.append(outer);
}

function buildLab(scn) {
  const box = $("#lab-fields");
  box.replaceChildren();
  if (!scn.lab || typeof scn.lab !== "object") return;
  const outer = fieldset("Lab: staff, experiments, data");
  leafFields(outer, scn.lab, ["lab"], 1);
  if (outer.querySelector("input")) box.append(outer);
}

function ensureOption(select, value, label) {
  if (![...select.options].some((o) => o.value === value)) {
    const o = new Option(label, value);
    select.add(o);
  }
}

function fillForm(scn) {
  const model = $("#f-model");
  if (scn.model && typeof scn.model === "object") {
    ensureOption(model, "__inline__", "inline architecture (from the scenario)");
    model.value = "__inline__";
  } else {
    if (scn.model) ensureOption(model, String(scn.model), String(scn.model));
    model.value = scn.model ? String(scn.model) : "";
  }
  for (const el of document.querySelectorAll("#form [data-path]")) {
    if (el === model) continue;
    const v = getPath(scn, JSON.parse(el.dataset.path));
    if (el.tagName === "SELECT") {
      if (v !== undefined) ensureOption(el, String(v), String(v));
      el.value = v === undefined ? "" : String(v);
    } else {
      setWidget(el, v);
    }
  }
  buildFleet(scn);
  buildLab(scn);
  updateOverrides();
}

// MFU typed for a scenario with reported GPU-hours changes nothing: say so beside the field.
function updateOverrides() {
  const base = state.base || {};
  const stages = ((base.training || {}).stages || []).some((st) => st && st.gpu_hours !== undefined);
  const given = (el) => {
    const w = el.closest(".dist");
    return el.value.trim() !== "" || (w !== null && w.querySelector(".lo").value.trim() !== "");
  };
  const hours = given($("#f-gpu-hours"));
  const mfu = given($("#f-mfu"));
  $("#mfu-note").hidden = !(mfu && (hours || stages));
}

// The scenario as edited: the loaded one with every form field applied.
function currentScenario() {
  const scn = structuredClone(state.base || {});
  for (const el of document.querySelectorAll("#form [data-path]")) {
    const path = JSON.parse(el.dataset.path);
    if (el.id === "f-model" && el.value === "__inline__") continue;
    let v;
    try {
      v = el.tagName === "SELECT" ? el.value || undefined : readWidget(el, path);
    } catch (err) {
      if (err && err.field) throw err;
      throw { field: dotted(path), message: `not a number or JSON: ${err.message}` };
    }
    if (v === undefined && getPath(scn, path.slice(0, -1)) === undefined) continue;
    setPath(scn, path, v);
  }
  return scn;
}

function requestBody() {
  const body = { scenario: currentScenario() };
  for (const [id, key] of [["#f-samples", "samples"], ["#f-seed", "seed"]]) {
    const t = $(id).value.trim();
    if (t !== "") body[key] = Number(t.replace(/[,_\s]/g, ""));
  }
  // Samples without a seed: draw one and show it, so the run (and its link) can be repeated.
  if (body.samples !== undefined && body.seed === undefined) {
    body.seed = Math.floor(Math.random() * 2 ** 31);
    $("#f-seed").value = String(body.seed);
  }
  return body;
}

// ---- the scenario in the URL: #s=<deflate-raw, base64url of {scenario, samples, seed}> --------
function b64url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function unb64url(text) {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

async function encodeState(obj) {
  const bytes = new TextEncoder().encode(JSON.stringify(obj));
  if (window.CompressionStream) return "z" + b64url(await pipe(bytes, new CompressionStream("deflate-raw")));
  return "j" + b64url(bytes);
}

async function decodeState(text) {
  let bytes = unb64url(text.slice(1));
  if (text[0] === "z") bytes = await pipe(bytes, new DecompressionStream("deflate-raw"));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function rememberInUrl(body) {
  try {
    history.replaceState(null, "", "#s=" + (await encodeState(body)));
  } catch (_) { /* the page works without it */ }
}

// ---- talking to the server ------------------------------------------------------------------
async function api(path, body) {
  const resp = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!resp.ok) {
    let detail = { field: null, message: `${resp.status} ${resp.statusText}` };
    try {
      const j = await resp.json();
      if (j && j.detail) detail = typeof j.detail === "object" ? j.detail : { field: null, message: String(j.detail) };
    } catch (_) { /* not JSON */ }
    throw detail;
  }
  return resp;
}

function showError(detail) {
  for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  const box = $("#form-error");
  if (!detail) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  const fieldName = detail.field ? String(detail.field) : "";
  box.textContent = fieldName ? `${fieldName}: ${detail.message}` : String(detail.message);
  box.hidden = false;
  if (!fieldName) return;
  for (const el of document.querySelectorAll("#form [data-path]")) {
    const p = dotted(JSON.parse(el.dataset.path));
    if (p === fieldName || fieldName.startsWith(p + ".")) {
      el.classList.add("invalid");
      el.focus();
      break;
    }
  }
}

function plot(key, figures) {
  const div = $(`#chart-${key}`);
  const fig = figures[key];
  const sec = div.closest("section");
  if (!fig) {
    Plotly.purge(div);
    div.hidden = true;
    if (key !== "views" && key !== "tornado") sec.hidden = true;
    return;
  }
  sec.hidden = false;
  div.hidden = false;
  Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
}

function fill(id, html) {
  const el = $(id);
  el.innerHTML = html || "";
  el.closest("section").hidden = !html;
}

function render(view) {
  const est = view.estimate;
  const h = view.html;
  $("#scenario-name").textContent = est.samples ? `${est.scenario} — ${est.samples.toLocaleString()} samples, seed ${est.seed}` : est.scenario;
  $("#answer").innerHTML = h.answer;
  $("#cards").innerHTML = h.cards;
  $("#warnings").innerHTML = h.warnings;
  $("#views-table").innerHTML = h.views;
  $("#waterfall-table").innerHTML = h.waterfall;
  $("#breakdown-table").innerHTML = h.breakdown;
  $("#derivation").innerHTML = h.derivation;
  $("#results-table").innerHTML = h.results;
  $("#assumptions-table").innerHTML = h.assumptions;
  $("#serving").innerHTML = h.serving || "";
  $("#sec-serving").hidden = !h.serving;
  $("#mc-note").innerHTML = h.mc_note || "";
  fill("#references-table", h.references);
  fill("#notes", h.notes);
  fill("#carbon", h.carbon);
  $("#sensitivity-table").innerHTML = h.sensitivity || "";
  $("#ranked-table").innerHTML = h.ranked || "";
  for (const key of ["views", "waterfall", "breakdown", "distributions", "tornado", "serving"]) plot(key, view.figures);
  $("#sec-sensitivity").hidden = !(view.figures.tornado || h.ranked);
  if (!view.figures.waterfall) {
    const sec = $("#sec-waterfall");
    sec.hidden = false;
    $("#waterfall-table").innerHTML = "<p class=\"muted\">The scenario has no fleet or lab section, so there is no waterfall: only the final run is costed.</p>";
  }
  state.last = est;
  const results = $("#results");
  results.dataset.runs = String(Number(results.dataset.runs) + 1);
}

async function compute() {
  if (state.busy) return;
  let body;
  try {
    body = requestBody();
  } catch (detail) {
    showError(detail);
    return;
  }
  state.busy = true;
  const button = $("#compute");
  button.disabled = true;
  button.textContent = "Computing…";
  $("#results").classList.add("stale");
  let failed = false;
  try {
    const resp = await api("/api/view", body);
    render(await resp.json());
    showError(null);
    await rememberInUrl(body);
  } catch (detail) {
    failed = true;  // the results shown are those of the last good input: keep them faded
    showError(detail);
  } finally {
    state.busy = false;
    button.disabled = false;
    button.textContent = "Compute";
    $("#results").classList.toggle("stale", failed);
  }
}

async function load(scn) {
  state.base = scn;
  fillForm(scn);
  await compute();
}

async function loadPreset(name) {
  try {
    const resp = await api(`/api/presets/${encodeURIComponent(name)}`);
    await load(await resp.json());
  } catch (detail) {
    showError(detail);
  }
}

async function useYaml(text) {
  try {
    const resp = await api("/api/scenario/parse", { yaml: text });
    await load(await resp.json());
  } catch (detail) {
    showError(detail);
  }
}

function filenameOf(resp, fallback) {
  const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
  return m ? m[1] : fallback;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvCell(x) {
  const t = x === undefined || x === null ? "" : String(x);
  return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

// The same columns as `truecost estimate --csv`: results (with formulas), then assumptions (with sources).
function csvOf(est) {
  const rows = [["section", "name", "value", "p5", "p50", "p95", "mean", "unit", "source"]];
  const point = est.point_estimate || {};
  for (const [k, v] of Object.entries(est.results)) {
    const sampled = v && typeof v === "object";
    rows.push(["result", k, sampled ? point[k] : v, ...(sampled ? [v.p5, v.p50, v.p95, v.mean] : ["", "", "", ""]),
      est.units[k] || "", est.formulas[k] || ""]);
  }
  for (const a of est.assumptions) {
    rows.push(["assumption", a.name, typeof a.value === "object" ? JSON.stringify(a.value) : a.value, "", "", "", "", a.unit || "", a.source || ""]);
  }
  return rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

// The edited scenario beside a preset: results with ratios, the views and the waterfall grouped.
async function compareWith() {
  const button = $("#compare");
  button.disabled = true;
  try {
    const resp = await api("/api/compare", { scenarios: [currentScenario(), $("#compare-with").value] });
    const view = await resp.json();
    $("#compare-table").innerHTML = view.table;
    for (const key of ["views", "waterfall"]) {
      const div = $(`#chart-compare-${key}`);
      const fig = view.figures[key];
      div.hidden = !fig;
      if (fig) Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
      else Plotly.purge(div);
    }
    showError(null);
  } catch (detail) {
    showError(detail);
  } finally {
    button.disabled = false;
  }
}

async function copyLink() {
  const status = $("#link-status");
  try {
    await rememberInUrl(requestBody());
    await navigator.clipboard.writeText(location.href);
    status.textContent = "link copied";
  } catch (_) {
    status.textContent = "copy the address bar: it holds this scenario";
  }
}

async function download(kind) {
  try {
    if (kind === "csv") {
      if (!state.last) await compute();
      if (!state.last) return;
      save(new Blob([csvOf(state.last)], { type: "text/csv" }), "truecost-estimate.csv");
      return;
    }
    if (kind === "json") {
      if (!state.last) await compute();
      if (!state.last) return;
      save(new Blob([JSON.stringify(state.last, null, 2)], { type: "application/json" }), "truecost-estimate.json");
      return;
    }
    const body = kind === "yaml" ? { scenario: currentScenario() } : requestBody();
    const resp = await api(kind === "yaml" ? "/api/scenario/yaml" : "/api/report", body);
    save(await resp.blob(), filenameOf(resp, kind === "yaml" ? "scenario.yaml" : "truecost-report.html"));
  } catch (detail) {
    showError(detail);
  }
}

async function catalogOptions(select, kind, blank) {
  try {
    const rows = await (await api(`/api/catalog/${kind}`)).json();
    select.replaceChildren(new Option(blank, ""));
    for (const r of rows) select.add(new Option(r.name && r.name !== r.id ? `${r.id} — ${r.name}` : r.id, r.id));
  } catch (detail) {
    showError(detail);
  }
}

async function init() {
  await Promise.all([
    catalogOptions($("#f-model"), "models", "(none: start from FLOPs or GPU-hours)"),
    catalogOptions($("#f-accelerator"), "hardware", "(choose)"),
    catalogOptions($("#f-serving-accelerator"), "hardware", "(the cluster's)"),
  ]);
  $("#form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    compute();
  });
  $("#preset").addEventListener("change", (ev) => loadPreset(ev.target.value));
  $("#use-yaml").addEventListener("click", () => useYaml($("#yaml").value));
  $("#yaml-file").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const text = await file.text();
    $("#yaml").value = text;
    useYaml(text);
  });
  $("#dl-yaml").addEventListener("click", () => download("yaml"));
  $("#dl-json").addEventListener("click", () => download("json"));
  $("#dl-report").addEventListener("click", () => download("report"));
  $("#dl-csv").addEventListener("click", () => download("csv"));
  $("#copy-link").addEventListener("click", copyLink);
  $("#compare").addEventListener("click", compareWith);
  for (const el of document.querySelectorAll("#form [data-path]")) {
    const help = helpFor(JSON.parse(el.dataset.path));
    const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
    if (help) el.title = help;
    if (help && label) label.title = help;
  }
  for (const id of ["#f-tokens", "#f-count", "#f-mfu", "#f-gpu-hours", "#f-rental",
    "#f-grid-intensity", "#f-renewable", "#f-gpu-watts"]) enhance($(id));
  $("#form").addEventListener("input", updateOverrides);
  $("#form").addEventListener("change", updateOverrides);
  if (location.hash.startsWith("#s=")) {
    try {
      const saved = await decodeState(location.hash.slice(3));
      $("#f-samples").value = saved.samples === undefined ? "" : String(saved.samples);
      $("#f-seed").value = saved.seed === undefined ? "" : String(saved.seed);
      await load(saved.scenario);
      return;
    } catch (_) {
      showError({ field: null, message: "the link's scenario could not be read; showing a preset" });
    }
  }
  const preset = $("#preset");
  const wanted = new URLSearchParams(location.search).get("preset");
  if (wanted && [...preset.options].some((o) => o.value === wanted)) preset.value = wanted;
  await loadPreset(preset.value);
}

document.addEventListener("DOMContentLoaded", init);
