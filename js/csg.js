// Class-overlap viewer (CSG): canvas scatter of the 2-D embedding, SVG heatmap of S, eigenvalue
// spectrum, gallery of overlapping samples, class list with k / M controls.
// Concatenated after _lib.js. User strings (class names) only ever go through textContent.

const CSG_PAD = 28;

/** Colours as [r, g, b] for canvas drawing, matching nbPalette. */
function csgRgb(k) {
  const probe = document.createElement("canvas").getContext("2d");
  return nbPalette(k).map((c) => {
    probe.fillStyle = "#000";
    probe.fillStyle = c;
    const hex = probe.fillStyle; // normalised to #rrggbb
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  });
}

/**
 * The scatter: one <canvas>, points drawn as small squares per class (few fillStyle changes),
 * wheel zoom around the cursor, drag to pan, hover tooltip through a uniform grid index.
 */
function csgScatter(root, tooltip, onHover) {
  const wrap = nbEl("div", { class: "nbd-csg-scatter", "data-testid": "csg-scatter" });
  const canvas = nbEl("canvas", { width: 460, height: 400, "aria-label": "embedding scatter" });
  const reset = nbEl("button", { text: "reset view", class: "nbd-csg-reset" });
  wrap.append(canvas, reset);
  root.append(wrap);
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  let xs = null, ys = null, labels = null, names = [], colours = [], included = null;
  let pair = [], view = null, grid = null, gx = 64, gy = 64, bounds = null;
  let frame = 0;

  function fit() {
    if (!xs || !xs.length) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] < x0) x0 = xs[i]; if (xs[i] > x1) x1 = xs[i];
      if (ys[i] < y0) y0 = ys[i]; if (ys[i] > y1) y1 = ys[i];
    }
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 1; y1 += 1; }
    bounds = { x0, x1, y0, y1 };
    const s = Math.min((W - 2 * CSG_PAD) / (x1 - x0), (H - 2 * CSG_PAD) / (y1 - y0));
    view = { s, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2 };
    // grid index in data space for hover lookup
    grid = new Map();
    for (let i = 0; i < xs.length; i++) {
      const key = csgCell(i);
      let list = grid.get(key);
      if (!list) grid.set(key, (list = []));
      list.push(i);
    }
  }
  function csgCell(i) {
    const cx = Math.min(gx - 1, Math.floor(((xs[i] - bounds.x0) / (bounds.x1 - bounds.x0)) * gx));
    const cy = Math.min(gy - 1, Math.floor(((ys[i] - bounds.y0) / (bounds.y1 - bounds.y0)) * gy));
    return cy * gx + cx;
  }
  const px = (x) => W / 2 + (x - view.cx) * view.s;
  const py = (y) => H / 2 - (y - view.cy) * view.s;

  function draw() {
    frame = 0;
    ctx.clearRect(0, 0, W, H);
    if (!xs || !view) return;
    const n = xs.length;
    const size = n > 50000 ? 1.5 : n > 5000 ? 2 : n > 500 ? 3 : 4;
    const focus = pair.length === 2;
    const K = colours.length;
    // bucket by class once per draw: one fillStyle per class
    const buckets = Array.from({ length: K }, () => []);
    for (let i = 0; i < n; i++) buckets[labels[i]].push(i);
    const drawClass = (c, style) => {
      ctx.fillStyle = style;
      const list = buckets[c];
      for (let j = 0; j < list.length; j++) {
        const i = list[j];
        const X = px(xs[i]), Y = py(ys[i]);
        if (X < -4 || Y < -4 || X > W + 4 || Y > H + 4) continue;
        ctx.fillRect(X - size / 2, Y - size / 2, size, size);
      }
    };
    for (let c = 0; c < K; c++) {
      const off = included && !included[c];
      if (focus && pair.includes(c)) continue;
      const [r, g, b] = colours[c];
      const alpha = off ? 0.12 : focus ? 0.15 : 0.8;
      drawClass(c, off || focus ? `rgba(160,160,160,${alpha})` : `rgba(${r},${g},${b},${alpha})`);
    }
    if (focus) for (const c of pair) { const [r, g, b] = colours[c]; drawClass(c, `rgba(${r},${g},${b},0.95)`); }
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(draw); }

  function nearest(mx, my) {
    if (!grid) return -1;
    const dx = (mx - W / 2) / view.s + view.cx, dy = -(my - H / 2) / view.s + view.cy;
    const cx = Math.floor(((dx - bounds.x0) / (bounds.x1 - bounds.x0)) * gx);
    const cy = Math.floor(((dy - bounds.y0) / (bounds.y1 - bounds.y0)) * gy);
    const rx = Math.ceil((8 / view.s / (bounds.x1 - bounds.x0)) * gx);
    const ry = Math.ceil((8 / view.s / (bounds.y1 - bounds.y0)) * gy);
    let best = -1, bd = 64; // 8 px radius, squared
    for (let j = Math.max(0, cy - ry); j <= Math.min(gy - 1, cy + ry); j++) {
      for (let i = Math.max(0, cx - rx); i <= Math.min(gx - 1, cx + rx); i++) {
        const list = grid.get(j * gx + i);
        if (!list) continue;
        for (const p of list) {
          const ddx = px(xs[p]) - mx, ddy = py(ys[p]) - my;
          const d = ddx * ddx + ddy * ddy;
          if (d < bd) { bd = d; best = p; }
        }
      }
    }
    return best;
  }

  let drag = null;
  const pos = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) * W) / r.width, ((ev.clientY - r.top) * H) / r.height];
  };
  const onWheel = (ev) => {
    if (!view) return;
    ev.preventDefault();
    const [mx, my] = pos(ev);
    const f = Math.exp(-ev.deltaY * 0.0015);
    const dx = (mx - W / 2) / view.s + view.cx, dy = -(my - H / 2) / view.s + view.cy;
    view.s *= f;
    view.cx = dx - (mx - W / 2) / view.s;
    view.cy = dy + (my - H / 2) / view.s;
    schedule();
  };
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("mousedown", (ev) => { drag = pos(ev); });
  const onMove = (ev) => {
    if (!view) return;
    const [mx, my] = pos(ev);
    if (drag) {
      view.cx -= (mx - drag[0]) / view.s;
      view.cy += (my - drag[1]) / view.s;
      drag = [mx, my];
      tooltip.hide();
      schedule();
      return;
    }
    const i = nearest(mx, my);
    if (i < 0) { tooltip.hide(); onHover(-1); return; }
    const rr = root.getBoundingClientRect();
    tooltip.show(ev.clientX - rr.left, ev.clientY - rr.top, [names[labels[i]] ?? String(labels[i]), `sample ${nbInt(i)}`]);
    onHover(i);
  };
  canvas.addEventListener("mousemove", onMove);
  const onUp = () => { drag = null; };
  window.addEventListener("mouseup", onUp);
  canvas.addEventListener("mouseleave", () => { tooltip.hide(); onHover(-1); });
  reset.addEventListener("click", () => { fit(); schedule(); });

  return {
    setData(c, l, nm) {
      const a = nbArray(c), b = nbArray(l);
      if (!a || !b) return;
      const n = a.shape[0];
      xs = new Float32Array(n); ys = new Float32Array(n);
      for (let i = 0; i < n; i++) { xs[i] = a.data[2 * i]; ys[i] = a.data[2 * i + 1]; }
      labels = b.data; names = nm; colours = csgRgb(nm.length);
      fit(); schedule();
    },
    setPair(p) { pair = p || []; schedule(); },
    setIncluded(inc) { included = inc; schedule(); },
    destroy() { window.removeEventListener("mouseup", onUp); canvas.removeEventListener("wheel", onWheel); if (frame) cancelAnimationFrame(frame); },
    canvas,
  };
}

/** The S heatmap as SVG cells; spectral ordering and a cell-size zoom keep 100 classes readable. */
function csgHeatmap(host, tooltip, root, onPick) {
  const box = nbEl("div", { class: "nbd-csg-heatmap", "data-testid": "csg-heatmap" });
  host.append(box);
  let cell = 0;
  return {
    render(S, active, order, useOrder, names, pair, zoom) {
      box.replaceChildren();
      if (!S) return;
      const K = S.shape[0];
      const idx = useOrder ? Array.from(order.data) : Array.from({ length: K }, (_, i) => i);
      cell = Math.max(3, Math.min(34, Math.floor(((zoom || 1) * 420) / K)));
      const showLabels = cell >= 9;
      const lab = showLabels ? 70 : 8;
      const size = K * cell;
      const svg = nbSvg("svg", { width: size + lab + 4, height: size + lab + 4, class: "nbd-csg-hm-svg" });
      let offMax = 0;
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) if (i !== j) offMax = Math.max(offMax, S.data[i * K + j]);
      const g = nbSvg("g", { transform: `translate(${lab},${lab})` });
      for (let a = 0; a < K; a++) {
        for (let b = 0; b < K; b++) {
          const i = idx[a], j = idx[b];
          const v = S.data[i * K + j];
          // the diagonal dominates; scale colours by the largest overlap off it
          const t = offMax > 0 ? Math.sqrt(Math.min(1, v / offMax)) : i === j ? 1 : 0;
          const ci = active.data[i], cj = active.data[j];
          const picked = pair.length === 2 && ((pair[0] === ci && pair[1] === cj) || (pair[0] === cj && pair[1] === ci));
          const r = nbSvg("rect", {
            x: b * cell, y: a * cell, width: cell, height: cell, fill: nbSequential(t),
            class: "nbd-cell" + (i === j ? " nbd-diag" : "") + (picked ? " nbd-picked" : ""),
            "data-row": ci, "data-col": cj,
          });
          r.addEventListener("mousemove", (ev) => {
            const rr = root.getBoundingClientRect();
            tooltip.show(ev.clientX - rr.left, ev.clientY - rr.top,
              [`${names[ci]} → ${names[cj]}`, `S = ${nbFmt(v, 4)}`, "click: show overlapping samples"]);
          });
          r.addEventListener("mouseleave", () => tooltip.hide());
          r.addEventListener("click", () => onPick([ci, cj]));
          g.append(r);
        }
      }
      svg.append(g);
      if (showLabels) {
        for (let a = 0; a < K; a++) {
          const name = names[active.data[idx[a]]];
          svg.append(nbSvg("text", { x: lab - 4, y: lab + a * cell + cell / 2 + 4, "text-anchor": "end", class: "nbd-csg-lab", text: name }));
          svg.append(nbSvg("text", {
            x: 0, y: 0, class: "nbd-csg-lab", text: name, "text-anchor": "start",
            transform: `translate(${lab + a * cell + cell / 2 + 4},${lab - 4}) rotate(-90)`,
          }));
        }
      }
      box.append(svg);
    },
  };
}

/** Eigenvalues (dots), gaps (bars) and their cumulative maximum (step line) in one SVG. */
function csgSpectrum(host, tooltip, root) {
  const box = nbEl("div", { class: "nbd-csg-spectrum", "data-testid": "csg-spectrum" });
  host.append(box);
  return {
    render(ev, gaps, cm, score) {
      box.replaceChildren();
      if (!ev) return;
      const K = ev.shape[0];
      const Wd = 440, Ht = 220, L = 58, R = 48, T = 22, B = 30;
      const svg = nbSvg("svg", { width: Wd, height: Ht });
      const x = nbScaleLinear(-0.5, Math.max(K - 0.5, 0.5), L, Wd - R);
      let gmax = 0, emax = 0;
      for (let i = 0; i < gaps.data.length; i++) gmax = Math.max(gmax, gaps.data[i], cm.data[i]);
      for (let i = 0; i < K; i++) if (isFinite(ev.data[i])) emax = Math.max(emax, ev.data[i]);
      const yg = nbScaleLinear(0, gmax || 1, Ht - B, T);
      const ye = nbScaleLinear(0, emax || 1, Ht - B, T);
      const axis = nbSvg("g", { class: "nbd-axis" });
      axis.append(nbSvg("line", { x1: L, x2: Wd - R, y1: Ht - B, y2: Ht - B }));
      for (const t of yg.ticks(4)) {
        axis.append(nbSvg("text", { x: L - 4, y: yg(t) + 4, "text-anchor": "end", text: nbFmt(t) }));
      }
      for (const t of ye.ticks(4)) {
        axis.append(nbSvg("text", { x: Wd - R + 4, y: ye(t) + 4, text: nbFmt(t) }));
      }
      axis.append(nbSvg("text", { x: L, y: 12, text: "gap Δᵢ, cumulative max" }));
      axis.append(nbSvg("text", { x: Wd - R, y: 12, "text-anchor": "end", text: "eigenvalue λᵢ" }));
      axis.append(nbSvg("text", { x: (L + Wd - R) / 2, y: Ht - 6, "text-anchor": "middle", text: "i" }));
      svg.append(axis);
      const bw = Math.max(1, ((Wd - L - R) / Math.max(K, 1)) * 0.6);
      let path = "";
      for (let i = 0; i < gaps.data.length; i++) {
        const cx = x(i + 0.5);
        const bar = nbSvg("rect", { x: cx - bw / 2, y: yg(gaps.data[i]), width: bw, height: Math.max(0, Ht - B - yg(gaps.data[i])), class: "nbd-bar nbd-csg-gap" });
        bar.addEventListener("mousemove", (e) => {
          const rr = root.getBoundingClientRect();
          tooltip.show(e.clientX - rr.left, e.clientY - rr.top, [`gap ${i}`, `Δ = ${nbFmt(gaps.data[i], 4)}`, `cumulative max = ${nbFmt(cm.data[i], 4)}`]);
        });
        bar.addEventListener("mouseleave", () => tooltip.hide());
        svg.append(bar);
        path += `${i ? "L" : "M"}${x(i)},${yg(cm.data[i])}L${x(i + 1)},${yg(cm.data[i])}`;
      }
      if (path) svg.append(nbSvg("path", { d: path, class: "nbd-csg-cummax" }));
      for (let i = 0; i < K; i++) {
        if (!isFinite(ev.data[i])) continue;
        svg.append(nbSvg("circle", { cx: x(i), cy: ye(ev.data[i]), r: K > 40 ? 1.5 : 3, class: "nbd-csg-eig" }));
      }
      box.append(svg);
      box.append(nbEl("div", { class: "nbd-sub", text: `CSG = Σ cumulative max = ${nbFmt(score, 4)}` }));
    },
  };
}

/** Gallery of the samples of the selected pair: thumbnails, audio players or table rows. */
function csgGallery(host) {
  const box = nbEl("div", { class: "nbd-csg-gallery", "data-testid": "csg-gallery" });
  host.append(box);
  let urls = [];
  const free = () => { for (const u of urls) URL.revokeObjectURL(u); urls = []; };
  return {
    render(model, names, colours) {
      free();
      box.replaceChildren();
      const idx = nbArray(model.get("gallery_index"));
      // the pair the gallery was computed for (in a page without a kernel it can lag the click)
      const pair = model.get("gallery_pair") || [];
      if (pair.length !== 2) {
        box.append(nbEl("div", { class: "nbd-sub", text: "Click a heatmap cell to see the samples of those two classes that overlap most." }));
        return;
      }
      box.append(nbEl("div", { class: "nbd-title", text: `${names[pair[0]]} ↔ ${names[pair[1]]}: samples that overlap most` }));
      if (!idx || !idx.data.length) { box.append(nbEl("div", { class: "nbd-sub", text: "No drawn sample of either class has a neighbour in the other." })); return; }
      const labs = nbArray(model.get("gallery_labels")).data;
      const mod = model.get("modality");
      const items = nbEl("div", { class: "nbd-csg-items" });
      const caption = (i) => {
        const c = labs[i];
        const cap = nbEl("div", { class: "nbd-csg-cap" });
        const sw = nbEl("span", { class: "nbd-csg-swatch" });
        sw.style.background = colours[c];
        cap.append(sw, nbEl("span", { text: `${names[c]} #${idx.data[i]}` }));
        return cap;
      };
      if (mod === "image" && model.get("gallery_images")) {
        const im = nbArray(model.get("gallery_images"));
        const [m, h, w, ch] = im.shape;
        const scale = Math.max(1, Math.floor(64 / Math.max(h, w)));
        for (let i = 0; i < m; i++) {
          const small = document.createElement("canvas");
          small.width = w; small.height = h;
          const img = small.getContext("2d").createImageData(w, h);
          for (let p = 0; p < h * w; p++) {
            const base = (i * h * w + p) * ch;
            img.data[4 * p] = im.data[base];
            img.data[4 * p + 1] = im.data[base + (ch > 1 ? 1 : 0)];
            img.data[4 * p + 2] = im.data[base + (ch > 2 ? 2 : 0)];
            img.data[4 * p + 3] = 255;
          }
          small.getContext("2d").putImageData(img, 0, 0);
          const big = nbEl("canvas", { width: w * scale, height: h * scale, class: "nbd-csg-thumb" });
          const g = big.getContext("2d");
          g.imageSmoothingEnabled = false; // nearest-neighbour: pixels stay pixels
          g.drawImage(small, 0, 0, w * scale, h * scale);
          items.append(nbEl("div", { class: "nbd-csg-item" }, [big, caption(i)]));
        }
      } else if (mod === "audio" && model.get("gallery_audio")) {
        const bytes = nbArray(model.get("gallery_audio")).data;
        const off = nbArray(model.get("gallery_audio_offsets")).data;
        const specs = model.get("gallery_spectrograms") ? nbArray(model.get("gallery_spectrograms")) : null;
        for (let i = 0; i + 1 < off.length; i++) {
          const url = URL.createObjectURL(new Blob([bytes.slice(off[i], off[i + 1])], { type: "audio/wav" }));
          urls.push(url);
          const parts = [];
          if (specs) { // see the sound: time across, frequency up, on one dB scale for the gallery
            const img = nbSpecImage(specs, i);
            const c = nbEl("canvas", { class: "nbd-csg-spec", width: String(img.width), height: String(img.height) });
            c.getContext("2d").putImageData(img, 0, 0);
            parts.push(c);
          }
          parts.push(nbEl("audio", { controls: true, preload: "none", src: url }), caption(i));
          items.append(nbEl("div", { class: "nbd-csg-item nbd-csg-audio" }, parts));
        }
      } else if (model.get("gallery_rows")) {
        const rows = nbArray(model.get("gallery_rows"));
        const cols = model.get("gallery_columns");
        const table = nbEl("table", { class: "nbd-csg-table" });
        table.append(nbEl("tr", {}, [nbEl("th", { text: "sample" }), ...cols.map((c) => nbEl("th", { text: c }))]));
        for (let i = 0; i < rows.shape[0]; i++) {
          const tr = nbEl("tr", {}, [nbEl("td", {}, [caption(i)])]);
          for (let j = 0; j < rows.shape[1]; j++) tr.append(nbEl("td", { text: nbFmt(rows.data[i * rows.shape[1] + j]) }));
          table.append(tr);
        }
        items.append(table);
      }
      box.append(items);
    },
    destroy: free,
  };
}

export default {
  render({ model, el }) {
    const root = nbEl("div", { class: "nbd-root nbd-csg", "data-testid": "csg-root" });
    el.append(root);
    const tooltip = nbTooltip(root);
    const title = nbEl("div", { class: "nbd-title", "data-testid": "csg-title" });
    const sub = nbEl("div", { class: "nbd-sub" });
    const status = nbEl("div", { class: "nbd-csg-status", "data-testid": "csg-status" });
    const bar = nbEl("progress", { max: 1, value: 0, class: "nbd-csg-progress" });

    // controls
    const kIn = nbEl("input", { type: "number", min: 1, step: 1, "data-testid": "csg-k", title: "neighbours k" });
    const mIn = nbEl("input", { type: "number", min: 0, step: 1, "data-testid": "csg-M", placeholder: "all", title: "samples per class (empty or 0: every sample)" });
    const go = nbEl("button", { text: "Recompute", "data-testid": "csg-recompute" });
    const orderBox = nbEl("input", { type: "checkbox", "data-testid": "csg-order" });
    const zoomIn = nbEl("button", { text: "+", title: "larger heatmap cells" });
    const zoomOut = nbEl("button", { text: "−", title: "smaller heatmap cells" });
    const toolbar = nbEl("div", { class: "nbd-toolbar" }, [
      nbEl("label", {}, ["k ", kIn]), nbEl("label", {}, ["M ", mIn]), go,
      nbEl("label", {}, [orderBox, " spectral order"]), nbEl("span", { text: "heatmap" }), zoomOut, zoomIn, bar,
    ]);
    const main = nbEl("div", { class: "nbd-csg-main" });
    const left = nbEl("div", { class: "nbd-csg-col" });
    const mid = nbEl("div", { class: "nbd-csg-col" });
    const side = nbEl("div", { class: "nbd-csg-col nbd-csg-side" });
    main.append(left, mid, side);
    root.append(title, sub, toolbar, status, main);

    const scatter = csgScatter(left, tooltip, () => {});
    const heat = csgHeatmap(mid, tooltip, root, (p) => nbSet(model, "selected_pair", p));
    const spec = csgSpectrum(mid, tooltip, root);
    const classList = nbEl("div", { class: "nbd-csg-classes", "data-testid": "csg-classes" });
    const allBtn = nbEl("button", { text: "all" }), noneBtn = nbEl("button", { text: "none" });
    side.append(nbEl("div", { class: "nbd-toolbar" }, [nbEl("b", { text: "classes" }), allBtn, noneBtn]), classList);
    const gallery = csgGallery(root);
    let zoom = 1;
    let pending = null; // local checkbox state until Recompute

    const names = () => model.get("classes");
    const colourCss = () => nbPalette(names().length);

    function drawClasses() {
      classList.replaceChildren();
      const inc = pending || model.get("included");
      const counts = model.get("class_counts");
      const cols = colourCss();
      names().forEach((nm, c) => {
        const box = nbEl("input", { type: "checkbox", "data-class": c });
        box.checked = !!inc[c];
        box.addEventListener("change", () => {
          pending = (pending || model.get("included").slice());
          pending[c] = box.checked;
          go.classList.add("nbd-csg-dirty");
        });
        const sw = nbEl("span", { class: "nbd-csg-swatch" });
        sw.style.background = cols[c];
        classList.append(nbEl("label", { class: "nbd-csg-class" }, [box, sw, nbEl("span", { text: nm }), nbEl("span", { class: "nbd-sub", text: ` ${nbInt(counts[c])}` })]));
      });
    }
    const setAll = (v) => { pending = names().map(() => v); go.classList.add("nbd-csg-dirty"); drawClasses(); };
    allBtn.addEventListener("click", () => setAll(true));
    noneBtn.addEventListener("click", () => setAll(false));

    function drawHeat() {
      heat.render(nbArray(model.get("similarity")), nbArray(model.get("active")), nbArray(model.get("order")),
        model.get("spectral_order"), names(), model.get("selected_pair") || [], zoom);
    }
    function drawAll() {
      title.textContent = model.get("title");
      sub.textContent = model.get("subtitle");
      kIn.value = model.get("k");
      mIn.value = model.get("M") || "";  // 0 is "every sample": an empty box that says "all"
      orderBox.checked = model.get("spectral_order");
      drawHeat();
      spec.render(nbArray(model.get("eigenvalues")), nbArray(model.get("gaps")), nbArray(model.get("cumulative_max")), model.get("score"));
      scatter.setIncluded(model.get("included"));
    }
    function drawBusy() {
      const busy = model.get("busy");
      bar.style.visibility = busy ? "visible" : "hidden";
      bar.value = model.get("progress");
      go.disabled = busy;
      status.textContent = model.get("status") + (busy ? " (the kernel's stop button interrupts)" : "");
    }
    go.addEventListener("click", () => {
      const k = Math.max(1, Math.round(Number(kIn.value) || 1));
      const M = Math.max(0, Math.round(Number(mIn.value) || 0));
      model.set("k", k);
      model.set("M", M);
      if (pending) model.set("included", pending);
      pending = null;
      go.classList.remove("nbd-csg-dirty");
      model.set("request", (model.get("request") || 0) + 1);
      model.save_changes();
    });
    orderBox.addEventListener("change", () => nbSet(model, "spectral_order", orderBox.checked));
    zoomIn.addEventListener("click", () => { zoom = Math.min(8, zoom * 1.5); drawHeat(); });
    zoomOut.addEventListener("click", () => { zoom = Math.max(0.25, zoom / 1.5); drawHeat(); });

    scatter.setData(model.get("coords"), model.get("labels"), names());
    scatter.setPair(model.get("selected_pair"));
    drawAll();
    drawClasses();
    drawBusy();
    gallery.render(model, names(), colourCss());

    const offs = [
      nbOn(model, "coords", () => scatter.setData(model.get("coords"), model.get("labels"), names())),
      nbOn(model, "similarity", drawAll),
      nbOn(model, "title", drawAll),
      nbOn(model, "spectral_order", drawHeat),
      nbOn(model, "included", () => { drawClasses(); scatter.setIncluded(model.get("included")); }),
      nbOn(model, "selected_pair", () => { scatter.setPair(model.get("selected_pair")); drawHeat(); }),
      nbOn(model, "gallery_index", () => gallery.render(model, names(), colourCss())),
      nbOn(model, "gallery_pair", () => gallery.render(model, names(), colourCss())),
      nbOn(model, "busy", drawBusy),
      nbOn(model, "progress", drawBusy),
      nbOn(model, "status", drawBusy),
    ];
    return () => { for (const off of offs) off(); scatter.destroy(); gallery.destroy(); tooltip.hide(); };
  },
};
