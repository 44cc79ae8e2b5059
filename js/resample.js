// Resampling views: before/after scatter on one projection with controls that recompute in
// Python (ResampleWidget), and the per-trial complexity chart of a search (ResampleSearchWidget).
// Concatenated after _lib.js; top-level names carry the nbRs prefix.

const NB_RS_W = 380;
const NB_RS_H = 330;
const NB_RS_M = { l: 44, r: 10, t: 10, b: 34 };

/** Read the {buffer, dtype, shape} traits this view needs into typed arrays. */
function nbRsData(model) {
  const get = (k) => nbArray(model.get(k));
  const empty = { data: new Float32Array(0), shape: [0, 2] };
  return {
    bxy: get("before_xy") || empty,
    blab: get("before_label") || { data: new Int32Array(0), shape: [0] },
    brem: get("before_removed") || { data: new Uint8Array(0), shape: [0] },
    axy: get("after_xy") || empty,
    alab: get("after_label") || { data: new Int32Array(0), shape: [0] },
    asyn: get("after_synthetic") || { data: new Uint8Array(0), shape: [0] },
    synRows: get("syn_rows") || { data: new Int32Array(0), shape: [0] },
    synPar: get("syn_parents") || { data: new Int32Array(0), shape: [0, 2] },
    synW: get("syn_weights") || { data: new Float32Array(0), shape: [0] },
    gxy: get("ghost_xy") || empty,
    glab: get("ghost_label") || { data: new Int32Array(0), shape: [0] },
    txy: get("tomek_xy") || { data: new Float32Array(0), shape: [0, 2, 2] },
  };
}

/** Shared x/y scales over every point drawn, so both panels compare point for point. */
function nbRsScales(d) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const arr of [d.bxy.data, d.axy.data, d.gxy.data]) {
    for (let i = 0; i < arr.length; i += 2) {
      const x = arr[i], y = arr[i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  }
  if (!Number.isFinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  const px = (x1 - x0) * 0.04 || 1, py = (y1 - y0) * 0.04 || 1;
  return {
    sx: nbScaleLinear(x0 - px, x1 + px, NB_RS_M.l, NB_RS_W - NB_RS_M.r),
    sy: nbScaleLinear(y0 - py, y1 + py, NB_RS_H - NB_RS_M.b, NB_RS_M.t),
  };
}

/** A canvas sized for the device pixel ratio, plus a transparent overlay for hover marks. */
function nbRsCanvas(testid, label) {
  const ratio = window.devicePixelRatio || 1;
  const make = (cls) => {
    const c = nbEl("canvas", { class: cls, width: NB_RS_W * ratio, height: NB_RS_H * ratio });
    c.style.width = `${NB_RS_W}px`;
    c.style.height = `${NB_RS_H}px`;
    const ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    return { c, ctx };
  };
  const base = make("nbd-rs-canvas");
  const over = make("nbd-rs-overlay");
  const title = nbEl("div", { class: "nbd-rs-panel-title", text: label });
  const wrap = nbEl("div", { class: "nbd-rs-panel", "data-testid": testid }, [
    title, nbEl("div", { class: "nbd-rs-stack" }, [base.c, over.c]),
  ]);
  return { wrap, title, base, over };
}

function nbRsAxes(ctx, sx, sy, axes) {
  ctx.save();
  ctx.strokeStyle = "#999";
  ctx.fillStyle = "#555";
  ctx.font = "10px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.strokeRect(NB_RS_M.l, NB_RS_M.t, NB_RS_W - NB_RS_M.l - NB_RS_M.r, NB_RS_H - NB_RS_M.t - NB_RS_M.b);
  ctx.textAlign = "center";
  for (const t of sx.ticks(5)) {
    const x = sx(t);
    if (x < NB_RS_M.l || x > NB_RS_W - NB_RS_M.r) continue;
    ctx.beginPath(); ctx.moveTo(x, NB_RS_H - NB_RS_M.b); ctx.lineTo(x, NB_RS_H - NB_RS_M.b + 4); ctx.stroke();
    ctx.fillText(nbFmt(t), x, NB_RS_H - NB_RS_M.b + 14);
  }
  ctx.textAlign = "right";
  for (const t of sy.ticks(5)) {
    const y = sy(t);
    if (y < NB_RS_M.t || y > NB_RS_H - NB_RS_M.b) continue;
    ctx.beginPath(); ctx.moveTo(NB_RS_M.l - 4, y); ctx.lineTo(NB_RS_M.l, y); ctx.stroke();
    ctx.fillText(nbFmt(t), NB_RS_M.l - 6, y + 3);
  }
  ctx.textAlign = "center";
  ctx.fillText(axes[0] || "", (NB_RS_M.l + NB_RS_W - NB_RS_M.r) / 2, NB_RS_H - 4);
  ctx.save();
  ctx.translate(10, (NB_RS_M.t + NB_RS_H - NB_RS_M.b) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(axes[1] || "", 0, 0);
  ctx.restore();
  ctx.restore();
}

/** Parse any CSS colour to [r, g, b] through a 1x1 canvas. */
function nbRsRGB(colour) {
  const c = nbRsRGB.ctx || (nbRsRGB.ctx = document.createElement("canvas").getContext("2d"));
  c.fillStyle = "#000";
  c.fillStyle = colour;
  const v = c.fillStyle;
  if (v.startsWith("#")) return [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16));
  const m = v.match(/\d+(\.\d+)?/g) || [0, 0, 0];
  return m.slice(0, 3).map(Number);
}

/** Pixel offsets of a marker shape at device resolution: "disc", "diamond" (outline), "cross". */
function nbRsShape(kind, r) {
  const out = [];
  const R = Math.max(1, Math.round(r));
  for (let dy = -R - 1; dy <= R + 1; dy++) {
    for (let dx = -R - 1; dx <= R + 1; dx++) {
      const ax = Math.abs(dx), ay = Math.abs(dy);
      let on = false;
      if (kind === "disc") on = dx * dx + dy * dy <= r * r + 0.5;
      else if (kind === "diamond") on = Math.abs(ax + ay - (R + 1)) < 0.75 || Math.abs(ax + ay - R) < 0.5;
      else on = (ax === ay || Math.abs(ax - ay) === 0) && ax <= R + 1;
      if (on) out.push(dx, dy);
    }
  }
  return new Int16Array(out);
}

/**
 * Points are rasterised straight into an ImageData and composited once: on software-rendered
 * canvases this is an order of magnitude faster than one arc path per point.
 */
function nbRsRaster(ctx, ratio) {
  const W = Math.round(NB_RS_W * ratio), H = Math.round(NB_RS_H * ratio);
  const img = new ImageData(W, H);
  const px = new Uint32Array(img.data.buffer);
  const x0 = Math.round(NB_RS_M.l * ratio), x1 = Math.round((NB_RS_W - NB_RS_M.r) * ratio);
  const y0 = Math.round(NB_RS_M.t * ratio), y1 = Math.round((NB_RS_H - NB_RS_M.b) * ratio);
  return {
    stamp(x, y, shape, packed) {
      const cx = Math.round(x * ratio), cy = Math.round(y * ratio);
      for (let k = 0; k < shape.length; k += 2) {
        const u = cx + shape[k], v = cy + shape[k + 1];
        if (u >= x0 && u < x1 && v >= y0 && v < y1) px[v * W + u] = packed;
      }
    },
    flush() {
      const off = document.createElement("canvas");
      off.width = W; off.height = H;
      off.getContext("2d").putImageData(img, 0, 0);
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(off, 0, 0);
      ctx.restore();
    },
  };
}

function nbRsPack(rgb, a = 255) {
  return ((a << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
}

/** Draw the before and after panels from scratch. */
function nbRsDraw(d, sc, before, after, colours, axes) {
  const { sx, sy } = sc;
  const ratio = window.devicePixelRatio || 1;
  const nTotal = d.bxy.shape[0] + d.axy.shape[0];
  const r = (nTotal > 20000 ? 1.3 : nTotal > 4000 ? 1.8 : 2.6) * ratio;
  const disc = nbRsShape("disc", r), diamond = nbRsShape("diamond", r + ratio), cross = nbRsShape("cross", r + ratio);
  const packed = colours.map((c) => nbRsPack(nbRsRGB(c)));
  const black = nbRsPack([17, 17, 17]), grey = nbRsPack([140, 140, 140], 200);
  for (const p of [before, after]) {
    p.base.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
    p.over.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
    nbRsAxes(p.base.ctx, sx, sy, axes);
  }
  // before: originals by class, removed ones crossed out
  let ras = nbRsRaster(before.base.ctx, ratio);
  const b = d.bxy.data, bn = d.bxy.shape[0];
  for (let i = 0; i < bn; i++) ras.stamp(sx(b[2 * i]), sy(b[2 * i + 1]), disc, packed[d.blab.data[i]] ?? black);
  for (let i = 0; i < bn; i++) if (d.brem.data[i]) ras.stamp(sx(b[2 * i]), sy(b[2 * i + 1]), cross, black);
  ras.flush();
  // after: ghosts of removed rows, kept originals, synthetic rows as hollow diamonds, Tomek links
  ras = nbRsRaster(after.base.ctx, ratio);
  const g = d.gxy.data;
  for (let i = 0; i < d.gxy.shape[0]; i++) ras.stamp(sx(g[2 * i]), sy(g[2 * i + 1]), cross, grey);
  const a = d.axy.data, an = d.axy.shape[0];
  for (let i = 0; i < an; i++) if (!d.asyn.data[i]) ras.stamp(sx(a[2 * i]), sy(a[2 * i + 1]), disc, packed[d.alab.data[i]] ?? black);
  for (let i = 0; i < an; i++) if (d.asyn.data[i]) ras.stamp(sx(a[2 * i]), sy(a[2 * i + 1]), diamond, packed[d.alab.data[i]] ?? black);
  ras.flush();
  const ctx = after.base.ctx;
  ctx.strokeStyle = "#111";
  ctx.lineWidth = 1.6;
  ctx.beginPath();
  const t = d.txy.data;
  for (let i = 0; i < d.txy.shape[0]; i++) {
    ctx.moveTo(sx(t[4 * i]), sy(t[4 * i + 1]));
    ctx.lineTo(sx(t[4 * i + 2]), sy(t[4 * i + 3]));
  }
  ctx.stroke();
}

/** Index of the point of `xy` nearest to canvas position (px, py) within `maxPx`, or -1. */
function nbRsNearest(xy, sc, px, py, maxPx = 8) {
  let best = -1, bd = maxPx * maxPx;
  const a = xy.data;
  for (let i = 0; i < xy.shape[0]; i++) {
    const dx = sc.sx(a[2 * i]) - px, dy = sc.sy(a[2 * i + 1]) - py;
    const dd = dx * dx + dy * dy;
    if (dd < bd) { bd = dd; best = i; }
  }
  return best;
}

/** Grouped bars: class counts before (light) and after (solid). */
function nbRsBars(classes, before, after, colours, tip) {
  const k = classes.length;
  const W = Math.max(260, 60 + k * 46), H = 200, m = { l: 46, r: 8, t: 12, b: 40 };
  const svg = nbSvg("svg", { width: W, height: H, class: "nbd-rs-bars", role: "img" });
  const vmax = Math.max(1, ...before, ...after);
  const sy = nbScaleLinear(0, vmax * 1.05, H - m.b, m.t);
  const band = (W - m.l - m.r) / Math.max(k, 1);
  const axis = nbSvg("g", { class: "nbd-axis" });
  for (const t of nbNiceTicks(0, vmax, 4)) {
    axis.append(nbSvg("line", { x1: m.l - 4, x2: W - m.r, y1: sy(t), y2: sy(t), stroke: "#eee" }));
    axis.append(nbSvg("text", { x: m.l - 6, y: sy(t) + 3, "text-anchor": "end", text: nbFmt(t) }));
  }
  svg.append(axis);
  for (let c = 0; c < k; c++) {
    const x = m.l + c * band;
    const bw = Math.min(18, band * 0.38);
    for (const [which, v, dx] of [["before", before[c], -bw - 1], ["after", after[c], 1]]) {
      const rect = nbSvg("rect", {
        class: "nbd-bar", "data-when": which, "data-class": c,
        x: x + band / 2 + dx, y: sy(v), width: bw, height: Math.max(0, sy(0) - sy(v)),
        fill: colours[c], "fill-opacity": which === "before" ? 0.4 : 1,
      });
      rect.addEventListener("mousemove", (ev) => {
        const box = tip.el.parentElement.getBoundingClientRect();
        tip.show(ev.clientX - box.left, ev.clientY - box.top,
          [`${classes[c]}`, `${which}: ${nbInt(v)} samples`, `before ${nbInt(before[c])} → after ${nbInt(after[c])}`]);
      });
      rect.addEventListener("mouseleave", () => tip.hide());
      svg.append(rect);
    }
    const lab = nbSvg("text", { x: x + band / 2, y: H - m.b + 14, "text-anchor": "middle", class: "nbd-rs-barlabel" });
    lab.textContent = classes[c];
    svg.append(lab);
  }
  svg.append(nbSvg("text", { x: m.l, y: H - 6, class: "nbd-rs-barlabel", text: "light: before · solid: after" }));
  return svg;
}

/** Gallery: every synthetic sample beside its two parents (images on canvases, or players). */
function nbRsGallery(model, urls) {
  const kind = model.get("gallery_kind");
  const g = nbArray(model.get("gallery"));
  const info = model.get("gallery_info") || [];
  if (!kind || !g) return null;
  const box = nbEl("div", { class: "nbd-rs-gallery", "data-testid": "resample-gallery" }, [
    nbEl("div", { class: "nbd-rs-section", text: "Synthetic samples between their two parents" }),
  ]);
  const grid = nbEl("div", { class: "nbd-rs-grid" });
  box.append(grid);
  const per = g.shape.slice(2).reduce((a, b) => a * b, 1);
  for (let i = 0; i < info.length; i++) {
    const it = info[i];
    const cells = [];
    const captions = [`row ${it.parent}`, `synthetic · δ=${nbFmt(it.weight, 2)}`, `row ${it.neighbour}`];
    for (let j = 0; j < 3; j++) {
      const offset = (i * 3 + j) * per;
      let media;
      if (kind === "image") {
        const [h, w, ch] = g.shape.slice(2);
        const src = nbEl("canvas", { width: w, height: h });
        const img = src.getContext("2d").createImageData(w, h);
        for (let p = 0; p < h * w; p++) {
          const r = g.data[offset + p * ch], gg = ch === 3 ? g.data[offset + p * ch + 1] : r;
          const b = ch === 3 ? g.data[offset + p * ch + 2] : r;
          img.data[4 * p] = r; img.data[4 * p + 1] = gg; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
        }
        src.getContext("2d").putImageData(img, 0, 0);
        const scale = Math.max(1, Math.floor(64 / Math.max(h, w)));
        media = nbEl("canvas", { class: "nbd-rs-img", width: w * scale, height: h * scale });
        const ctx = media.getContext("2d");
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(src, 0, 0, w * scale, h * scale);
      } else {
        const url = nbWavUrl(g.data.subarray(offset, offset + per), model.get("sample_rate") || 8000);
        urls.push(url);
        media = nbEl("audio", { controls: true, src: url, preload: "none", class: "nbd-rs-audio" });
      }
      cells.push(nbEl("figure", { class: j === 1 ? "nbd-rs-cell nbd-rs-synth" : "nbd-rs-cell" }, [
        media, nbEl("figcaption", { text: captions[j] }),
      ]));
    }
    grid.append(nbEl("div", { class: "nbd-rs-triplet", title: `class ${it.label}` }, [
      nbEl("div", { class: "nbd-rs-triplet-head", text: `class ${it.label} · output row ${it.row}` }), ...cells,
    ]));
  }
  return box;
}

function nbRsSummaryText(s) {
  if (!s || s.n_before === undefined) return "";
  const parts = [
    `${nbInt(s.n_before)} → ${nbInt(s.n_after)} rows`,
    `${nbInt(s.n_synthetic)} synthetic`,
    `${nbInt(s.n_removed)} original removed`,
  ];
  if (s.n_removed_synthetic) parts.push(`${nbInt(s.n_removed_synthetic)} synthetic removed`);
  if (s.n_tomek_pairs) parts.push(`${nbInt(s.n_tomek_pairs)} Tomek links`);
  parts.push(`imbalance ${nbFmt(s.imbalance_before)} → ${nbFmt(s.imbalance_after)}`);
  parts.push(`expected complexity ${s.bits_before} → ${s.bits_after} bits`);
  return parts.join(" · ");
}

/** The before/after view. */
function nbRsRenderResample(model, el) {
  const root = nbEl("div", { class: "nbd-root nbd-resample", "data-testid": "resample" });
  el.append(root);
  const tip = nbTooltip(root);
  const title = nbEl("div", { class: "nbd-title" });
  const summary = nbEl("div", { class: "nbd-sub", "data-testid": "resample-summary" });
  const banners = nbEl("div");
  // controls
  const sel = nbEl("select", { "data-testid": "resample-sampler", "aria-label": "sampler" });
  const kIn = nbEl("input", { type: "range", min: 1, max: 15, step: 1, "data-testid": "resample-k", "aria-label": "k_neighbors" });
  const kOut = nbEl("span", { class: "nbd-rs-val" });
  const rIn = nbEl("input", { type: "range", min: 0, max: 1, step: 0.05, "data-testid": "resample-ratio", "aria-label": "sampling ratio" });
  const rOut = nbEl("span", { class: "nbd-rs-val" });
  const seedIn = nbEl("input", { type: "number", min: 0, step: 1, "data-testid": "resample-seed", "aria-label": "seed", style: { width: "5em" } });
  const projSel = nbEl("select", { "data-testid": "resample-projection", "aria-label": "projection" },
    [nbEl("option", { value: "pca", text: "PCA" }), nbEl("option", { value: "umap", text: "UMAP" })]);
  const status = nbEl("span", { class: "nbd-rs-status", "data-testid": "resample-status" });
  const toolbar = nbEl("div", { class: "nbd-toolbar nbd-rs-controls" }, [
    nbEl("label", {}, ["sampler ", sel]),
    nbEl("label", {}, ["k_neighbors ", kIn, kOut]),
    nbEl("label", {}, ["ratio ", rIn, rOut]),
    nbEl("label", {}, ["seed ", seedIn]),
    nbEl("label", {}, ["projection ", projSel]),
    status,
  ]);
  const before = nbRsCanvas("resample-before", "before");
  const after = nbRsCanvas("resample-after", "after");
  const legend = nbEl("div", { class: "nbd-rs-legend" });
  const panels = nbEl("div", { class: "nbd-rs-panels" }, [before.wrap, after.wrap]);
  const bars = nbEl("div", { class: "nbd-rs-counts", "data-testid": "resample-counts" });
  const galleryBox = nbEl("div");
  root.append(title, summary, banners, toolbar, panels, legend, bars, galleryBox);

  let data = null, sc = null, colours = [];
  const urls = [];

  function syncControls() {
    const opts = model.get("sampler_options") || [];
    sel.replaceChildren(...opts.map((o) => nbEl("option", { value: o, text: o })));
    sel.value = model.get("sampler");
    kIn.value = String(model.get("k_neighbors"));
    kOut.textContent = String(model.get("k_neighbors"));
    rIn.value = String(model.get("sampling_ratio"));
    rOut.textContent = model.get("sampling_ratio") > 0 ? nbFmt(model.get("sampling_ratio"), 2) : "auto";
    seedIn.value = String(model.get("seed"));
    projSel.value = model.get("projection");
    const enabled = model.get("controls_enabled");
    const cleaning = (model.get("cleaning_samplers") || []).includes(model.get("sampler"));
    for (const c of [sel, kIn, rIn, seedIn]) c.disabled = !enabled;
    rIn.disabled = !enabled || cleaning;
  }

  function drawAll() {
    const t0 = performance.now();
    drawAllInner();
    root.dataset.drawMs = String(Math.round(performance.now() - t0));
  }

  function drawAllInner() {
    const classes = model.get("classes") || [];
    colours = nbPalette(classes.length);
    data = nbRsData(model);
    sc = nbRsScales(data);
    title.textContent = model.get("title");
    summary.textContent = nbRsSummaryText(model.get("summary"));
    banners.replaceChildren(...(model.get("warnings") || []).map((w) => nbEl("div", { class: "nbd-banner warn", text: w })));
    const s = model.get("summary") || {};
    before.title.textContent = `before: ${nbInt(s.n_before || 0)} rows` + (s.n_removed ? ` (× = removed)` : "");
    after.title.textContent = `after ${s.sampler || ""}: ${nbInt(s.n_after || 0)} rows (◇ = synthetic)`;
    nbRsDraw(data, sc, before, after, colours, model.get("axes") || []);
    legend.replaceChildren(...classes.map((c, i) => nbEl("span", { class: "nbd-rs-key" }, [
      nbEl("span", { class: "nbd-rs-swatch", style: { background: colours[i] } }), c,
    ])), nbEl("span", { class: "nbd-rs-key", text: "◇ synthetic · × removed · — Tomek link · hover a point for its parents" }));
    bars.replaceChildren(nbRsBars(classes, model.get("counts_before") || [], model.get("counts_after") || [], colours, tip));
    for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    const gal = nbRsGallery(model, urls);
    galleryBox.replaceChildren(...(gal ? [gal] : []));
    syncControls();
  }

  // -- requests: debounced, numbered; answers to older requests are ignored -------------------
  let latest = model.get("request_id") || 0;
  let lastInput = 0;
  let mine = false; // whether this view sent the request being answered (a model may show twice)
  let silence = null;
  const send = nbDebounce(() => {
    latest = Math.max(latest, model.get("request_id") || 0) + 1;
    model.set("sampler", sel.value);
    model.set("k_neighbors", parseInt(kIn.value, 10));
    model.set("sampling_ratio", parseFloat(rIn.value));
    model.set("seed", Math.max(0, parseInt(seedIn.value || "0", 10)));
    model.set("projection", projSel.value);
    model.set("request_id", latest);
    model.save_changes();
    mine = true;
    status.textContent = "computing…";
    status.dataset.state = "busy";
    const asked = latest;
    // a standalone page (to_html) has no kernel to answer: say so instead of spinning forever
    clearTimeout(silence);
    silence = setTimeout(() => {
      if (model.get("response_id") < asked && latest === asked) {
        status.textContent = "no answer from Python yet (a saved page has no kernel: controls are inactive)";
        status.dataset.state = "waiting";
      }
    }, 5000);
  }, 40);
  const onInput = () => {
    lastInput = performance.now();
    kOut.textContent = kIn.value;
    rOut.textContent = parseFloat(rIn.value) > 0 ? nbFmt(parseFloat(rIn.value), 2) : "auto";
    send();
  };
  for (const c of [sel, kIn, rIn, seedIn, projSel]) {
    c.addEventListener("input", onInput);
    c.addEventListener("change", onInput);
  }

  const offs = [];
  offs.push(nbOn(model, "response_id", () => {
    const rid = model.get("response_id");
    if (rid < latest) return; // a stale answer: a newer request is on its way
    const err = model.get("error");
    if (err) {
      status.textContent = err;
      status.dataset.state = "error";
      syncControls();
      return;
    }
    drawAll();
    status.dataset.state = "ok";
    if (!mine) { status.textContent = ""; return; }
    mine = false;
    const ms = performance.now() - lastInput;
    status.textContent = `updated in ${Math.round(ms)} ms (Python ${Math.round(model.get("compute_ms"))} ms)`;
    const count = (model.get("render_count") || 0) + 1;
    model.set("render_count", count);
    model.set("last_update_ms", ms);
    model.save_changes();
    // visible to browser tests without a kernel round trip
    root.dataset.renderCount = String(count);
    root.dataset.lastUpdateMs = String(Math.round(ms));
  }));

  // -- hover: a synthetic point shows the segment to its two parents --------------------------
  function hover(panel, ev) {
    if (!data) return;
    const rect = panel.over.c.getBoundingClientRect();
    const px = ev.clientX - rect.left, py = ev.clientY - rect.top;
    const octx = panel.over.ctx;
    before.over.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
    after.over.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
    const classes = model.get("classes") || [];
    const box = root.getBoundingClientRect();
    const tx = ev.clientX - box.left, ty = ev.clientY - box.top;
    if (panel === after) {
      const i = nbRsNearest(data.axy, sc, px, py);
      if (i < 0) { tip.hide(); return; }
      const x = sc.sx(data.axy.data[2 * i]), y = sc.sy(data.axy.data[2 * i + 1]);
      if (data.asyn.data[i]) {
        const k = nbRsFind(data.synRows.data, i);
        const a = data.synPar.data[2 * k], b = data.synPar.data[2 * k + 1];
        if (a < 0 || b < 0) {
          octx.strokeStyle = "#000"; octx.lineWidth = 1.5;
          octx.beginPath(); octx.arc(x, y, 5, 0, 2 * Math.PI); octx.stroke();
          tip.show(tx, ty, [`synthetic ${classes[data.alab.data[i]]} (row ${i})`,
            a >= 0 ? `a jittered copy of row ${a}` : "made by the sampler without two parents"]);
          panel.over.c.dataset.hover = "synthetic";
          return;
        }
        const ax = sc.sx(data.bxy.data[2 * a]), ay = sc.sy(data.bxy.data[2 * a + 1]);
        const bx = sc.sx(data.bxy.data[2 * b]), by = sc.sy(data.bxy.data[2 * b + 1]);
        for (const o of [after.over.ctx, before.over.ctx]) {
          o.strokeStyle = "#000"; o.lineWidth = 1.5;
          o.beginPath(); o.moveTo(ax, ay); o.lineTo(bx, by); o.stroke();
          o.beginPath(); o.arc(ax, ay, 5, 0, 2 * Math.PI); o.arc(bx, by, 5, 0, 2 * Math.PI); o.stroke();
        }
        octx.fillStyle = "#000";
        octx.beginPath(); octx.arc(x, y, 3.5, 0, 2 * Math.PI); octx.fill();
        tip.show(tx, ty, [`synthetic ${classes[data.alab.data[i]]} (row ${i})`,
          `x = x[${a}] + ${nbFmt(data.synW.data[k], 3)} · (x[${b}] − x[${a}])`]);
        panel.over.c.dataset.hover = "synthetic";
      } else {
        octx.strokeStyle = "#000"; octx.lineWidth = 1.5;
        octx.beginPath(); octx.arc(x, y, 5, 0, 2 * Math.PI); octx.stroke();
        tip.show(tx, ty, [`${classes[data.alab.data[i]]}`, `output row ${i} (original)`]);
        panel.over.c.dataset.hover = "original";
      }
    } else {
      const i = nbRsNearest(data.bxy, sc, px, py);
      if (i < 0) { tip.hide(); return; }
      const x = sc.sx(data.bxy.data[2 * i]), y = sc.sy(data.bxy.data[2 * i + 1]);
      octx.strokeStyle = "#000"; octx.lineWidth = 1.5;
      octx.beginPath(); octx.arc(x, y, 5, 0, 2 * Math.PI); octx.stroke();
      tip.show(tx, ty, [`${classes[data.blab.data[i]]}`, `row ${i}` + (data.brem.data[i] ? " · removed" : " · kept")]);
    }
  }
  for (const p of [before, after]) {
    p.over.c.addEventListener("mousemove", (ev) => hover(p, ev));
    p.over.c.addEventListener("mouseleave", () => {
      tip.hide();
      before.over.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
      after.over.ctx.clearRect(0, 0, NB_RS_W, NB_RS_H);
    });
  }

  drawAll();
  status.textContent = model.get("controls_enabled") ? "" : "controls need a sampler given by name";
  return () => {
    clearTimeout(silence);
    for (const off of offs) off();
    for (const u of urls) URL.revokeObjectURL(u);
    root.remove();
  };
}

/** Binary search in a sorted Int32Array. */
function nbRsFind(sorted, value) {
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === value) return mid;
    if (sorted[mid] < value) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** The search view: one dot per trial per sampler, the chosen one ringed. */
function nbRsRenderSearch(model, el) {
  const root = nbEl("div", { class: "nbd-root nbd-resample-search", "data-testid": "resample-search" });
  el.append(root);
  const tip = nbTooltip(root);
  const title = nbEl("div", { class: "nbd-title", text: model.get("title") });
  const buttons = [["changes", "label changes"], ["expected_bits", "expected bits"]].map(([key, text]) =>
    nbEl("button", { "data-metric": key, "data-testid": "search-metric", text }));
  const toolbar = nbEl("div", { class: "nbd-toolbar" }, ["measure: ", ...buttons]);
  const chartBox = nbEl("div", { "data-testid": "search-chart" });
  const info = nbEl("div", { class: "nbd-sub", "data-testid": "search-selected" });
  const banners = nbEl("div");
  root.append(title, banners, toolbar, chartBox, info);
  for (const b of buttons) b.addEventListener("click", () => nbSet(model, "metric", b.dataset.metric));

  function draw() {
    const metric = model.get("metric");
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.metric === metric));
    banners.replaceChildren(...(model.get("warnings") || []).map((w) => nbEl("div", { class: "nbd-banner warn", text: w })));
    const vals = nbArray(model.get(metric));
    const samplers = model.get("samplers") || [];
    const [S, T] = vals ? vals.shape : [0, 0];
    const before = (model.get("before") || {})[metric];
    const best = model.get("best") || [];
    const sel = model.get("selected") || [];
    const colours = nbPalette(S);
    const W = Math.max(360, 80 + S * 110), H = 300, m = { l: 56, r: 12, t: 14, b: 46 };
    let lo = Infinity, hi = -Infinity;
    for (const v of vals ? vals.data : []) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (Number.isFinite(before)) { lo = Math.min(lo, before); hi = Math.max(hi, before); }
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    const pad = (hi - lo) * 0.08 || 1;
    const sy = nbScaleLinear(lo - pad, hi + pad, H - m.b, m.t);
    const band = (W - m.l - m.r) / Math.max(S, 1);
    const svg = nbSvg("svg", { width: W, height: H, class: "nbd-rs-search" });
    const axis = nbSvg("g", { class: "nbd-axis" });
    for (const t of nbNiceTicks(lo - pad, hi + pad, 5)) {
      axis.append(nbSvg("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), stroke: "#eee" }));
      axis.append(nbSvg("text", { x: m.l - 6, y: sy(t) + 3, "text-anchor": "end", text: nbFmt(t) }));
    }
    axis.append(nbSvg("text", { x: 12, y: (H - m.b + m.t) / 2, transform: `rotate(-90 12 ${(H - m.b + m.t) / 2})`,
      "text-anchor": "middle", text: metric === "changes" ? "label changes t" : "expected complexity (bits)" }));
    svg.append(axis);
    if (Number.isFinite(before)) {
      svg.append(nbSvg("line", { x1: m.l, x2: W - m.r, y1: sy(before), y2: sy(before), stroke: "#777", "stroke-dasharray": "5 4" }));
      svg.append(nbSvg("text", { x: m.l + 4, y: sy(before) - 4, "text-anchor": "start", class: "nbd-rs-barlabel", text: `before resampling: ${before}` }));
    }
    for (let s = 0; s < S; s++) {
      const cx = m.l + (s + 0.5) * band;
      const lab = nbSvg("text", { x: cx, y: H - m.b + 16, "text-anchor": "middle", class: "nbd-rs-barlabel" });
      lab.textContent = samplers[s];
      svg.append(lab);
      for (let t = 0; t < T; t++) {
        const v = vals.data[s * T + t];
        if (!Number.isFinite(v)) continue;
        const x = cx + (T > 1 ? (t / (T - 1) - 0.5) * band * 0.5 : 0);
        const chosen = best[0] === s && best[1] === t;
        const picked = sel[0] === s && sel[1] === t;
        const dot = nbSvg("circle", {
          cx: x, cy: sy(v), r: chosen ? 6 : 4, fill: colours[s], class: chosen ? "nbd-rs-dot nbd-rs-chosen" : "nbd-rs-dot",
          stroke: chosen ? "#000" : picked ? "#555" : "none", "stroke-width": chosen ? 2.5 : 1.5,
          "data-sampler": s, "data-trial": t,
        });
        dot.addEventListener("mousemove", (ev) => {
          const box = root.getBoundingClientRect();
          tip.show(ev.clientX - box.left, ev.clientY - box.top, [`${samplers[s]}, trial ${t}`,
            `${nbFmt(v)} ${metric === "changes" ? "label changes" : "bits"}` + (chosen ? " · chosen" : "")]);
        });
        dot.addEventListener("mouseleave", () => tip.hide());
        dot.addEventListener("click", () => nbSet(model, "selected", [s, t]));
        svg.append(dot);
        if (chosen) {
          svg.append(nbSvg("text", { x: x + 9, y: sy(v) + 4, class: "nbd-rs-barlabel", text: "chosen" }));
        }
      }
    }
    chartBox.replaceChildren(svg);
    if (sel.length === 2 && vals) {
      const c = nbArray(model.get("changes")), b = nbArray(model.get("expected_bits"));
      info.textContent = `${samplers[sel[0]]}, trial ${sel[1]}: ${nbFmt(c.data[sel[0] * T + sel[1]])} label changes, ` +
        `${nbFmt(b.data[sel[0] * T + sel[1]])} expected bits`;
    } else if (best.length === 2) {
      info.textContent = `chosen: ${samplers[best[0]]}, trial ${best[1]} (least complex resampled set)`;
    }
  }
  const offs = [nbOn(model, "metric", draw), nbOn(model, "selected", draw)];
  draw();
  return () => { for (const off of offs) off(); root.remove(); };
}

export default {
  render({ model, el }) {
    if (model.get("view") === "search") return nbRsRenderSearch(model, el);
    return nbRsRenderResample(model, el);
  },
};
