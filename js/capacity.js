// Capacity views. One module, three views chosen by the `view` trait:
//  "capacity"   per-layer capacity bars, the bits flowing between layers, the dataset's need
//               and the verdict, with a layer table (main paper, Figure 2);
//  "complexity" the samples sorted by the sum of their features, coloured by class, with the
//               counted label changes; for 2-D data the scatter itself (Figure 1);
//  "sizing"     capacity of each candidate size against the target.

const CAP_MARGIN = { top: 18, right: 16, bottom: 78, left: 64 };
const CAP_HEIGHT = 300;

/** Numbers of a synced array as a plain JS array (BigInt arrays become Numbers). */
function capNums(obj) {
  const a = nbArray(obj);
  if (!a) return [];
  return Array.from(a.data, (v) => Number(v));
}

/** -1 encodes unbounded bits. */
function capBits(v) { return v < 0 ? Infinity : v; }

function capFmtBits(v) { return Number.isFinite(v) ? nbInt(v) : "unbounded"; }

function capHeader(model, root, extra = []) {
  const bar = nbEl("div", { class: "nbd-toolbar" });
  const title = nbEl("span", { class: "nbd-title", text: model.get("title") });
  const sub = nbEl("span", { class: "nbd-sub", text: model.get("subtitle") });
  bar.append(title, sub, ...extra);
  root.append(bar);
  return bar;
}

function capToggle(model, trait, label, testid) {
  const btn = nbEl("button", { type: "button", "data-testid": testid, class: "nbd-toggle", text: label });
  const sync = () => btn.setAttribute("aria-pressed", model.get(trait) ? "true" : "false");
  btn.addEventListener("click", () => nbSet(model, trait, !model.get(trait)));
  sync();
  return { btn, sync };
}

function capBanner(root) {
  const el = nbEl("div", { class: "nbd-banner", role: "status", "data-testid": "nbd-verdict" });
  root.append(el);
  return el;
}

function capNotes(model, root) {
  const el = nbEl("div", { class: "nbd-notes" });
  for (const n of model.get("notes") || []) el.append(nbEl("div", { text: "⚠ " + n }));
  root.append(el);
}

function capYScale(log, lo, hi, r0, r1) {
  if (log) return nbScaleLog(Math.max(lo, 0.8), Math.max(hi * 1.5, 10), r0, r1);
  return nbScaleLinear(0, Math.max(hi * 1.08, 1), r0, r1);
}

function capYAxis(svg, y, x0, x1, label) {
  const g = nbSvg("g", { class: "nbd-axis" });
  for (const t of y.ticks(5)) {
    const py = y(t);
    g.append(nbSvg("line", { x1: x0, x2: x1, y1: py, y2: py, opacity: 0.25 }));
    g.append(nbSvg("text", { x: x0 - 6, y: py + 4, "text-anchor": "end", text: nbFmt(t) }));
  }
  g.append(nbSvg("text", {
    x: 14, y: (y(y.domain[0]) + y(y.domain[1])) / 2, transform: `rotate(-90 14 ${(y(y.domain[0]) + y(y.domain[1])) / 2})`,
    "text-anchor": "middle", text: label,
  }));
  svg.append(g);
}

// -- view 1: per-layer capacity ------------------------------------------------------------------
function capRenderCapacity(model, root) {
  root.classList.add("nbd-capacity");
  const log = capToggle(model, "log_scale", "log scale", "nbd-log-toggle");
  const all = capToggle(model, "show_all", "all layers", "nbd-all-toggle");
  const ruleBtn = nbEl("button", {
    type: "button", "data-testid": "nbd-rule-toggle", class: "nbd-toggle",
    title: "switch between Friedland's rules per path and the paper's literal Algorithm 1",
  });
  const syncRule = () => {
    const paper = model.get("rule") === "paper";
    ruleBtn.textContent = paper ? "rule: Algorithm 1" : "rule: Friedland";
    ruleBtn.setAttribute("aria-pressed", paper ? "true" : "false");
  };
  ruleBtn.addEventListener("click", () => nbSet(model, "rule", model.get("rule") === "paper" ? "friedland" : "paper"));
  syncRule();
  const header = capHeader(model, root, [log.btn, all.btn, ruleBtn]);
  header.setAttribute("data-testid", "nbd-capacity-toolbar");
  const banner = capBanner(root);
  const legend = nbEl("div", { class: "nbd-legend" });
  const wrap = nbEl("div", { class: "nbd-chart-wrap" });
  const total = nbEl("div", { class: "nbd-sub", "data-testid": "nbd-total" });
  const notes = nbEl("div", { class: "nbd-notes" });
  const tableWrap = nbEl("div", { class: "nbd-table-wrap" });
  root.append(legend, wrap, total, notes, tableWrap);
  const tip = nbTooltip(root);

  let info = [], cap = [], bitsIn = [], bitsOut = [], params = [], expected = null;
  const rowEls = new Map();

  /** Read the synced data and rebuild everything that is not the chart. */
  function load() {
    info = model.get("layer_info") || [];
    cap = capNums(model.get("capacity_bits"));
    bitsIn = capNums(model.get("bits_in")).map(capBits);
    bitsOut = capNums(model.get("bits_out")).map(capBits);
    params = capNums(model.get("params"));
    expected = model.get("expected_bits");
    const has = expected !== null && expected !== undefined;
    header.querySelector(".nbd-sub").textContent = model.get("subtitle");
    const verdict = model.get("verdict");
    banner.textContent = verdict || "";
    banner.style.display = verdict ? "" : "none";
    banner.className = "nbd-banner " + (model.get("banner") || "");
    total.textContent = `total capacity ${nbInt(model.get("total_bits"))} bits` + (has ? ` · dataset needs ${nbInt(expected)} bits` : "");
    legend.replaceChildren(nbEl("span", { class: "nbd-key-bar", text: "capacity bits" }),
      nbEl("span", { class: "nbd-key-flow", text: "bits flowing out" }));
    if (has) legend.append(nbEl("span", { class: "nbd-key-expected", text: "dataset needs" }));
    if (info.some((r) => !r.supported)) legend.append(nbEl("span", { class: "nbd-key-unsupported", text: "unsupported (not counted)" }));
    notes.replaceChildren(...(model.get("notes") || []).map((n) => nbEl("div", { text: "⚠ " + n })));

    // the table under the chart: every node, in execution order
    const table = nbEl("table", { class: "nbd-layer-table", "data-testid": "nbd-layer-table" });
    const cols = [["#", true], ["Layer"], ["Kind"], ["Output"], ["Params", true], ["Bits in", true],
      ["Capacity bits", true], ["Bits out", true], ["Note"]];
    const head = nbEl("tr");
    for (const [label, num] of cols) head.append(nbEl("th", { class: num ? "nbd-num" : "", text: label }));
    table.append(nbEl("thead", {}, [head]));
    const tbody = nbEl("tbody");
    rowEls.clear();
    info.forEach((r, i) => {
      const tr = nbEl("tr", { class: "nbd-row" + (r.supported ? "" : " nbd-row-unsupported"), "data-name": r.name });
      const cells = [[String(i), true], [r.name + (r.is_bottleneck ? "  ◀ bottleneck" : "")], [r.kind], [r.output_shape],
        [nbInt(params[i]), true], [capFmtBits(bitsIn[i]), true], [nbInt(cap[i]), true], [capFmtBits(bitsOut[i]), true]];
      for (const [text, num] of cells) tr.append(nbEl("td", { class: num ? "nbd-num" : "", text }));
      tr.append(nbEl("td", { class: "nbd-note", text: (r.supported ? "" : "unsupported: ") + r.note }));
      tr.addEventListener("click", () => nbSet(model, "selected_layer", model.get("selected_layer") === r.name ? "" : r.name));
      tbody.append(tr);
      rowEls.set(r.name, tr);
    });
    table.append(tbody);
    tableWrap.replaceChildren(table);
  }

  let barEls = new Map();

  function draw() {
    const logScale = model.get("log_scale");
    const shown = [];
    info.forEach((r, i) => {
      if (model.get("show_all") || r.has_neurons || cap[i] > 0 || !r.supported || r.is_bottleneck || r.category === "input") shown.push(i);
    });
    const n = shown.length;
    const avail = Math.max(root.clientWidth || 720, 480) - 8;
    const band = Math.max(10, Math.min(90, (avail - CAP_MARGIN.left - CAP_MARGIN.right) / Math.max(n, 1)));
    const width = CAP_MARGIN.left + CAP_MARGIN.right + band * n;
    const height = CAP_HEIGHT;
    const y0 = height - CAP_MARGIN.bottom, y1 = CAP_MARGIN.top;
    const finiteFlow = shown.map((i) => bitsOut[i]).filter(Number.isFinite);
    const barVal = (i) => (info[i].supported ? cap[i] : Math.max(params[i], 1));
    const hi = Math.max(1, ...shown.map(barVal), ...finiteFlow, expected || 0);
    const lo = Math.min(...[...shown.map(barVal), ...finiteFlow].filter((v) => v > 0), 1);
    const y = capYScale(logScale, lo, hi, y0, y1);
    const svg = nbSvg("svg", { width, height, role: "img", "aria-label": "capacity per layer", "data-testid": "nbd-capacity-chart" });
    const defs = nbSvg("defs");
    const pattern = nbSvg("pattern", { id: "nbd-cap-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    pattern.append(nbSvg("rect", { width: 6, height: 6, fill: "#d6d6d6" }), nbSvg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#8a8a8a", "stroke-width": 2 }));
    defs.append(pattern);
    svg.append(defs);
    capYAxis(svg, y, CAP_MARGIN.left, width - CAP_MARGIN.right, logScale ? "bits (log)" : "bits");
    const xAt = (k) => CAP_MARGIN.left + band * k + band / 2;
    barEls = new Map();
    const selected = model.get("selected_layer");
    shown.forEach((i, k) => {
      const r = info[i];
      const v = barVal(i);
      const top = v > 0 ? y(v) : y0;
      const cls = ["nbd-bar"];
      if (!r.supported) cls.push("nbd-unsupported");
      if (r.is_bottleneck) cls.push("nbd-bottleneck");
      if (r.name === selected) cls.push("nbd-selected");
      const rect = nbSvg("rect", {
        class: cls.join(" "), x: xAt(k) - band * 0.36, width: Math.max(band * 0.72, 2), y: Math.min(top, y0),
        height: Math.max(y0 - top, v > 0 ? 1 : 0.5), "data-name": r.name, "data-index": i, "data-testid": "nbd-bar",
        tabindex: 0, role: "button", "aria-label": `${r.name}: ${nbInt(cap[i])} bits`,
      });
      const details = Object.entries(r.details || {}).map(([key, val]) => `${key}: ${val}`).join(", ");
      const lines = [`${r.name} (${r.kind})`, `output ${r.output_shape} · ${nbInt(params[i])} params`,
        `bits in ${capFmtBits(bitsIn[i])} → capacity ${nbInt(cap[i])} → out ${capFmtBits(bitsOut[i])}`,
        (r.supported ? "" : "unsupported: ") + r.note];
      if (details) lines.push(details);
      if (r.is_bottleneck) lines.push("bottleneck: the narrowest flow feeding a layer with neurons");
      rect.addEventListener("mousemove", (ev) => {
        const box = root.getBoundingClientRect();
        tip.show(ev.clientX - box.left, ev.clientY - box.top, lines);
      });
      rect.addEventListener("mouseleave", () => tip.hide());
      const choose = () => nbSet(model, "selected_layer", model.get("selected_layer") === r.name ? "" : r.name);
      rect.addEventListener("click", choose);
      rect.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); } });
      svg.append(rect);
      barEls.set(r.name, rect);
      if (band >= 14 || n <= 40) {
        const lx = xAt(k), ly = y0 + 10;
        svg.append(nbSvg("text", { class: "nbd-bar-label", x: lx, y: ly, transform: `rotate(50 ${lx} ${ly})`, text: r.name.length > 14 ? r.name.slice(0, 13) + "…" : r.name }));
      }
    });
    // bits flowing out of each shown layer (unbounded flows, before the first neurons, are left out)
    const pts = shown.map((i, k) => [xAt(k), Number.isFinite(bitsOut[i]) ? y(Math.max(bitsOut[i], logScale ? 0.8 : 0)) : null]);
    let d = "";
    pts.forEach(([px, py]) => { if (py !== null) d += (d ? "L" : "M") + px.toFixed(1) + "," + py.toFixed(1); });
    if (d) svg.append(nbSvg("path", { class: "nbd-flow", d, "data-testid": "nbd-flow" }));
    pts.forEach(([px, py], k) => {
      if (py === null) return;
      svg.append(nbSvg("circle", { class: "nbd-flow-dot", cx: px, cy: py, r: 2.5 }));
      const r = info[shown[k]];
      if (r.is_bottleneck) svg.append(nbSvg("text", { class: "nbd-bottleneck-label", x: px, y: Math.min(py + 14, y0 - 2), "text-anchor": "middle", text: "bottleneck" }));
    });
    if (expected !== null && expected !== undefined) {
      const py = y(Math.max(expected, 0.8));
      svg.append(nbSvg("line", { class: "nbd-expected", x1: CAP_MARGIN.left, x2: width - CAP_MARGIN.right, y1: py, y2: py, "data-testid": "nbd-expected" }));
      svg.append(nbSvg("text", { class: "nbd-expected-label", x: width - CAP_MARGIN.right, y: py - 4, "text-anchor": "end", text: `dataset needs ${nbInt(expected)} bits` }));
    }
    wrap.replaceChildren(svg);
    log.sync();
    all.sync();
    mark();
  }

  function mark() {
    const name = model.get("selected_layer");
    for (const [key, rect] of barEls) rect.classList.toggle("nbd-selected", key === name);
    for (const [key, tr] of rowEls) tr.classList.toggle("nbd-selected", key === name);
    const tr = rowEls.get(name);
    if (tr && tr.scrollIntoView) tr.scrollIntoView({ block: "nearest" });
  }

  load();
  draw();
  const offs = [nbOn(model, "log_scale", draw), nbOn(model, "show_all", draw), nbOn(model, "selected_layer", mark),
    nbOn(model, "layer_info", () => { load(); draw(); }), nbOn(model, "rule", syncRule)];
  return () => offs.forEach((f) => f());
}

// -- view 2: dataset complexity ------------------------------------------------------------------
function capRenderComplexity(model, root) {
  root.classList.add("nbd-capacity");
  capHeader(model, root);
  const summary = nbEl("div", { class: "nbd-banner ok", "data-testid": "nbd-complexity-summary", text: model.get("summary") });
  root.append(summary);
  const classes = model.get("classes") || [];
  const colours = nbPalette(classes.length);
  const legend = nbEl("div", { class: "nbd-legend nbd-class-legend" });
  classes.forEach((c, k) => {
    const swatch = nbEl("i", { class: "nbd-swatch" });
    swatch.style.background = colours[k];
    legend.append(nbEl("span", {}, [swatch, c]));
  });
  const panels = nbEl("div", { class: "nbd-panels" });
  root.append(legend, panels);
  capNotes(model, root);
  const tip = nbTooltip(root);

  const order = capNums(model.get("order"));
  const proj = capNums(model.get("sorted_projection"));
  const labels = capNums(model.get("sorted_labels"));
  const changes = capNums(model.get("change_points"));
  const pointsArr = nbArray(model.get("points"));
  const n = proj.length;
  const rankOf = new Map(order.map((s, r) => [s, r]));
  const dotEls = new Map();
  const pointEls = new Map();

  const W = 460, H = 300, M = { top: 12, right: 12, bottom: 36, left: 52 };
  function hover(el, lines) {
    el.addEventListener("mousemove", (ev) => {
      const box = root.getBoundingClientRect();
      tip.show(ev.clientX - box.left, ev.clientY - box.top, lines());
    });
    el.addEventListener("mouseleave", () => tip.hide());
  }
  const choose = (sample) => nbSet(model, "selected_sample", model.get("selected_sample") === sample ? -1 : sample);

  // sorted projection: rank on x, sum of features on y; a vertical line at each counted change
  const svg = nbSvg("svg", { width: W, height: H, "data-testid": "nbd-projection", role: "img", "aria-label": "samples sorted by the sum of their features" });
  const pmin = Math.min(...proj), pmax = Math.max(...proj);
  const x = nbScaleLinear(-0.5, n - 0.5, M.left, W - M.right);
  const y = nbScaleLinear(pmin - (pmax - pmin) * 0.05 - 1e-9, pmax + (pmax - pmin) * 0.05 + 1e-9, H - M.bottom, M.top);
  capYAxis(svg, y, M.left, W - M.right, "sum of features");
  for (const c of changes) svg.append(nbSvg("line", { class: "nbd-change", x1: x(c - 0.5), x2: x(c - 0.5), y1: M.top, y2: H - M.bottom, "data-testid": "nbd-change" }));
  const r = n > 2000 ? 1.2 : n > 500 ? 2 : 3.2;
  for (let i = 0; i < n; i++) {
    const c = nbSvg("circle", { class: "nbd-dot", cx: x(i), cy: y(proj[i]), r, fill: colours[labels[i]] || "#777", "data-sample": order[i] });
    hover(c, () => [`sample ${order[i]} · ${classes[labels[i]]}`, `rank ${i} · sum ${nbFmt(proj[i], 4)}`]);
    c.addEventListener("click", () => choose(order[i]));
    svg.append(c);
    dotEls.set(order[i], c);
  }
  const gx = nbSvg("g", { class: "nbd-axis" });
  for (const t of nbNiceTicks(0, n - 1, 5)) gx.append(nbSvg("text", { x: x(t), y: H - M.bottom + 14, "text-anchor": "middle", text: nbFmt(t) }));
  svg.append(gx);
  svg.append(nbSvg("text", { class: "nbd-bar-label", x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle", text: `rank by sum of features · ${changes.length} label changes` }));
  panels.append(svg);

  if (pointsArr) {
    const pts = pointsArr.data;
    const xs = [], ys = [];
    for (let i = 0; i < pts.length; i += 2) { xs.push(pts[i]); ys.push(pts[i + 1]); }
    const span = (a) => { const lo = Math.min(...a), hi = Math.max(...a), pad = (hi - lo) * 0.05 || 1; return [lo - pad, hi + pad]; };
    const [ax0, ax1] = span(xs), [ay0, ay1] = span(ys);
    const sx = nbScaleLinear(ax0, ax1, M.left, W - M.right), sy = nbScaleLinear(ay0, ay1, H - M.bottom, M.top);
    const sc = nbSvg("svg", { width: W, height: H, "data-testid": "nbd-scatter", role: "img", "aria-label": "the data" });
    capYAxis(sc, sy, M.left, W - M.right, "feature 1");
    const gx = nbSvg("g", { class: "nbd-axis" });
    for (const t of sx.ticks(5)) gx.append(nbSvg("text", { x: sx(t), y: H - M.bottom + 14, "text-anchor": "middle", text: nbFmt(t) }));
    gx.append(nbSvg("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle", text: "feature 0" }));
    sc.append(gx);
    for (let s = 0; s < xs.length; s++) {
      const rank = rankOf.get(s);
      const c = nbSvg("circle", { class: "nbd-point", cx: sx(xs[s]), cy: sy(ys[s]), r: 3.5, fill: colours[labels[rank]] || "#777", "data-sample": s });
      hover(c, () => [`sample ${s} · ${classes[labels[rank]]}`, `(${nbFmt(xs[s], 4)}, ${nbFmt(ys[s], 4)}) · rank ${rank}`]);
      c.addEventListener("click", () => choose(s));
      sc.append(c);
      pointEls.set(s, c);
    }
    panels.append(sc);
  }

  function mark() {
    const s = model.get("selected_sample");
    for (const m of [dotEls, pointEls]) for (const [key, el] of m) el.classList.toggle("nbd-selected", key === s);
    for (const m of [dotEls, pointEls]) { const el = m.get(s); if (el) el.parentNode.append(el); }
  }
  mark();
  return nbOn(model, "selected_sample", mark);
}

// -- view 3: sizing candidates -------------------------------------------------------------------
function capRenderSizing(model, root) {
  root.classList.add("nbd-capacity");
  const log = capToggle(model, "log_scale", "log scale", "nbd-log-toggle");
  capHeader(model, root, [log.btn]);
  const banner = capBanner(root);
  banner.textContent = model.get("summary");
  if (model.get("banner")) banner.classList.add(model.get("banner"));
  const wrap = nbEl("div", { class: "nbd-chart-wrap" });
  const detail = nbEl("div", { class: "nbd-sub", "data-testid": "nbd-candidate-detail" });
  root.append(wrap, detail);
  capNotes(model, root);
  const tip = nbTooltip(root);
  const mult = capNums(model.get("multipliers"));
  const bits = capNums(model.get("total_bits"));
  const nParams = capNums(model.get("n_params"));
  const target = model.get("target_bits");
  const best = model.get("best_index");
  let dots = [];

  function draw() {
    const logScale = model.get("log_scale");
    const W = 560, H = 300, M = { top: 16, right: 16, bottom: 40, left: 64 };
    const lo = Math.min(...bits.filter((b) => b > 0), target), hi = Math.max(...bits, target);
    const y = capYScale(logScale, lo, hi, H - M.bottom, M.top);
    const mlo = Math.min(...mult), mhi = Math.max(...mult);
    const x = logScale && mlo > 0 ? nbScaleLog(mlo / 1.3, mhi * 1.3, M.left, W - M.right) : nbScaleLinear(0, mhi * 1.05, M.left, W - M.right);
    const svg = nbSvg("svg", { width: W, height: H, "data-testid": "nbd-sizing-chart", role: "img", "aria-label": "capacity per candidate size" });
    capYAxis(svg, y, M.left, W - M.right, logScale ? "capacity bits (log)" : "capacity bits");
    const gx = nbSvg("g", { class: "nbd-axis" });
    for (const t of x.ticks(6)) gx.append(nbSvg("text", { x: x(t), y: H - M.bottom + 14, "text-anchor": "middle", text: nbFmt(t) }));
    gx.append(nbSvg("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle", text: "multiplier" }));
    svg.append(gx);
    const ty = y(target);
    svg.append(nbSvg("line", { class: "nbd-expected", x1: M.left, x2: W - M.right, y1: ty, y2: ty, "data-testid": "nbd-expected" }));
    svg.append(nbSvg("text", { class: "nbd-expected-label", x: W - M.right, y: ty - 4, "text-anchor": "end", text: `target ${nbInt(target)} bits` }));
    svg.append(nbSvg("path", { class: "nbd-flow", d: mult.map((m, i) => `${i ? "L" : "M"}${x(m).toFixed(1)},${y(Math.max(bits[i], 0.8)).toFixed(1)}`).join("") }));
    dots = mult.map((m, i) => {
      const c = nbSvg("circle", { class: "nbd-candidate" + (i === best ? " nbd-best" : ""), cx: x(m), cy: y(Math.max(bits[i], 0.8)), r: i === best ? 7 : 5, "data-index": i, "data-testid": "nbd-candidate" });
      const lines = [`multiplier ${nbFmt(m, 4)}${i === best ? " (best)" : ""}`, `${nbInt(bits[i])} bits · ${nbInt(nParams[i])} params`, `${nbFmt(bits[i] / Math.max(target, 1), 3)}× the target`];
      c.addEventListener("mousemove", (ev) => { const box = root.getBoundingClientRect(); tip.show(ev.clientX - box.left, ev.clientY - box.top, lines); });
      c.addEventListener("mouseleave", () => tip.hide());
      c.addEventListener("click", () => nbSet(model, "selected_index", model.get("selected_index") === i ? -1 : i));
      svg.append(c);
      return c;
    });
    wrap.replaceChildren(svg);
    log.sync();
    mark();
  }
  function mark() {
    const s = model.get("selected_index");
    dots.forEach((c, i) => c.classList.toggle("nbd-selected", i === s));
    detail.textContent = s >= 0 && s < mult.length
      ? `selected: multiplier ${nbFmt(mult[s], 4)} → ${nbInt(bits[s])} bits, ${nbInt(nParams[s])} params (${nbFmt(bits[s] / Math.max(target, 1), 3)}× the target)`
      : "click a candidate for its numbers";
  }
  draw();
  const offs = [nbOn(model, "log_scale", draw), nbOn(model, "selected_index", mark)];
  return () => offs.forEach((f) => f());
}

export default {
  render({ model, el }) {
    const root = nbEl("div", { class: "nbd-root", "data-testid": `nbd-${model.get("view")}` });
    el.append(root);
    const view = model.get("view");
    const cleanup = view === "complexity" ? capRenderComplexity(model, root)
      : view === "sizing" ? capRenderSizing(model, root) : capRenderCapacity(model, root);
    return () => { cleanup(); root.remove(); };
  },
};
