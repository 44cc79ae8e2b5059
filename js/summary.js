// Model summary: a sortable layer table; in execution order a gutter beside the rows draws the
// graph's edges, skip connections and branches in lanes of their own.

const SUM_ROW_H = 24;
const SUM_HEAD_H = 26;
const SUM_LANE_W = 10;
const SUM_MAX_LANES = 16;
const SUM_CATEGORY_COLOURS = {
  input: "#9e9e9e", dense: "#4e79a7", conv: "#59a14f", recurrent: "#b07aa1", attention: "#ff9da7",
  embedding: "#9c755f", norm: "#edc948", pool: "#76b7b2", merge: "#f28e2b", dropout: "#bab0ac",
  activation: "#e15759", reshape: "#d4d4d4", other: "#555555",
};
const SUM_COLUMNS = [
  { key: "index", label: "#", num: true },
  { key: "name", label: "Layer" },
  { key: "kind", label: "Kind" },
  { key: "output_shape", label: "Output shape" },
  { key: "params", label: "Params", num: true },
  { key: "inbound", label: "Connected to" },
];

/** Assign each edge that skips rows to a lane (greedy interval colouring). */
function sumLanes(rows) {
  const index = new Map(rows.map((r, i) => [r.name, i]));
  const edges = [];
  rows.forEach((r, dst) => {
    for (const name of r.inbound) {
      const src = index.get(name);
      if (src === undefined) continue;
      edges.push({ src, dst, lane: dst - src === 1 ? 0 : -1 });
    }
  });
  const laneEnd = [];
  for (const e of edges.filter((e) => e.lane < 0).sort((a, b) => a.src - b.src || a.dst - b.dst)) {
    let lane = laneEnd.findIndex((end) => end <= e.src);
    if (lane < 0) {
      lane = laneEnd.length < SUM_MAX_LANES ? laneEnd.length : SUM_MAX_LANES - 1;
      laneEnd[lane] = 0;
    }
    laneEnd[lane] = e.dst;
    e.lane = lane + 1;
  }
  return { edges, nLanes: laneEnd.length };
}

function sumValue(row, key) {
  if (key === "inbound") return row.inbound.join(", ");
  return row[key];
}

export default {
  render({ model, el }) {
    const root = nbEl("div", { class: "nbd-root nbd-summary", "data-testid": "nbd-summary" });
    el.append(root);
    const header = nbEl("div", { class: "nbd-toolbar" });
    const title = nbEl("span", { class: "nbd-title" });
    const sub = nbEl("span", { class: "nbd-sub" });
    const filter = nbEl("input", { type: "search", placeholder: "filter layers", "aria-label": "filter layers" });
    header.append(title, sub, filter);
    const scroll = nbEl("div", { class: "nbd-scroll" });
    const grid = nbEl("div", { class: "nbd-grid" });
    const gutter = nbSvg("svg", { class: "nbd-gutter" });
    const table = nbEl("table");
    const thead = nbEl("thead");
    const tbody = nbEl("tbody");
    table.append(thead, tbody);
    grid.append(gutter, table);
    scroll.append(grid);
    const totals = nbEl("div", { class: "nbd-totals" });
    root.append(header, scroll, totals);

    let rowEls = new Map();

    function viewRows() {
      const rows = model.get("rows") || [];
      const key = model.get("sort_by");
      const q = filter.value.trim().toLowerCase();
      let out = q ? rows.filter((r) => (r.name + " " + r.kind).toLowerCase().includes(q)) : rows.slice();
      if (key) {
        const dir = model.get("sort_descending") ? -1 : 1;
        out.sort((a, b) => {
          const va = sumValue(a, key), vb = sumValue(b, key);
          return (va < vb ? -1 : va > vb ? 1 : 0) * dir || a.index - b.index;
        });
      }
      return { rows: out, graphOrder: !key && !q };
    }

    function drawHead() {
      const key = model.get("sort_by");
      const tr = nbEl("tr");
      for (const col of SUM_COLUMNS) {
        const th = nbEl("th", { text: col.label, class: col.num ? "num" : "", "data-key": col.key, scope: "col" });
        if (key === col.key) th.setAttribute("aria-sort", model.get("sort_descending") ? "descending" : "ascending");
        th.addEventListener("click", () => {
          if (model.get("sort_by") === col.key) {
            if (model.get("sort_descending")) { model.set("sort_by", ""); model.set("sort_descending", false); }
            else model.set("sort_descending", true);
          } else { model.set("sort_by", col.key); model.set("sort_descending", false); }
          model.save_changes();
        });
        tr.append(th);
      }
      thead.replaceChildren(tr);
    }

    function drawGutter(rows, graphOrder) {
      gutter.replaceChildren();
      if (!graphOrder || rows.length === 0) { gutter.setAttribute("width", "0"); gutter.style.display = "none"; return; }
      gutter.style.display = "";
      const { edges, nLanes } = sumLanes(rows);
      const w = 14 + nLanes * SUM_LANE_W;
      gutter.setAttribute("width", String(w));
      gutter.setAttribute("height", String(rows.length * SUM_ROW_H));
      const y = (i) => i * SUM_ROW_H + SUM_ROW_H / 2;
      const x0 = 8;
      for (const e of edges) {
        let d;
        if (e.lane === 0) d = `M${x0},${y(e.src)} L${x0},${y(e.dst)}`;
        else {
          const xl = x0 + e.lane * SUM_LANE_W;
          d = `M${x0},${y(e.src)} Q${xl},${y(e.src)} ${xl},${y(e.src) + 8} L${xl},${y(e.dst) - 8} Q${xl},${y(e.dst)} ${x0},${y(e.dst)}`;
        }
        const path = nbSvg("path", { d, class: "nbd-edge" });
        path.dataset.src = rows[e.src].name;
        path.dataset.dst = rows[e.dst].name;
        gutter.append(path);
      }
      rows.forEach((r, i) => {
        const colour = SUM_CATEGORY_COLOURS[r.category] || SUM_CATEGORY_COLOURS.other;
        const shape = r.category === "merge"
          ? nbSvg("rect", { x: x0 - 4, y: y(i) - 4, width: 8, height: 8, fill: colour, transform: `rotate(45 ${x0} ${y(i)})` })
          : nbSvg("circle", { cx: x0, cy: y(i), r: 4, fill: colour });
        gutter.append(shape);
      });
    }

    function highlight(name, on) {
      const rows = model.get("rows") || [];
      const row = rows.find((r) => r.name === name);
      if (!row) return;
      for (const src of row.inbound) rowEls.get(src)?.classList.toggle("nbd-in", on);
      for (const r of rows) if (r.inbound.includes(name)) rowEls.get(r.name)?.classList.toggle("nbd-out", on);
      for (const p of gutter.querySelectorAll(".nbd-edge")) {
        if (p.dataset.src === name || p.dataset.dst === name) p.classList.toggle("hi", on);
      }
    }

    function drawBody() {
      const { rows, graphOrder } = viewRows();
      const selected = model.get("selected");
      rowEls = new Map();
      const trs = rows.map((r) => {
        const tr = nbEl("tr", { "data-layer": r.name, class: r.name === selected ? "nbd-selected" : "" });
        const colour = SUM_CATEGORY_COLOURS[r.category] || SUM_CATEGORY_COLOURS.other;
        const nameCell = nbEl("td", {}, [nbEl("span", { class: "nbd-cat", style: { background: colour }, title: r.category }), r.name]);
        const kind = r.shared ? `${r.kind} (shared)` : r.kind;
        tr.append(
          nbEl("td", { class: "num", text: r.index }), nameCell, nbEl("td", { text: kind }),
          nbEl("td", { text: r.output_shape }), nbEl("td", { class: "num", text: nbInt(r.params) }),
          nbEl("td", { class: "nbd-inbound", text: r.inbound.join(", "), title: r.inbound.join(", ") }),
        );
        tr.addEventListener("mouseenter", () => highlight(r.name, true));
        tr.addEventListener("mouseleave", () => highlight(r.name, false));
        tr.addEventListener("click", () => nbSet(model, "selected", model.get("selected") === r.name ? "" : r.name));
        rowEls.set(r.name, tr);
        return tr;
      });
      tbody.replaceChildren(...trs);
      drawGutter(rows, graphOrder);
    }

    function drawAll() {
      title.textContent = model.get("title");
      sub.textContent = model.get("subtitle");
      const t = model.get("totals") || {};
      totals.textContent = `Trainable params: ${nbInt(t.params || 0)} · Non-trainable params: ${nbInt(t.params_non_trainable || 0)}`;
      drawHead();
      drawBody();
    }

    function showSelected() {
      const name = model.get("selected");
      for (const [n, tr] of rowEls) tr.classList.toggle("nbd-selected", n === name);
      const tr = rowEls.get(name);
      if (tr && typeof tr.scrollIntoView === "function") tr.scrollIntoView({ block: "nearest" });
    }

    filter.addEventListener("input", drawBody);
    drawAll();
    const offs = [
      nbOn(model, "rows", drawAll), nbOn(model, "sort_by", drawAll), nbOn(model, "sort_descending", drawAll),
      nbOn(model, "selected", showSelected), nbOn(model, "title", drawAll),
    ];
    return () => { for (const off of offs) off(); };
  },
};
