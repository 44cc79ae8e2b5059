// nbdebug perceptual diff view: original | adversarial | difference, swipe and blink, zoom with a
// pixel grid, L0 outlines, top-k before/after, a sortable gallery, audio players; and small-multiple
// line charts (view = "curves") for robustness curves and sweeps.
// Appended to js/_lib.js (nbArray, nbEl, nbSvg, nbOn, nbSet, nbFmt, nbDiverging, nbSequential, ...).

const NBA_BOX = 248; // screen pixels of one panel at "fit"
const NBA_MAX_CANVAS = 4096;

const NBA_DIV = nbLut(nbDiverging, true);

/** ImageData of example i of a (N, H, W, C) uint8 array (C = 1 or 3). */
function nbaImage(arr, i) {
  const [, h, w, c] = arr.shape;
  const img = new ImageData(w, h);
  const src = arr.data, off = i * h * w * c, dst = img.data;
  for (let p = 0; p < h * w; p++) {
    const s = off + p * c;
    dst[4 * p] = src[s];
    dst[4 * p + 1] = src[c === 3 ? s + 1 : s];
    dst[4 * p + 2] = src[c === 3 ? s + 2 : s];
    dst[4 * p + 3] = 255;
  }
  return img;
}

/** Signed difference of example i coloured blue (darker) – white – red (brighter).
 *  The int8 values are q/127 of the example's largest change `scale` (in units of the value range);
 *  `amp` = 0 stretches the largest change to the ends of the colour map. */
function nbaDiffImage(diff, scaleArr, i, amp) {
  const [, h, w] = diff.shape;
  const img = new ImageData(w, h);
  const scale = scaleArr.data[i];
  const k = amp > 0 ? scale * amp : 1;
  const src = diff.data, off = i * h * w, dst = img.data;
  for (let p = 0; p < h * w; p++) {
    const t = Math.max(-1, Math.min(1, (src[off + p] / 127) * k));
    const j = Math.round((t + 1) * 127.5) * 3;
    dst[4 * p] = NBA_DIV[j]; dst[4 * p + 1] = NBA_DIV[j + 1]; dst[4 * p + 2] = NBA_DIV[j + 2]; dst[4 * p + 3] = 255;
  }
  return img;
}

/** Spectrogram i of (N, F, T) uint8 as an image; with `other`, the signed dB difference to it
 *  (±30 dB at the ends of the diverging map). Low frequencies at the bottom. */
function nbaSpecImage(spec, i, other) {
  if (!other) return nbSpecImage(spec, i);
  const [, f, t] = spec.shape;
  const img = new ImageData(t, f);
  const off = i * f * t, dst = img.data;
  for (let r = 0; r < f; r++) {
    for (let c = 0; c < t; c++) {
      const p = ((f - 1 - r) * t + c) * 4;
      const d = ((spec.data[off + r * t + c] - other.data[off + r * t + c]) / 255) * 90;
      const j = Math.round((Math.max(-1, Math.min(1, d / 30)) + 1) * 127.5) * 3;
      dst[p] = NBA_DIV[j]; dst[p + 1] = NBA_DIV[j + 1]; dst[p + 2] = NBA_DIV[j + 2]; dst[p + 3] = 255;
    }
  }
  return img;
}

/** An image panel: a native-resolution canvas scaled with nearest-neighbour sampling, and an
 *  overlay canvas at screen resolution for the pixel grid and the L0 outlines. */
function nbaPanel(name, label) {
  const base = nbEl("canvas", { class: "nba-base" });
  const top = nbEl("canvas", { class: "nba-base nba-top" });
  const overlay = nbEl("canvas", { class: "nba-overlay" });
  const swipe = name === "swipe";
  const divider = swipe ? nbEl("div", { class: "nba-divider", "data-testid": "nba-swipe-divider" }) : null;
  const stack = nbEl("div", { class: "nba-stack" }, swipe ? [base, top, overlay, divider] : [base, top, overlay]);
  const viewport = nbEl("div", { class: "nba-viewport" }, [stack]);
  const caption = nbEl("div", { class: "nba-caption", text: label });
  const root = nbEl("div", { class: `nba-panel nba-panel-${name}`, "data-testid": `nba-panel-${name}` }, [caption, viewport]);
  if (!swipe) top.style.display = "none";
  return { root, base, top, overlay, stack, viewport, caption, divider };
}

function nbaSizePanel(panel, w, h, s) {
  for (const c of [panel.base, panel.top]) {
    c.width = w; c.height = h;
    c.style.width = `${w * s}px`; c.style.height = `${h * s}px`;
  }
  panel.stack.style.width = `${w * s}px`;
  panel.stack.style.height = `${h * s}px`;
  const ow = Math.min(Math.round(w * s), NBA_MAX_CANVAS), oh = Math.min(Math.round(h * s), NBA_MAX_CANVAS);
  panel.overlay.width = ow; panel.overlay.height = oh;
  panel.overlay.style.width = `${w * s}px`; panel.overlay.style.height = `${h * s}px`;
}

/** Pixel grid (when a pixel is at least 8 screen pixels) and outlines of changed pixels. */
function nbaDrawOverlay(panel, w, h, s, mask, i) {
  const ctx = panel.overlay.getContext("2d");
  const sx = panel.overlay.width / w, sy = panel.overlay.height / h;
  ctx.clearRect(0, 0, panel.overlay.width, panel.overlay.height);
  if (s >= 8) {
    ctx.strokeStyle = "rgba(128,128,128,0.45)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let c = 0; c <= w; c++) { const x = Math.round(c * sx) + 0.5; ctx.moveTo(x, 0); ctx.lineTo(x, panel.overlay.height); }
    for (let r = 0; r <= h; r++) { const y = Math.round(r * sy) + 0.5; ctx.moveTo(0, y); ctx.lineTo(panel.overlay.width, y); }
    ctx.stroke();
  }
  if (!mask) return 0;
  let n = 0;
  const off = i * h * w;
  const lw = Math.max(1.5, Math.min(3, sx / 6));
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      if (!mask.data[off + r * w + c]) continue;
      n++;
      const x = c * sx, y = r * sy;
      const pad = Math.max(sx, 6) > sx ? (6 - sx) / 2 : 0; // keep tiny pixels visible
      ctx.lineWidth = lw + 2; ctx.strokeStyle = "rgba(0,0,0,0.85)";
      ctx.strokeRect(x - pad, y - pad, sx + 2 * pad, sy + 2 * pad);
      ctx.lineWidth = lw; ctx.strokeStyle = "#ffd400";
      ctx.strokeRect(x - pad, y - pad, sx + 2 * pad, sy + 2 * pad);
    }
  }
  return n;
}

function nbaFmtMetric(key, v, censored, budget) {
  if (key === "success") return v ? "yes" : "no";
  if (key === "l0_pixels") return censored ? `≥ ${budget}` : nbInt(v);
  if (key === "psnr") return Number.isFinite(v) ? `${v.toFixed(1)} dB` : "∞";
  if (key.startsWith("confidence")) return `${(v * 100).toFixed(1)}%`;
  if (key === "index") return `#${v}`;
  return nbFmt(v, 3);
}

/** Top-k bars: class name (text only), confidence bar, percentage. */
function nbaPreds(title, testid, idx, probs, i, classes, truth) {
  const k = idx.shape[1];
  const rows = [];
  for (let j = 0; j < k; j++) {
    const c = idx.data[i * k + j], p = probs.data[i * k + j];
    const bar = nbEl("div", { class: "nba-bar" });
    bar.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    rows.push(nbEl("div", { class: `nba-pred${c === truth ? " nba-true" : ""}${j === 0 ? " nba-top1" : ""}` }, [
      nbEl("span", { class: "nba-pred-name", text: classes[c] ?? String(c) }),
      nbEl("span", { class: "nba-bar-track" }, [bar]),
      nbEl("span", { class: "nba-pred-p", text: `${(p * 100).toFixed(1)}%` }),
    ]));
  }
  return nbEl("div", { class: "nba-preds", "data-testid": testid }, [nbEl("div", { class: "nba-preds-title", text: title }), ...rows]);
}

function nbaRenderDiff(model, el) {
  const root = nbEl("div", { class: "nbd-root nba-root" });
  el.append(root);
  const cleanups = [];
  let blinkTimer = null;
  const urls = [];

  const get = (name) => nbArray(model.get(name));
  const data = {
    orig: get("originals"), adv: get("adversarials"), diff: get("diff"), scale: get("diff_scale"),
    changed: get("changed"), so: get("spec_originals"), sa: get("spec_adversarials"), metrics: get("metrics"),
    labels: get("labels"), tb: get("topk_before"), ta: get("topk_after"), pb: get("topk_p_before"),
    pa: get("topk_p_after"), censored: get("censored"),
  };
  const classes = model.get("classes");
  const names = model.get("metric_names");
  const audio = model.get("modality") !== "image";
  const mlabels = model.get("metric_labels").map((l, j) => (audio && names[j] === "l0_pixels" ? "samples changed" : l));
  const n = data.metrics.shape[1];
  const metric = (key, i) => data.metrics.data[names.indexOf(key) * n + i];

  // -- toolbar --------------------------------------------------------------------------------
  const title = nbEl("div", { class: "nbd-title", text: model.get("title") });
  const sub = nbEl("div", { class: "nbd-sub", text: model.get("subtitle") });
  const prev = nbEl("button", { text: "◀", title: "previous in gallery order", "data-testid": "nba-prev" });
  const next = nbEl("button", { text: "▶", title: "next in gallery order", "data-testid": "nba-next" });
  const where = nbEl("span", { class: "nba-where" });
  const modeButtons = {};
  for (const m of ["side", "swipe", "blink"]) {
    modeButtons[m] = nbEl("button", { text: m, "data-testid": `nba-mode-${m}`, onclick: () => nbSet(model, "mode", m) });
  }
  const amp = nbEl("input", { type: "range", min: "0", max: "4", step: "0.05", value: "0", class: "nba-amplify",
    "data-testid": "nba-amplify", title: "amplification of the difference (log scale)" });
  const ampLabel = nbEl("span", { class: "nba-amp-label" });
  const ampAuto = nbEl("button", { text: "auto", "data-testid": "nba-amplify-auto", onclick: () => nbSet(model, "amplify", 0) });
  const zoom = nbEl("select", { "data-testid": "nba-zoom", title: "screen pixels per image pixel" });
  for (const z of [0, 1, 2, 4, 8, 16, 32, 64]) zoom.append(nbEl("option", { value: String(z), text: z === 0 ? "fit" : `${z}×` }));
  const sortSel = nbEl("select", { "data-testid": "nba-sort", title: "sort the gallery by" });
  names.forEach((k, j) => sortSel.append(nbEl("option", { value: k, text: mlabels[j] })));
  const sortDir = nbEl("button", { "data-testid": "nba-sort-dir", onclick: () => nbSet(model, "sort_descending", !model.get("sort_descending")) });
  const bar = nbEl("div", { class: "nbd-toolbar" }, [
    prev, where, next,
    ...(audio ? [] : [nbEl("span", { class: "nba-sep" }), ...Object.values(modeButtons)]),
    nbEl("span", { class: "nba-sep" }), nbEl("label", { text: "difference" }), amp, ampLabel, ampAuto,
    ...(audio ? [] : [nbEl("span", { class: "nba-sep" }), nbEl("label", { text: "zoom" }), zoom]),
    nbEl("span", { class: "nba-sep" }), nbEl("label", { text: "gallery by" }), sortSel, sortDir,
  ]);

  const stage = nbEl("div", { class: "nba-stage", "data-testid": "nba-stage" });
  const side = nbEl("div", { class: "nba-side" });
  const gallery = nbEl("div", { class: "nba-gallery", "data-testid": "nba-gallery" });
  root.append(title, sub, bar, nbEl("div", { class: "nba-main" }, [stage, side]), gallery);

  // -- panels ---------------------------------------------------------------------------------
  const panels = audio ? null : {
    original: nbaPanel("original", "original"),
    adversarial: nbaPanel("adversarial", "adversarial"),
    swipe: nbaPanel("swipe", "original | adversarial (drag the divider)"),
    blink: nbaPanel("blink", "blink"),
    difference: nbaPanel("difference", "difference"),
  };
  let swipeAt = 0.5;
  if (panels) {
    const sw = panels.swipe;
    const setSwipe = (clientX) => {
      const r = sw.stack.getBoundingClientRect();
      swipeAt = Math.max(0, Math.min(1, (clientX - r.left) / Math.max(r.width, 1)));
      placeSwipe();
    };
    let dragging = false;
    const down = (e) => { dragging = true; sw.stack.setPointerCapture?.(e.pointerId); setSwipe(e.clientX); e.preventDefault(); };
    const move = (e) => { if (dragging) setSwipe(e.clientX); };
    const up = () => { dragging = false; };
    sw.stack.addEventListener("pointerdown", down);
    sw.stack.addEventListener("pointermove", move);
    sw.stack.addEventListener("pointerup", up);
    sw.stack.addEventListener("pointercancel", up);
    // keep the zoomed panels scrolled together
    const ports = Object.values(panels).map((p) => p.viewport);
    let syncing = false;
    for (const vp of ports) {
      vp.addEventListener("scroll", () => {
        if (syncing) return;
        syncing = true;
        for (const o of ports) if (o !== vp) { o.scrollLeft = vp.scrollLeft; o.scrollTop = vp.scrollTop; }
        syncing = false;
      });
    }
  }
  function placeSwipe() {
    const sw = panels.swipe;
    const pct = (swipeAt * 100).toFixed(2);
    sw.top.style.clipPath = `inset(0 0 0 ${pct}%)`;
    sw.divider.style.left = `${pct}%`;
    sw.divider.dataset.position = (+pct).toFixed(1);
  }

  function scaleFor(w, h) {
    const z = model.get("zoom");
    const maxdim = Math.max(w, h);
    let s = z > 0 ? z : (maxdim <= NBA_BOX ? Math.max(1, Math.floor(NBA_BOX / maxdim)) : NBA_BOX / maxdim);
    return Math.min(s, NBA_MAX_CANVAS / maxdim);
  }

  function effectiveAmp(i) {
    const a = model.get("amplify");
    const sc = data.scale.data[i];
    return a > 0 ? a : (sc > 0 ? 1 / sc : 1);
  }

  function drawImages(i) {
    const [, h, w] = data.orig.shape;
    const s = scaleFor(w, h);
    const mode = model.get("mode");
    const a = model.get("amplify");
    const imgO = nbaImage(data.orig, i), imgA = nbaImage(data.adv, i);
    const imgD = nbaDiffImage(data.diff, data.scale, i, a);
    for (const p of Object.values(panels)) nbaSizePanel(p, w, h, s);
    panels.original.base.getContext("2d").putImageData(imgO, 0, 0);
    panels.adversarial.base.getContext("2d").putImageData(imgA, 0, 0);
    panels.swipe.base.getContext("2d").putImageData(imgO, 0, 0);
    panels.swipe.top.getContext("2d").putImageData(imgA, 0, 0);
    panels.difference.base.getContext("2d").putImageData(imgD, 0, 0);
    placeSwipe();
    let outlined = 0;
    for (const [k, p] of Object.entries(panels)) outlined = nbaDrawOverlay(p, w, h, s, data.changed, i) || outlined;
    panels.difference.caption.textContent = `difference ×${nbFmt(effectiveAmp(i), 3)}${outlined ? ` · ${outlined} px outlined` : ""}`;
    clearInterval(blinkTimer);
    blinkTimer = null;
    const visible = mode === "side" ? ["original", "adversarial", "difference"]
      : mode === "swipe" ? ["swipe", "difference"] : ["blink", "difference"];
    stage.replaceChildren(...visible.map((k) => panels[k].root));
    if (mode === "blink") {
      let showAdv = false;
      const ctx = panels.blink.base.getContext("2d");
      const tick = () => {
        ctx.putImageData(showAdv ? imgA : imgO, 0, 0);
        panels.blink.caption.textContent = showAdv ? "adversarial" : "original";
        panels.blink.root.dataset.showing = showAdv ? "adversarial" : "original";
        showAdv = !showAdv;
      };
      tick();
      blinkTimer = setInterval(tick, 600);
    }
    for (const m of Object.keys(modeButtons)) modeButtons[m].setAttribute("aria-pressed", String(m === mode));
    zoom.value = String(model.get("zoom"));
  }

  function waveCanvas(samples, i, len, color, gain = 1) {
    const W = 520, H = 72;
    const c = nbEl("canvas", { class: "nba-wave", width: String(W), height: String(H) });
    const ctx = c.getContext("2d");
    ctx.strokeStyle = "rgba(128,128,128,0.4)";
    ctx.beginPath(); ctx.moveTo(0, H / 2 + 0.5); ctx.lineTo(W, H / 2 + 0.5); ctx.stroke();
    ctx.fillStyle = color;
    const off = i * len;
    for (let x = 0; x < W; x++) { // min/max per column, so no peak is lost
      const a = Math.floor((x * len) / W), b = Math.max(a + 1, Math.floor(((x + 1) * len) / W));
      let lo = Infinity, hi = -Infinity;
      for (let j = a; j < b; j++) { const v = samples[off + j] * gain; if (v < lo) lo = v; if (v > hi) hi = v; }
      lo = Math.max(-1, lo); hi = Math.min(1, hi);
      const y0 = (1 - hi) * H / 2, y1 = (1 - lo) * H / 2;
      ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
    }
    return c;
  }

  function specCanvas(img) {
    const c = nbEl("canvas", { class: "nba-spec", width: String(img.width), height: String(img.height) });
    c.getContext("2d").putImageData(img, 0, 0);
    return c;
  }

  function drawAudio(i) {
    for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    const len = data.orig.shape[1];
    const rate = model.get("sample_rate") || 8000;
    const gain = effectiveAmp(i) * data.scale.data[i] > 0 ? Math.min(effectiveAmp(i), 1e4) : 1;
    const diffWave = new Float32Array(len);
    for (let j = 0; j < len; j++) diffWave[j] = data.adv.data[i * len + j] - data.orig.data[i * len + j];
    const rows = [
      ["original", data.orig.data.subarray(i * len, (i + 1) * len), "#4e79a7", 1, nbaSpecImage(data.so, i)],
      ["adversarial", data.adv.data.subarray(i * len, (i + 1) * len), "#e15759", 1, nbaSpecImage(data.sa, i)],
      ["difference", diffWave, "#555", gain, nbaSpecImage(data.sa, i, data.so)],
    ];
    const out = rows.map(([name, wave, color, g, spec]) => {
      const scaled = g === 1 ? wave : wave.map((v) => v * g);
      const url = nbWavUrl(scaled, rate);
      urls.push(url);
      const player = nbEl("audio", { controls: true, src: url, preload: "auto", "data-testid": `nba-audio-${name}` });
      const label = name === "difference" ? `difference ×${nbFmt(g, 3)} (spectrogram: dB change, ±30 dB)` : name;
      return nbEl("div", { class: `nba-audio-row nba-panel-${name}`, "data-testid": `nba-panel-${name}` }, [
        nbEl("div", { class: "nba-caption", text: label }),
        nbEl("div", { class: "nba-audio-body" }, [waveCanvas(scaled, 0, len, color), specCanvas(spec), player]),
      ]);
    });
    stage.replaceChildren(...out);
  }

  /** Distribution of pixels-to-flip over the examples that were correct before (L0 attack). */
  function histogram() {
    if (model.get("method") !== "pixels") return null;
    const budget = model.get("budget_px");
    const counts = new Array(budget + 2).fill(0); // 0..budget, then "≥ budget" (no flip)
    for (let i = 0; i < n; i++) {
      if (data.labels.data[n + i] !== data.labels.data[i]) continue;
      const v = metric("l0_pixels", i);
      counts[data.censored.data[i] ? budget + 1 : Math.min(v, budget)]++;
    }
    const W = 300, H = 110, m = { l: 28, r: 6, t: 16, b: 28 };
    const top = Math.max(1, ...counts);
    const bw = (W - m.l - m.r) / counts.length;
    const sy = nbScaleLinear(0, top, H - m.b, m.t);
    const svg = nbSvg("svg", { width: W, height: H, class: "nba-hist", "data-testid": "nba-hist" });
    svg.append(nbSvg("text", { x: m.l, y: 11, class: "nba-chart-title", text: `pixels to flip (${counts.reduce((a, b) => a + b, 0)} correct examples)` }));
    counts.forEach((c, j) => {
      const x = m.l + j * bw;
      const last = j === counts.length - 1;
      const r = nbSvg("rect", { x: x + 1, y: sy(c), width: Math.max(1, bw - 2), height: H - m.b - sy(c), class: last ? "nba-hist-censored" : "nba-hist-bar" });
      r.append(nbSvg("title", { text: `${last ? `≥ ${budget} (no flip within the budget)` : `${j} pixel${j === 1 ? "" : "s"}`}: ${c} example${c === 1 ? "" : "s"}` }));
      svg.append(r);
      if (last || j % Math.max(1, Math.ceil(counts.length / 8)) === 0) {
        svg.append(nbSvg("text", { x: x + bw / 2, y: H - m.b + 12, "text-anchor": "middle", class: "nba-hist-tick", text: last ? `≥${budget}` : String(j) }));
      }
    });
    svg.append(nbSvg("text", { x: m.l - 4, y: sy(top) + 4, "text-anchor": "end", class: "nba-hist-tick", text: String(top) }));
    return svg;
  }
  const hist = histogram();

  function drawSide(i) {
    const [y, before, after] = [0, 1, 2].map((r) => data.labels.data[r * n + i]);
    const cens = data.censored.data[i];
    const budget = model.get("budget_px");
    const flipped = after !== y;
    const verdict = nbEl("div", { class: `nbd-banner ${flipped ? "bad" : "ok"}`, "data-testid": "nba-verdict",
      text: `label ${classes[y]} · predicted ${classes[before]} → ${classes[after]}${flipped ? " (flipped)" : " (held)"}` });
    const rows = ["l0_pixels", "l2", "linf", "psnr", "ssim"].map((k) => nbEl("tr", {}, [
      nbEl("td", { text: mlabels[names.indexOf(k)] }),
      nbEl("td", { class: "nba-num", text: nbaFmtMetric(k, metric(k, i), cens, budget) }),
    ]));
    side.replaceChildren(
      verdict,
      nbEl("div", { class: "nba-preds-pair" }, [
        nbaPreds("before", "nba-preds-before", data.tb, data.pb, i, classes, y),
        nbaPreds("after", "nba-preds-after", data.ta, data.pa, i, classes, y),
      ]),
      nbEl("table", { class: "nba-metrics", "data-testid": "nba-metrics" }, [nbEl("tbody", {}, rows)]),
      ...(hist ? [hist] : []),
    );
  }

  function order() {
    const key = model.get("sort_by");
    const desc = model.get("sort_descending");
    const idx = Array.from({ length: n }, (_, i) => i);
    const v = (i) => { const x = metric(key, i); return Number.isNaN(x) ? (desc ? -Infinity : Infinity) : x; };
    idx.sort((a, b) => (desc ? v(b) - v(a) : v(a) - v(b)) || a - b);
    return idx;
  }

  function thumb(i) {
    const c = nbEl("canvas", { class: "nba-thumb" });
    if (audio) {
      const img = nbaSpecImage(data.sa, i);
      c.width = img.width; c.height = img.height;
      c.getContext("2d").putImageData(img, 0, 0);
    } else {
      const [, h, w] = data.adv.shape;
      c.width = w; c.height = h;
      c.getContext("2d").putImageData(nbaImage(data.adv, i), 0, 0);
    }
    return c;
  }

  const thumbs = new Map();
  function drawGallery() {
    const key = model.get("sort_by");
    const cur = model.get("index");
    const budget = model.get("budget_px");
    const items = order().map((i) => {
      const [y, , after] = [0, 1, 2].map((r) => data.labels.data[r * n + i]);
      if (!thumbs.has(i)) thumbs.set(i, thumb(i));
      const item = nbEl("div", {
        class: `nba-item${after !== y ? " nba-flipped" : ""}${i === cur ? " nba-selected" : ""}`,
        "data-index": String(i), title: `#${i}: ${classes[y]} → ${classes[after]}`, role: "button", tabindex: "0",
      }, [
        thumbs.get(i),
        nbEl("div", { class: "nba-item-cap", text: `${classes[y]}→${classes[after]}` }),
        nbEl("div", { class: "nba-item-val", text: nbaFmtMetric(key, metric(key, i), data.censored.data[i], budget) }),
      ]);
      return item;
    });
    gallery.replaceChildren(...items);
  }
  const onGalleryClick = (e) => {
    const item = e.target.closest(".nba-item");
    if (item && gallery.contains(item)) nbSet(model, "index", Number(item.dataset.index));
  };
  const onGalleryKey = (e) => { if (e.key === "Enter") onGalleryClick(e); };
  gallery.addEventListener("click", onGalleryClick);
  gallery.addEventListener("keydown", onGalleryKey);

  function step(d) {
    const o = order();
    const pos = o.indexOf(model.get("index"));
    nbSet(model, "index", o[Math.max(0, Math.min(o.length - 1, pos + d))]);
  }
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  amp.addEventListener("input", () => nbSet(model, "amplify", +Math.pow(10, +amp.value).toPrecision(4)));
  zoom.addEventListener("change", () => nbSet(model, "zoom", Number(zoom.value)));
  sortSel.addEventListener("change", () => nbSet(model, "sort_by", sortSel.value));

  function drawMain() {
    const i = Math.max(0, Math.min(n - 1, model.get("index")));
    const total = model.get("n_total");
    where.textContent = `#${i} (${n}${total > n ? ` of ${total}` : ""})`;
    const a = effectiveAmp(i);
    ampLabel.textContent = `×${nbFmt(a, 3)}`;
    if (document.activeElement !== amp) amp.value = String(Math.max(0, Math.min(4, Math.log10(a))));
    ampAuto.setAttribute("aria-pressed", String(model.get("amplify") === 0));
    if (audio) drawAudio(i); else drawImages(i);
    drawSide(i);
  }
  function drawToolbar() {
    sortSel.value = model.get("sort_by");
    sortDir.textContent = model.get("sort_descending") ? "↓ desc" : "↑ asc";
  }
  function selectInGallery() {
    const cur = model.get("index");
    for (const it of gallery.children) it.classList.toggle("nba-selected", Number(it.dataset.index) === cur);
  }

  drawToolbar();
  drawMain();
  drawGallery();
  cleanups.push(
    nbOn(model, "index", () => { drawMain(); selectInGallery(); }),
    nbOn(model, "mode", drawMain),
    nbOn(model, "amplify", drawMain),
    nbOn(model, "zoom", drawMain),
    nbOn(model, "sort_by", () => { drawToolbar(); drawGallery(); }),
    nbOn(model, "sort_descending", () => { drawToolbar(); drawGallery(); }),
  );
  return () => {
    clearInterval(blinkTimer);
    for (const u of urls) URL.revokeObjectURL(u);
    for (const c of cleanups) c();
    gallery.removeEventListener("click", onGalleryClick);
    gallery.removeEventListener("keydown", onGalleryKey);
    root.remove();
  };
}

/** Small multiples: one line chart per series over the shared x. */
function nbaRenderCurves(model, el) {
  const root = nbEl("div", { class: "nbd-root nba-root" });
  el.append(root);
  const tip = nbTooltip(root);
  const x = nbArray(model.get("x"));
  const ys = nbArray(model.get("ys"));
  const hl = nbArray(model.get("hlines"));
  const series = model.get("series");
  const labels = model.get("point_labels");
  const P = x.shape[0];
  const charts = nbEl("div", { class: "nba-charts", "data-testid": "nba-charts" });
  root.append(nbEl("div", { class: "nbd-title", text: model.get("title") }),
    nbEl("div", { class: "nbd-sub", text: model.get("subtitle") }), charts);
  const W = 300, H = 200, m = { l: 46, r: 12, t: 22, b: 36 };
  const xs = Array.from(x.data);
  const xlog = model.get("xlog") && Math.min(...xs) > 0;
  const x0 = xlog ? Math.min(...xs) / 1.3 : Math.min(0, ...xs), x1 = Math.max(...xs) * (xlog ? 1.3 : 1);
  const points = [];
  series.forEach((name, s) => {
    const vals = Array.from(ys.data.slice(s * P, (s + 1) * P));
    const finite = vals.filter(Number.isFinite);
    const h = hl ? hl.data[s] : NaN;
    const top = Math.max(...finite, Number.isFinite(h) ? h : -Infinity, 0) * 1.08 || 1;
    const sx = xlog ? nbScaleLog(x0, x1, m.l, W - m.r) : nbScaleLinear(x0, x1 || 1, m.l, W - m.r), sy = nbScaleLinear(0, top, H - m.b, m.t);
    const svg = nbSvg("svg", { width: W, height: H, class: "nba-chart", "data-testid": `nba-chart-${s}` });
    const axis = nbSvg("g", { class: "nbd-axis" });
    for (const t of sx.ticks(5)) {
      axis.append(nbSvg("line", { x1: sx(t), x2: sx(t), y1: H - m.b, y2: H - m.b + 4 }),
        nbSvg("text", { x: sx(t), y: H - m.b + 15, "text-anchor": "middle", text: nbFmt(t) }));
    }
    for (const t of sy.ticks(4)) {
      axis.append(nbSvg("line", { x1: m.l - 4, x2: W - m.r, y1: sy(t), y2: sy(t), class: "nba-gridline" }),
        nbSvg("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end", text: nbFmt(t) }));
    }
    axis.append(nbSvg("text", { x: (m.l + W - m.r) / 2, y: H - 4, "text-anchor": "middle", text: model.get("xlabel") }));
    svg.append(axis, nbSvg("text", { x: m.l, y: 14, class: "nba-chart-title", text: name }));
    if (Number.isFinite(h)) svg.append(nbSvg("line", { x1: m.l, x2: W - m.r, y1: sy(h), y2: sy(h), class: "nba-hline" }));
    let d = "";
    vals.forEach((v, j) => { if (Number.isFinite(v)) d += `${d ? "L" : "M"}${sx(xs[j])},${sy(v)}`; });
    svg.append(nbSvg("path", { d, class: "nba-line" }));
    vals.forEach((v, j) => {
      const shown = Number.isFinite(v) ? v : top / 1.08;
      const c = nbSvg("circle", { cx: sx(xs[j]), cy: sy(shown), r: 4, class: `nba-point${Number.isFinite(v) ? "" : " nba-open"}`, "data-index": j });
      c.addEventListener("mouseenter", (e) => {
        const r = root.getBoundingClientRect();
        tip.show(e.clientX - r.left, e.clientY - r.top, [labels[j] || `x = ${nbFmt(xs[j])}`, `${name}: ${Number.isFinite(v) ? nbFmt(v) : "beyond the range tried"}`]);
      });
      c.addEventListener("mouseleave", () => tip.hide());
      c.addEventListener("click", () => nbSet(model, "selected", j));
      points.push(c);
      svg.append(c);
    });
    charts.append(svg);
  });
  const mark = () => { for (const c of points) c.classList.toggle("nba-selected", Number(c.dataset.index) === model.get("selected")); };
  mark();
  const off = nbOn(model, "selected", mark);
  return () => { off(); root.remove(); };
}

export default {
  render({ model, el }) {
    return model.get("view") === "curves" ? nbaRenderCurves(model, el) : nbaRenderDiff(model, el);
  },
};
