// The playground's page: settings in, pictures out. Training runs in the server (the nabla
// library); this file only sends settings and draws the frames it streams (EventSource).
"use strict";

const $ = (id) => document.getElementById(id);
const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const POSITIVE = [31, 119, 180], NEGATIVE = [214, 39, 40]; // as `nabla diagram`
const TRAIN_COLOUR = "rgb(31,119,180)", TEST_COLOUR = "rgb(255,127,14)";

let meta = null, defaults = null, settings = null, info = null, sessionId = null;
let source = null, frame = null, playing = false, costHistory = [];
let stats = { frames: 0, fps: 0, windowStart: performance.now(), windowFrames: 0, lastVersion: 0, firstOutput: null, lastOutput: null };
window.nablaStats = stats;
let edges = []; // for hovering: {l, j, k, x1, y1, x2, y2}

async function api(method, path, body, raw) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    if (raw) { opts.body = body; } else { opts.body = JSON.stringify(body); opts.headers["content-type"] = "application/json"; }
  }
  const r = await fetch(path, opts);
  const v = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) { throw new Error(v.error || `HTTP ${r.status}`); }
  return v;
}

function showError(e) {
  const box = $("error");
  if (!e) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false; box.textContent = String(e.message || e);
}

function fill(select, names) {
  for (const n of names) { const o = document.createElement("option"); o.value = n; o.textContent = n; select.appendChild(o); }
}

// ---- URL <-> settings -------------------------------------------------------------------
function settingsFromUrl() {
  const s = JSON.parse(JSON.stringify(defaults));
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q) {
    if (!(k in s)) continue;
    const d = defaults[k];
    if (typeof d === "number") s[k] = Number(v);
    else if (d === null) s[k] = v === "" ? null : Number(v);
    else s[k] = v;
  }
  return { s, play: q.get("play") === "1" };
}

function writeUrl() {
  const q = new URLSearchParams();
  for (const k of Object.keys(settings)) {
    if (JSON.stringify(settings[k]) !== JSON.stringify(defaults[k])) q.set(k, settings[k] === null ? "" : settings[k]);
  }
  if (playing) q.set("play", "1");
  const url = `${location.pathname}${q.toString() ? "?" + q.toString() : ""}`;
  history_replace(url);
}
function history_replace(url) { window.history.replaceState(null, "", url); }

// ---- settings <-> controls --------------------------------------------------------------
const NUMBER_FIELDS = ["noise", "ratio", "points", "seed", "octaves", "speed"];
const OPTIONAL_NUMBERS = ["lr", "batch", "l2", "l1", "dropout", "momentum", "clip"];
const NAMED = ["optimizer", "schedule", "activation", "output", "cost", "init", "csv_x", "csv_y", "csv_target"];

function toControls() {
  for (const k of NUMBER_FIELDS) { const el = $(k === "speed" ? "speedlimit" : k); if (el) el.value = settings[k]; }
  $("noise-v").textContent = settings.noise; $("ratio-v").textContent = settings.ratio;
  for (const k of OPTIONAL_NUMBERS) $(k).value = settings[k] === null ? 0 : settings[k];
  for (const k of NAMED) $(k).value = settings[k];
  for (const el of document.querySelectorAll("#datasets input")) el.checked = el.value === settings.dataset;
  const feats = settings.features.split(",");
  for (const el of document.querySelectorAll("#features input")) el.checked = feats.includes(el.value);
  $("octaves-row").hidden = settings.dataset !== "noise";
  drawLayerButtons();
}

function fromControls() {
  for (const k of NUMBER_FIELDS) settings[k] = Number($(k === "speed" ? "speedlimit" : k).value);
  for (const k of OPTIONAL_NUMBERS) { const v = Number($(k).value); settings[k] = v > 0 ? v : (k === "lr" || k === "batch" ? defaults[k] : null); }
  for (const k of NAMED) settings[k] = $(k).value;
  const ds = document.querySelector("#datasets input:checked"); if (ds) settings.dataset = ds.value;
  settings.features = [...document.querySelectorAll("#features input:checked")].map((e) => e.value).join(",");
}

function hiddenSizes() { return settings.hidden.split(",").filter((h) => h.trim() !== "").map(Number); }
function setHidden(sizes) { settings.hidden = sizes.join(","); }

function drawLayerButtons() {
  const box = $("layer-buttons"); box.innerHTML = "";
  const L = hiddenSizes().length + 1, width = $("diagram").width;
  hiddenSizes().forEach((n, i) => {
    const d = document.createElement("div");
    d.style.left = `${40 + (i + 1) * (width - 100) / L - 45}px`;
    d.innerHTML = `<button data-i="${i}" data-d="1">+</button> <button data-i="${i}" data-d="-1">−</button><br>${n} neurons`;
    box.appendChild(d);
  });
  for (const b of box.querySelectorAll("button")) {
    b.onclick = () => {
      const sizes = hiddenSizes(); const i = Number(b.dataset.i);
      sizes[i] = Math.max(1, Math.min(meta.limits.neurons, sizes[i] + Number(b.dataset.d)));
      setHidden(sizes); apply();
    };
  }
}

// ---- sessions -----------------------------------------------------------------------------
async function apply(play) {
  if (play === undefined) play = playing;
  try {
    showError(null);
    const next = await api("POST", `/api/s/${sessionId}/settings`, { settings, play });
    onInfo(next, play);
  } catch (e) {
    // Refused (a limit, a setting the library rejects): the controls show the running state.
    showError(e);
    settings = JSON.parse(JSON.stringify(info.settings));
    toControls(); writeUrl();
  }
}

function onInfo(next, play) {
  info = next; settings = next.settings; costHistory = []; frame = null; stats.firstOutput = null;
  playing = play; updatePlayButton(); toControls(); writeUrl();
  $("command").textContent = info.command;
  $("export-model").href = `/api/s/${sessionId}/model.safetensors`;
  $("export-train").href = `/api/s/${sessionId}/data.csv?set=train`;
  $("export-test").href = `/api/s/${sessionId}/data.csv?set=test`;
  const cols = info.csv_columns;
  document.querySelector("#datasets input[value=csv]").disabled = !cols;
  $("csv-columns").hidden = !cols || settings.dataset !== "csv";
  if (cols) for (const k of ["csv_x", "csv_y", "csv_target"]) {
    const sel = $(k); sel.innerHTML = ""; fill(sel, ["", ...cols]); sel.value = settings[k];
  }
  $("legend").textContent = info.task === "classification" ? `classes: ${info.classes.join(", ")}` : `value from ${info.target_range[0].toFixed(2)} to ${info.target_range[1].toFixed(2)}`;
  $("explain-panel").hidden = true;
  drawAll();
}

function updatePlayButton() { $("play").innerHTML = playing ? "&#x23f8; pause" : "&#x25b6; play"; }

async function control(action) {
  try {
    if (action === "reset") { onInfo(await api("POST", `/api/s/${sessionId}/control`, { action }), false); return; }
    await api("POST", `/api/s/${sessionId}/control`, { action });
    playing = action === "play"; updatePlayButton(); writeUrl();
  } catch (e) { showError(e); }
}

function listen() {
  source = new EventSource(`/api/s/${sessionId}/events`);
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) showError("the server closed this tab's network (idle, or the server stopped): reload the page");
  };
  source.addEventListener("frame", (ev) => {
    const f = JSON.parse(ev.data);
    if (f.history_from === 0) costHistory = [];
    costHistory.push(...f.history);
    frame = f;
    stats.frames++; stats.windowFrames++;
    const now = performance.now();
    if (now - stats.windowStart >= 1000) {
      stats.fps = stats.windowFrames * 1000 / (now - stats.windowStart);
      stats.windowStart = now; stats.windowFrames = 0;
      $("fps").textContent = stats.fps.toFixed(0);
    }
    if (stats.firstOutput === null) stats.firstOutput = f.output;
    stats.lastOutput = f.output;
    stats.epoch = f.epoch;
    const last = costHistory[costHistory.length - 1];
    stats.testCost = last ? last.test : null;
    stats.firstTestCost = costHistory.length ? costHistory[0].test : null;
    if (f.error) showError(f.error);
    if (f.finished && playing) { playing = false; updatePlayButton(); writeUrl(); }
    drawAll();
  });
}

// ---- pictures -----------------------------------------------------------------------------
function decode(b64) { const s = atob(b64); const a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }

function diverging(t) { // 0 → orange, 0.5 → white, 1 → blue
  const lo = CLASS_COLOURS[0], hi = CLASS_COLOURS[1];
  if (t < 0.5) { const u = t * 2; return lo.map((c) => c + (255 - c) * u); }
  const u = (t - 0.5) * 2; return hi.map((c) => 255 + (c - 255) * u);
}

function outputImage(bytes, outputs, n) {
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    let rgb;
    if (info.task === "classification") {
      if (outputs === 1) rgb = diverging(bytes[i] / 255);
      else {
        let r = 0, g = 0, b = 0, sum = 0;
        for (let c = 0; c < outputs; c++) { const p = bytes[i * outputs + c] / 255; const col = CLASS_COLOURS[c % CLASS_COLOURS.length]; r += p * col[0]; g += p * col[1]; b += p * col[2]; sum += p; }
        if (sum > 0) { r /= sum; g /= sum; b /= sum; }
        const conf = Math.max(...Array.from({ length: outputs }, (_, c) => bytes[i * outputs + c] / 255)) / Math.max(sum, 1e-9);
        const fade = 0.35 + 0.45 * conf; // white where unsure
        rgb = [255 + (r - 255) * fade, 255 + (g - 255) * fade, 255 + (b - 255) * fade];
      }
    } else rgb = diverging(bytes[i] / 255);
    img.data[i * 4] = rgb[0]; img.data[i * 4 + 1] = rgb[1]; img.data[i * 4 + 2] = rgb[2]; img.data[i * 4 + 3] = 255;
  }
  return img;
}

function greyImage(bytes, offset, n) {
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const rgb = diverging(bytes[offset + i] / 255);
    img.data[i * 4] = rgb[0]; img.data[i * 4 + 1] = rgb[1]; img.data[i * 4 + 2] = rgb[2]; img.data[i * 4 + 3] = 255;
  }
  return img;
}

function toCanvas(img) { const c = document.createElement("canvas"); c.width = img.width; c.height = img.height; c.getContext("2d").putImageData(img, 0, 0); return c; }

function plane(v, size) { return (v + meta.range) / (2 * meta.range) * size; }

function pointColour(p) {
  if (info.task === "classification") return `rgb(${CLASS_COLOURS[p[2] % CLASS_COLOURS.length].join(",")})`;
  const t = (p[2] - info.target_range[0]) / Math.max(info.target_range[1] - info.target_range[0], 1e-12);
  return `rgb(${diverging(t).map(Math.round).join(",")})`;
}

function drawHeatmap() {
  const c = $("heatmap"), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  if (frame) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(toCanvas(outputImage(decode(frame.output), frame.outputs, meta.grid)), 0, 0, c.width, c.height);
  }
  for (const p of info.points) {
    const x = plane(p[0], c.width), y = c.height - plane(p[1], c.height);
    ctx.beginPath(); ctx.arc(x, y, p[3] === "train" ? 3.5 : 3, 0, 2 * Math.PI);
    ctx.fillStyle = pointColour(p); ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = p[3] === "train" ? "#fff" : "#000"; ctx.stroke();
  }
  ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
  ctx.fillText(`${info.axes[0]} →`, c.width - 60, c.height - 4); ctx.fillText(`↑ ${info.axes[1]}`, 4, 12);
}

function featureImage(id, n) {
  const img = new Uint8Array(n * n); const vals = new Float64Array(n * n);
  let lo = Infinity, hi = -Infinity;
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    const x1 = -meta.range + (c + 0.5) * 2 * meta.range / n, x2 = meta.range - (r + 0.5) * 2 * meta.range / n;
    const v = { x1, x2, x1sq: x1 * x1, x2sq: x2 * x2, x1x2: x1 * x2, sinx1: Math.sin(x1), sinx2: Math.sin(x2) }[id];
    vals[r * n + c] = v; lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  for (let i = 0; i < n * n; i++) img[i] = hi > lo ? Math.round((vals[i] - lo) / (hi - lo) * 255) : 128;
  return toCanvas(greyImage(img, 0, n));
}

function drawDiagram() {
  const c = $("diagram"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  const sizes = info.sizes, L = sizes.length - 1, box = 36;
  const colX = (l) => 40 + l * (c.width - 100) / Math.max(L, 1);
  const rowY = (l, j) => { const n = sizes[l], gap = Math.min(52, (c.height - 40) / n); return c.height / 2 + (j - (n - 1) / 2) * gap; };
  edges = [];
  let maxW = 1e-9;
  if (frame) for (const w of frame.weights) for (const v of w) maxW = Math.max(maxW, Math.abs(v));
  for (let l = 1; l <= L; l++) for (let j = 0; j < sizes[l]; j++) for (let k = 0; k < sizes[l - 1]; k++) {
    const x1 = colX(l - 1) + box / 2, y1 = rowY(l - 1, k), x2 = colX(l) - box / 2, y2 = rowY(l, j);
    const w = frame ? frame.weights[l - 1][j * sizes[l - 1] + k] : 0;
    const col = w >= 0 ? POSITIVE : NEGATIVE;
    const alpha = 0.25 + 0.75 * Math.abs(w) / maxW;
    ctx.strokeStyle = `rgba(${col.join(",")},${alpha})`; ctx.lineWidth = 0.5 + 5 * Math.abs(w) / maxW;
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
    edges.push({ l, j, k, x1, y1, x2, y2 });
  }
  const feats = settings.features.split(",");
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333";
  for (let k = 0; k < sizes[0]; k++) {
    const x = colX(0) - box / 2, y = rowY(0, k) - box / 2;
    ctx.drawImage(featureCache(feats[k]), x, y, box, box); ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(x, y, box, box);
    ctx.fillText(info.features[k] || feats[k], x - 38, y + box / 2 + 4);
  }
  if (!frame) return;
  const neurons = decode(frame.neurons), n = meta.neuron_grid;
  let index = 0;
  for (let l = 1; l <= L; l++) for (let j = 0; j < sizes[l]; j++) {
    const x = colX(l) - box / 2, y = rowY(l, j) - box / 2;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(toCanvas(greyImage(neurons, index * n * n, n)), x, y, box, box);
    ctx.strokeStyle = "#666"; ctx.lineWidth = 1; ctx.strokeRect(x, y, box, box);
    index++;
  }
  ctx.fillStyle = "#333";
  for (let l = 1; l <= L; l++) ctx.fillText(l === L ? `output (${info.output})` : `layer ${l} (${info.activation})`, colX(l) - 40, 12);
}
const featureImages = {};
function featureCache(id) { if (!featureImages[id]) featureImages[id] = featureImage(id, 25); return featureImages[id]; }

function drawCurve() {
  const c = $("curve"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (!costHistory.length) return;
  let hi = 0; for (const h of costHistory) hi = Math.max(hi, h.train || 0, h.test || 0);
  hi = hi || 1;
  const n = costHistory.length;
  const X = (i) => 30 + (c.width - 40) * (n === 1 ? 1 : i / (n - 1)), Y = (v) => c.height - 15 - (c.height - 25) * v / hi;
  for (const [key, colour] of [["train", TRAIN_COLOUR], ["test", TEST_COLOUR]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath();
    costHistory.forEach((h, i) => { if (h[key] == null) return; i ? ctx.lineTo(X(i), Y(h[key])) : ctx.moveTo(X(i), Y(h[key])); });
    ctx.stroke();
  }
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif"; ctx.fillText(hi.toPrecision(3), 0, 12); ctx.fillText("0", 0, c.height - 15);
  ctx.fillText(`epoch ${costHistory[n - 1].epoch}`, c.width - 70, c.height - 2);
  const last = costHistory[n - 1];
  $("costs").textContent = `train ${last.train != null ? last.train.toFixed(4) : "–"} · test ${last.test != null ? last.test.toFixed(4) : "–"}`;
}

function drawAll() {
  if (!info) return;
  drawHeatmap(); drawDiagram(); drawCurve();
  if (frame) {
    $("epoch").textContent = frame.epoch; $("batches").textContent = frame.batches;
    $("speed").textContent = Math.round(frame.examples_per_second);
  }
}

// ---- backpropagation panel ----------------------------------------------------------------
function fmt(v) { return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e4 || v === 0 ? v.toFixed(6) : v.toExponential(4); }

function valueTable(value) {
  const rows = typeof value === "number" ? [[value]] : Array.isArray(value[0]) ? value : value.map((v) => [v]);
  return "<table>" + rows.map((r) => "<tr>" + r.map((v) => `<td data-value="${v}">${fmt(v)}</td>`).join("") + "</tr>").join("") + "</table>";
}

async function explainPoint(p) {
  try {
    const ex = await api("GET", `/api/s/${sessionId}/explain?set=${p[3]}&index=${p[4]}`);
    window.nablaExplain = ex;
    $("explain-title").textContent = `${p[3]} point ${p[4] + 1} (row ${p[4] + 1} of ${p[3]}.csv), cost c_x = ${fmt(ex.cost)}`;
    const wanted = ["x", "z", "a", "c_x", "e", "dc/db", "dc/dW"];
    $("explain-steps").innerHTML = ex.steps.filter((s) => wanted.includes(s.symbol) || (s.symbol === "a" && s.layer === 0)).map((s) =>
      `<div class="step" data-name="${s.name}"><div class="name">${s.name} <small>${s.equation === "GIVEN" ? "" : s.equation}</small></div><div class="eq">${s.text}</div>${valueTable(s.value)}</div>`).join("");
    $("explain-checks").innerHTML = "<tr><th>entry</th><th>backprop</th><th>numerical</th><th>rel. error</th></tr>" +
      ex.checks.map((c) => `<tr><td>${c.name}</td><td data-value="${c.backprop}">${fmt(c.backprop)}</td><td data-value="${c.numerical}">${fmt(c.numerical)}</td><td class="${c.agrees ? "agree" : "disagree"}">${c.relative_error.toExponential(2)}</td></tr>`).join("");
    $("explain-panel").hidden = false;
  } catch (e) { showError(e); }
}

// ---- wiring -------------------------------------------------------------------------------
function wire() {
  $("play").onclick = () => control(playing ? "pause" : "play");
  $("step").onclick = () => control("step");
  $("reset").onclick = () => control("reset");
  $("regenerate").onclick = () => { settings.seed = Number($("seed").value) + 1; $("seed").value = settings.seed; fromControls(); apply(); };
  for (const el of document.querySelectorAll("header select, header input, #data-panel input:not([type=file]), #data-panel select")) {
    el.addEventListener("change", () => { fromControls(); apply(); });
  }
  $("noise").oninput = () => { $("noise-v").textContent = $("noise").value; };
  $("ratio").oninput = () => { $("ratio-v").textContent = $("ratio").value; };
  $("add-layer").onclick = () => { const s = hiddenSizes(); if (s.length < meta.limits.layers) { s.push(4); setHidden(s); apply(); } };
  $("remove-layer").onclick = () => { const s = hiddenSizes(); s.pop(); setHidden(s); apply(); };
  $("csv-file").onchange = async () => {
    const f = $("csv-file").files[0]; if (!f) return;
    try { onInfo(await api("POST", `/api/s/${sessionId}/upload`, await f.text(), true), false); } catch (e) { showError(e); }
  };
  $("copy-url").onclick = () => { navigator.clipboard && navigator.clipboard.writeText(location.href); };
  $("heatmap").onclick = (ev) => {
    const c = $("heatmap"), r = c.getBoundingClientRect();
    const mx = (ev.clientX - r.left) * c.width / r.width, my = (ev.clientY - r.top) * c.height / r.height;
    let best = null, bestD = 10;
    for (const p of info.points) {
      const d = Math.hypot(plane(p[0], c.width) - mx, c.height - plane(p[1], c.height) - my);
      if (d < bestD) { best = p; bestD = d; }
    }
    if (best) explainPoint(best);
  };
  const nearestEdge = (ev) => {
    const c = $("diagram"), r = c.getBoundingClientRect();
    const mx = (ev.clientX - r.left) * c.width / r.width, my = (ev.clientY - r.top) * c.height / r.height;
    let best = null, bestD = 4;
    for (const e of edges) {
      const dx = e.x2 - e.x1, dy = e.y2 - e.y1, t = Math.max(0, Math.min(1, ((mx - e.x1) * dx + (my - e.y1) * dy) / (dx * dx + dy * dy)));
      const d = Math.hypot(e.x1 + t * dx - mx, e.y1 + t * dy - my);
      if (d < bestD) { best = e; bestD = d; }
    }
    return { best, mx, my };
  };
  $("diagram").onmousemove = (ev) => {
    const { best, mx, my } = nearestEdge(ev); const tip = $("tooltip");
    if (!best || !frame) { tip.hidden = true; return; }
    const idx = best.j * info.sizes[best.l - 1] + best.k;
    const w = frame.weights[best.l - 1][idx];
    const g = frame.grad_w.length ? frame.grad_w[best.l - 1][idx] : null;
    tip.innerHTML = `w<sub>${best.j + 1}${best.k + 1}</sub><sup>[${best.l}]</sup> = ${fmt(w)}<br>∂C/∂w (last mini-batch) = ${g === null ? "–" : fmt(g)}`;
    tip.style.left = `${mx + 12}px`; tip.style.top = `${my + 12}px`; tip.hidden = false;
  };
  $("diagram").onmouseleave = () => { $("tooltip").hidden = true; };
  $("diagram").onclick = async (ev) => {
    const { best } = nearestEdge(ev); if (!best || !frame) return;
    const idx = best.j * info.sizes[best.l - 1] + best.k;
    const text = prompt(`New value of w_${best.j + 1}${best.k + 1}^[${best.l}]`, frame.weights[best.l - 1][idx]);
    if (text === null || text.trim() === "" || !isFinite(Number(text))) return;
    try { await api("POST", `/api/s/${sessionId}/weight`, { l: best.l, j: best.j, k: best.k, value: Number(text) }); } catch (e) { showError(e); }
  };
  window.addEventListener("pagehide", () => { navigator.sendBeacon(`/api/s/${sessionId}/close`); });
}

async function start() {
  meta = await api("GET", "/api/meta");
  defaults = meta.defaults;
  fill($("optimizer"), meta.optimizers); fill($("schedule"), meta.schedules); fill($("activation"), meta.activations);
  fill($("output"), meta.outputs); fill($("cost"), meta.costs); fill($("init"), meta.inits);
  $("datasets").innerHTML = meta.datasets.filter((d) => d.id !== "csv").map((d) => `<label title="${d.name}"><input type="radio" name="dataset" value="${d.id}"> ${d.id}</label>`).join("") +
    `<label title="uploaded CSV"><input type="radio" name="dataset" value="csv" disabled> csv</label>`;
  $("features").innerHTML = meta.features.map((f) => `<label><input type="checkbox" value="${f.id}"> ${f.name}</label>`).join("");
  const { s, play } = settingsFromUrl();
  settings = s;
  toControls(); wire();
  try {
    const created = await api("POST", "/api/sessions", { settings, play });
    sessionId = created.id; onInfo(created, play); listen();
  } catch (e) {
    showError(e);
    try { // settings from the URL were refused: start from the defaults
      settings = JSON.parse(JSON.stringify(defaults));
      const created = await api("POST", "/api/sessions", { settings, play: false });
      sessionId = created.id; onInfo(created, false); listen();
    } catch (e2) { showError(e2); }
  }
}

start();
