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

// ---- building the dynamic parts of the form -------------------------------------------------
function field(path, label, value) {
  const id = "f-" + path.join("-").replace(/[^A-Za-z0-9-]/g, "_");
  const wrap = document.createElement("div");
  wrap.className = "field";
  const lab = document.createElement("label");
  lab.htmlFor = id;
  lab.textContent = label;
  const input = document.createElement("input");
  input.id = id;
  input.dataset.path = JSON.stringify(path);
  input.dataset.key = String(path[path.length - 1]);
  input.inputMode = "decimal";
  input.autocomplete = "off";
  input.value = showValue(value);
  wrap.append(lab, input);
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
    if (isLeaf(v)) container.append(field(p, k.replaceAll("_", " "), v));
    else if (depth < 3 && Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item && typeof item === "object") {
          const fs = fieldset(`${k.replaceAll("_", " ")}: ${nameOf(item, i)}`);
          leafFields(fs, item, p.concat([i]), depth + 1);
          if (fs.querySelector("input")) container.append(fs);
        }
      });
    } else if (depth < 3 && v && typeof v === "object") {
      const fs = fieldset(k.replaceAll("_", " "));
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
      el.value = showValue(v);
    }
  }
  buildFleet(scn);
  buildLab(scn);
}

// The scenario as edited: the loaded one with every form field applied.
function currentScenario() {
  const scn = structuredClone(state.base || {});
  for (const el of document.querySelectorAll("#form [data-path]")) {
    const path = JSON.parse(el.dataset.path);
    if (el.id === "f-model" && el.value === "__inline__") continue;
    let v;
    try {
      v = el.tagName === "SELECT" ? el.value || undefined : parseValue(el.value);
    } catch (err) {
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
  return body;
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
    if (key !== "views") sec.hidden = true;
    return;
  }
  sec.hidden = false;
  div.hidden = false;
  Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
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
  for (const key of ["views", "waterfall", "breakdown", "distributions", "serving"]) plot(key, view.figures);
  $("#sec-serving").hidden = !h.serving;
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

async function download(kind) {
  try {
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
  const preset = $("#preset");
  const wanted = new URLSearchParams(location.search).get("preset");
  if (wanted && [...preset.options].some((o) => o.value === wanted)) preset.value = wanted;
  await loadPreset(preset.value);
}

document.addEventListener("DOMContentLoaded", init);
