// Gradient flow: a layer × step heat map (log colour, canvas), per-layer bars at the scrubbed
// step, the loss curve and the flags in words. Live records arrive as binary "append" messages;
// with two runs (compare) both heat maps share one colour scale.

const WF_STAT_LABELS = {
  grad_mean_abs: "mean |gradient|", grad_max_abs: "max |gradient|", grad_norm: "gradient norm",
  weight_norm: "weight norm", update_ratio: "update / weight", act_mean: "activation mean",
  act_std: "activation std", dead_fraction: "dead fraction", grad_nan: "NaN in gradients",
  grad_inf: "Inf in gradients", act_nan: "NaN in activations", act_inf: "Inf in activations",
};
// quantities that can be <= 0 or are fractions are drawn on a linear colour scale
const WF_LINEAR = new Set(["act_mean", "dead_fraction", "grad_nan", "grad_inf", "act_nan", "act_inf"]);
const WF_RUN_COLOURS = ["#4e79a7", "#e15759"];

/** A 256-entry RGB table of the sequential palette (parsing colour strings per pixel is slow). */
const WF_LUT = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = nbSequential(i / 255).match(/\d+/g).map(Number);
    lut.set(m, i * 3);
  }
  return lut;
})();

/** Decode a run's synced arrays into plain typed arrays we can append to. */
function wfRun(model, suffix) {
  const steps = nbArray(model.get("steps" + suffix));
  const values = nbArray(model.get("values" + suffix));
  const loss = nbArray(model.get("loss" + suffix));
  const layers = model.get("layers" + suffix) || [];
  const n = steps ? steps.shape[0] : 0;
  const S = values && values.shape.length === 3 ? values.shape[2] : (model.get("stat_names") || []).length;
  return {
    layers, n, S, L: layers.length,
    steps: steps ? Int32Array.from(steps.data) : new Int32Array(0),
    values: values ? Float32Array.from(values.data) : new Float32Array(0),
    loss: loss ? Float32Array.from(loss.data) : new Float32Array(0),
    base: suffix ? 0 : model.get("base"),
    flags: model.get("flags" + suffix) || [],
    summary: model.get("summary" + suffix) || "",
  };
}

function wfConcat(Ctor, a, b) {
  const out = new Ctor(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function wfValue(run, r, l, k) {
  return run.values[(r * run.L + l) * run.S + k];
}

/** Colour domain of a quantity over runs: [lo, hi] of positive finite values (log) or all finite. */
function wfDomain(runs, k, log) {
  let lo = Infinity, hi = -Infinity;
  for (const run of runs) {
    for (let r = 0; r < run.n; r++) {
      for (let l = 0; l < run.L; l++) {
        const v = wfValue(run, r, l, k);
        if (!Number.isFinite(v) || (log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (!Number.isFinite(lo)) return log ? [1e-8, 1] : [0, 1];
  if (hi <= lo) hi = log ? lo * 10 : lo + 1;
  return [lo, hi];
}

function wfColourIndex(v, dom, log) {
  const t = log ? (Math.log10(v) - Math.log10(dom[0])) / (Math.log10(dom[1]) - Math.log10(dom[0]))
    : (v - dom[0]) / (dom[1] - dom[0]);
  return Math.max(0, Math.min(255, Math.round(t * 255)));
}

/** Record index shown for a training step: the latest record at or before it. */
function wfIndexAt(run, step) {
  if (run.n === 0) return -1;
  if (step < 0) return run.n - 1;
  let lo = 0, hi = run.n - 1, ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (run.steps[mid] <= step) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

/** Draw one run's heat map into `canvas` (layers top to bottom, records left to right). */
function wfDrawHeat(canvas, run, k, dom, log, marker) {
  const labelW = Math.min(130, 12 + 6.5 * Math.max(4, ...run.layers.map((s) => Math.min(s.length, 18))));
  const plotW = 520, rowH = Math.max(4, Math.min(16, Math.floor(360 / Math.max(run.L, 1))));
  const plotH = rowH * Math.max(run.L, 1);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = (labelW + plotW + 8) * dpr;
  canvas.height = (plotH + 24) * dpr;
  canvas.style.width = `${labelW + plotW + 8}px`;
  canvas.style.height = `${plotH + 24}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, labelW + plotW + 8, plotH + 24);
  ctx.font = "10px sans-serif";
  ctx.fillStyle = getComputedStyle(canvas).color || "#333";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const every = Math.max(1, Math.ceil(11 / rowH));
  run.layers.forEach((name, l) => {
    if (l % every === 0) ctx.fillText(name.length > 18 ? name.slice(0, 17) + "…" : name, labelW - 4, l * rowH + rowH / 2);
  });
  if (run.n > 0 && run.L > 0) {
    const img = new ImageData(run.n, run.L);
    for (let r = 0; r < run.n; r++) {
      for (let l = 0; l < run.L; l++) {
        const v = wfValue(run, r, l, k);
        const o = (l * run.n + r) * 4;
        if (!Number.isFinite(v)) { img.data.set([220, 220, 220, 255], o); continue; }
        if (log && v <= 0) { img.data.set([20, 20, 20, 255], o); continue; }  // exactly zero: no flow
        const c = wfColourIndex(v, dom, log) * 3;
        img.data.set([WF_LUT[c], WF_LUT[c + 1], WF_LUT[c + 2], 255], o);
      }
    }
    const off = document.createElement("canvas");
    off.width = run.n;
    off.height = run.L;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, labelW, 0, plotW, plotH);
    if (marker >= 0) {
      const x = labelW + ((marker + 0.5) / run.n) * plotW;
      ctx.strokeStyle = "#ff2d55";
      ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, plotH); ctx.stroke();
    }
    ctx.textAlign = "left";
    ctx.fillText(`step ${run.steps[0]}`, labelW, plotH + 12);
    ctx.textAlign = "right";
    ctx.fillText(`step ${run.steps[run.n - 1]}`, labelW + plotW, plotH + 12);
  }
  return { labelW, plotW, rowH, plotH };
}

/** Bars of one record per layer, on the shared scale. */
function wfDrawBars(svg, run, k, index, dom, log, colour) {
  svg.replaceChildren();
  const W = 360, H = 190, m = { l: 48, r: 8, t: 8, b: 14 };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const y = log ? nbScaleLog(dom[0], dom[1], H - m.b, m.t) : nbScaleLinear(Math.min(0, dom[0]), dom[1], H - m.b, m.t);
  const axis = nbSvg("g", { class: "nbd-axis" });
  for (const t of y.ticks(4)) {
    const yy = y(t);
    axis.append(nbSvg("line", { x1: m.l - 3, x2: W - m.r, y1: yy, y2: yy, "stroke-opacity": 0.25 }));
    axis.append(nbSvg("text", { x: m.l - 5, y: yy + 3, "text-anchor": "end", text: nbFmt(t, 2) }));
  }
  svg.append(axis);
  if (index < 0) return;
  const bw = (W - m.l - m.r) / Math.max(run.L, 1);
  for (let l = 0; l < run.L; l++) {
    const v = wfValue(run, index, l, k);
    const ok = Number.isFinite(v) && (!log || v > 0);
    const top = ok ? y(v) : H - m.b;
    const rect = nbSvg("rect", {
      class: "nbd-bar", x: m.l + l * bw + 0.5, width: Math.max(1, bw - 1), y: Math.min(top, H - m.b),
      height: Math.max(ok ? 1 : 0, Math.abs(H - m.b - top)), fill: colour, "data-layer": l,
    });
    const title = nbSvg("title");
    title.textContent = `${run.layers[l]}: ${ok ? nbFmt(v, 3) : Number.isFinite(v) ? "0" : "n/a"}`;
    rect.append(title);
    svg.append(rect);
  }
}

/** Loss curves of the runs with a marker at the scrubbed step. */
function wfDrawLoss(svg, runs, step) {
  svg.replaceChildren();
  const W = 360, H = 150, m = { l: 48, r: 8, t: 8, b: 22 };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  let s0 = Infinity, s1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const run of runs) {
    for (let r = 0; r < run.n; r++) {
      const v = run.loss[r];
      if (!Number.isFinite(v)) continue;
      s0 = Math.min(s0, run.steps[r]); s1 = Math.max(s1, run.steps[r]);
      v0 = Math.min(v0, v); v1 = Math.max(v1, v);
    }
  }
  if (!Number.isFinite(s0)) {
    svg.append(nbSvg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "nbd-sub", text: "no loss reported (torch: flow.log(loss=loss))" }));
    return;
  }
  if (s1 === s0) s1 = s0 + 1;
  if (v1 === v0) { v0 -= 0.5; v1 += 0.5; }
  const x = nbScaleLinear(s0, s1, m.l, W - m.r), y = nbScaleLinear(v0, v1, H - m.b, m.t);
  const axis = nbSvg("g", { class: "nbd-axis" });
  for (const t of y.ticks(4)) axis.append(nbSvg("text", { x: m.l - 5, y: y(t) + 3, "text-anchor": "end", text: nbFmt(t, 3) }));
  for (const t of x.ticks(4)) axis.append(nbSvg("text", { x: x(t), y: H - 6, "text-anchor": "middle", text: nbFmt(t, 3) }));
  axis.append(nbSvg("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  svg.append(axis);
  runs.forEach((run, i) => {
    let d = "";
    for (let r = 0; r < run.n; r++) {
      const v = run.loss[r];
      if (!Number.isFinite(v)) continue;
      d += `${d ? "L" : "M"}${x(run.steps[r]).toFixed(1)},${y(v).toFixed(1)}`;
    }
    svg.append(nbSvg("path", { d, fill: "none", stroke: WF_RUN_COLOURS[i], "stroke-width": 1.5, class: "nbd-watch-loss-line" }));
  });
  if (step >= 0) svg.append(nbSvg("line", { x1: x(step), x2: x(step), y1: m.t, y2: H - m.b, stroke: "#ff2d55", "stroke-dasharray": "3,2" }));
}

export default {
  render({ model, el }) {
    const root = nbEl("div", { class: "nbd-root nbd-watch", "data-testid": "nbd-watch" });
    el.append(root);
    const title = nbEl("span", { class: "nbd-title" });
    const status = nbEl("span", { class: "nbd-sub nbd-watch-status", "data-testid": "nbd-watch-status" });
    const quantity = nbEl("select", { "data-testid": "nbd-watch-quantity", "aria-label": "statistic" });
    for (const name of model.get("stat_names")) quantity.append(nbEl("option", { value: name, text: WF_STAT_LABELS[name] || name }));
    const toolbar = nbEl("div", { class: "nbd-toolbar" }, [title, status, nbEl("label", { text: "show " }, [quantity])]);
    const flagsBox = nbEl("div", { class: "nbd-watch-flags", "data-testid": "nbd-watch-flags" });
    const panels = nbEl("div", { class: "nbd-watch-panels" });
    const side = nbEl("div", { class: "nbd-watch-side" });
    const lossSvg = nbSvg("svg", { class: "nbd-watch-loss", "data-testid": "nbd-watch-loss" });
    const scrubber = nbEl("input", { type: "range", min: 0, max: 0, step: 1, value: 0, class: "nbd-watch-scrubber",
      "data-testid": "nbd-watch-scrubber", "aria-label": "step" });
    const follow = nbEl("button", { type: "button", "data-testid": "nbd-watch-follow", text: "latest" });
    const stepLabel = nbEl("span", { class: "nbd-sub nbd-watch-step" });
    const info = nbEl("div", { class: "nbd-sub nbd-watch-info", "data-testid": "nbd-watch-info" });
    const legend = nbEl("div", { class: "nbd-sub nbd-watch-legend" });
    root.append(toolbar, flagsBox, panels, nbEl("div", { class: "nbd-toolbar" }, [nbEl("span", { text: "step" }), scrubber, stepLabel, follow]), info, legend);
    const tip = nbTooltip(root);

    let runs = [];
    let heats = [];   // [{canvas, geometry}]
    let barSvgs = [];

    function load() {
      runs = [wfRun(model, "")];
      if ((model.get("layers_b") || []).length) runs.push(wfRun(model, "_b"));
      panels.replaceChildren();
      heats = []; barSvgs = [];
      const labels = model.get("labels") || [];
      runs.forEach((run, i) => {
        const canvas = nbEl("canvas", { class: "nbd-watch-heatmap", "data-testid": `nbd-watch-heatmap${i ? "-b" : ""}` });
        const bars = nbSvg("svg", { class: "nbd-watch-bars", "data-testid": `nbd-watch-bars${i ? "-b" : ""}` });
        const head = nbEl("div", { class: "nbd-watch-runname", text: runs.length > 1 ? (labels[i] || `run ${i + 1}`) : "" });
        head.style.color = runs.length > 1 ? WF_RUN_COLOURS[i] : "";
        panels.append(nbEl("div", { class: "nbd-watch-run" }, [head, nbEl("div", { class: "nbd-watch-row" }, [canvas, bars])]));
        heats.push({ canvas, geometry: null });
        barSvgs.push(bars);
        canvas.addEventListener("mousemove", (ev) => hover(ev, i));
        canvas.addEventListener("mouseleave", () => tip.hide());
        canvas.addEventListener("click", (ev) => clickHeat(ev, i));
      });
      side.replaceChildren(nbEl("div", { class: "nbd-sub", text: "loss" }), lossSvg);
      panels.append(side);
      root.classList.toggle("nbd-watch-compare", runs.length > 1);
      draw();
    }

    function currentStep() { return model.get("step"); }

    function draw() {
      const q = model.get("quantity");
      const k = Math.max(0, model.get("stat_names").indexOf(q));
      quantity.value = q;
      const log = !WF_LINEAR.has(q);
      const dom = wfDomain(runs, k, log);
      const step = currentStep();
      const a = runs[0];
      const idxA = wfIndexAt(a, step);
      runs.forEach((run, i) => {
        const idx = wfIndexAt(run, step >= 0 ? step : (run.n ? run.steps[run.n - 1] : -1));
        heats[i].geometry = wfDrawHeat(heats[i].canvas, run, k, dom, log, idx);
        wfDrawBars(barSvgs[i], run, k, idx, dom, log, runs.length > 1 ? WF_RUN_COLOURS[i] : "#4e79a7");
      });
      wfDrawLoss(lossSvg, runs, idxA >= 0 ? a.steps[idxA] : -1);
      scrubber.max = Math.max(0, a.n - 1);
      scrubber.value = Math.max(0, idxA);
      stepLabel.textContent = idxA >= 0 ? `${a.steps[idxA]}${step < 0 ? " (latest)" : ""}` : "–";
      follow.setAttribute("aria-pressed", step < 0 ? "true" : "false");
      title.textContent = model.get("title");
      const running = model.get("running");
      status.textContent = `${running ? "● recording" : "stopped"} · ${a.n} records · ${a.L} layers`;
      status.classList.toggle("nbd-watch-running", running);
      info.textContent = model.get("step_info") || "";
      legend.textContent = `colour: ${WF_STAT_LABELS[q] || q} (${log ? "log" : "linear"} scale ${nbFmt(dom[0], 2)} … ${nbFmt(dom[1], 2)}); black = exactly 0, grey = not recorded`;
      drawFlags();
    }

    function drawFlags() {
      flagsBox.replaceChildren();
      runs.forEach((run, i) => {
        const prefix = runs.length > 1 ? `${(model.get("labels") || [])[i] || "run " + (i + 1)}: ` : "";
        if (!run.flags.length) {
          if (run.n) flagsBox.append(nbEl("div", { class: "nbd-banner ok nbd-watch-flag", text: prefix + (run.summary || "no problems found") }));
          return;
        }
        for (const f of run.flags) {
          const cls = f.kind === "nan" || f.kind === "exploding" ? "bad" : "warn";
          const row = nbEl("div", { class: `nbd-banner ${cls} nbd-watch-flag`, "data-kind": f.kind, text: prefix + f.message });
          row.addEventListener("click", () => nbSet(model, "step", f.step));
          flagsBox.append(row);
        }
      });
    }

    function locate(ev, i) {
      const g = heats[i].geometry, run = runs[i];
      if (!g || !run.n) return null;
      const rect = heats[i].canvas.getBoundingClientRect();
      const x = ev.clientX - rect.left - g.labelW, y = ev.clientY - rect.top;
      if (x < 0 || x > g.plotW || y < 0 || y > g.plotH) return null;
      return { r: Math.min(run.n - 1, Math.floor((x / g.plotW) * run.n)), l: Math.min(run.L - 1, Math.floor(y / g.rowH)) };
    }

    function hover(ev, i) {
      const at = locate(ev, i);
      if (!at) { tip.hide(); return; }
      const run = runs[i];
      const q = model.get("quantity"), k = model.get("stat_names").indexOf(q);
      const rootRect = root.getBoundingClientRect();
      tip.show(ev.clientX - rootRect.left, ev.clientY - rootRect.top, [
        run.layers[at.l], `step ${run.steps[at.r]}`, `${WF_STAT_LABELS[q] || q}: ${nbFmt(wfValue(run, at.r, at.l, k), 3)}`,
      ]);
    }

    function clickHeat(ev, i) {
      const at = locate(ev, i);
      if (at) nbSet(model, "step", runs[i].steps[at.r]);
    }

    scrubber.addEventListener("input", () => {
      const a = runs[0];
      if (!a.n) return;
      nbSet(model, "step", a.steps[Math.min(a.n - 1, Number(scrubber.value))]);
    });
    follow.addEventListener("click", () => nbSet(model, "step", -1));
    quantity.addEventListener("change", () => nbSet(model, "quantity", quantity.value));

    // live records: only the new columns, as binary buffers
    let pending = false;
    const schedule = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; draw(); });
    };
    function onMessage(msg, buffers) {
      if (!msg || msg.type !== "append" || !runs.length) return;
      const a = runs[0];
      if (msg.start !== a.base + a.n || msg.n_layers !== a.L) {
        model.send({ type: "resync" });
        return;
      }
      const view = (b, Ctor) => {
        const buf = b instanceof ArrayBuffer ? b : b.buffer;
        const off = b instanceof ArrayBuffer ? 0 : b.byteOffset;
        return new Ctor(buf.slice(off, off + b.byteLength));
      };
      a.steps = wfConcat(Int32Array, a.steps, view(buffers[0], Int32Array));
      a.values = wfConcat(Float32Array, a.values, view(buffers[1], Float32Array));
      a.loss = wfConcat(Float32Array, a.loss, view(buffers[2], Float32Array));
      a.n += msg.n;
      const cap = model.get("max_records");
      if (a.n > cap) {  // keep the browser's memory bounded like the kernel's ring buffer
        const drop = a.n - cap;
        a.steps = a.steps.slice(drop); a.loss = a.loss.slice(drop);
        a.values = a.values.slice(drop * a.L * a.S);
        a.n = cap; a.base += drop;
      }
      schedule();
    }
    model.on("msg:custom", onMessage);

    const refreshFlags = () => {
      if (!runs.length) return;
      runs[0].flags = model.get("flags") || [];
      runs[0].summary = model.get("summary") || "";
      if (runs[1]) { runs[1].flags = model.get("flags_b") || []; runs[1].summary = model.get("summary_b") || ""; }
      schedule();
    };
    const offs = [
      nbOn(model, "values", load), nbOn(model, "values_b", load), nbOn(model, "quantity", schedule),
      nbOn(model, "step", schedule), nbOn(model, "step_info", schedule), nbOn(model, "running", schedule),
      nbOn(model, "flags", refreshFlags), nbOn(model, "flags_b", refreshFlags),
    ];
    load();
    return () => {
      model.off("msg:custom", onMessage);
      offs.forEach((off) => off());
    };
  },
};
