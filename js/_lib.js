// nbdebug front-end helpers, shared by every view.
//
// Each view's ES module is this file followed by the view's own file (see
// nbdebug/views/_base.py: load_esm). Nothing here is exported; views call these functions
// directly. Plain modern JavaScript, no framework, no network. Text that comes from the user's
// data is always set through textContent, never innerHTML.

const NB_SVG = "http://www.w3.org/2000/svg";

/** @type {Record<string, any>} */
const NB_DTYPES = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
};

/**
 * Decode an array sent by Python as {dtype, shape, buffer} (buffer: DataView or ArrayBuffer).
 * @param {{dtype: string, shape: number[], buffer: DataView|ArrayBuffer}|null} obj
 * @returns {{data: any, shape: number[]}|null}
 */
function nbArray(obj) {
  if (!obj || !obj.buffer) return null;
  const Ctor = NB_DTYPES[obj.dtype];
  if (!Ctor) throw new Error(`nbdebug: unsupported dtype ${obj.dtype}`);
  const buf = obj.buffer;
  const ab = buf instanceof ArrayBuffer ? buf : buf.buffer;
  const offset = buf instanceof ArrayBuffer ? 0 : buf.byteOffset;
  const length = (buf.byteLength) / Ctor.BYTES_PER_ELEMENT;
  // copy when the offset is not aligned for the element type
  let data;
  if (offset % Ctor.BYTES_PER_ELEMENT === 0) data = new Ctor(ab, offset, length);
  else data = new Ctor(ab.slice(offset, offset + buf.byteLength));
  return { data, shape: obj.shape };
}

/**
 * Create an HTML element. `text` is set through textContent (safe for user strings).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {(Node|string)[]} [children]
 */
function nbEl(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k === "class") el.className = v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * Create an SVG element with attributes; `text` sets textContent.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 */
function nbSvg(tag, attrs = {}) {
  const el = document.createElementNS(NB_SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  return el;
}

/** A linear scale from domain [d0, d1] to range [r0, r1]. */
function nbScaleLinear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.invert = (p) => d0 + ((p - r0) / (r1 - r0)) * span;
  f.ticks = (n = 5) => nbNiceTicks(d0, d1, n);
  f.domain = [d0, d1];
  return f;
}

/** A log10 scale; values <= 0 map to the range start. */
function nbScaleLog(d0, d1, r0, r1) {
  const l0 = Math.log10(Math.max(d0, 1e-300));
  const l1 = Math.log10(Math.max(d1, d0 * 10, 1e-300));
  const span = l1 - l0 || 1;
  const f = (v) => (v <= 0 ? r0 : r0 + ((Math.log10(v) - l0) / span) * (r1 - r0));
  f.invert = (p) => Math.pow(10, l0 + ((p - r0) / (r1 - r0)) * span);
  f.ticks = (n = 6) => {
    // whole decades; every k-th one when the range spans many, so labels never crowd
    const lo = Math.ceil(l0 - 1e-9), hi = Math.floor(l1 + 1e-9);
    const k = Math.max(1, Math.ceil((hi - lo + 1) / Math.max(n, 1)));
    const out = [];
    for (let e = hi; e >= lo; e -= k) out.unshift(Number(`1e${e}`));
    return out;
  };
  f.domain = [d0, d1];
  return f;
}

/** Round tick values for [a, b]. */
function nbNiceTicks(a, b, n = 5) {
  if (!(isFinite(a) && isFinite(b)) || a === b) return [a];
  const lo = Math.min(a, b), hi = Math.max(a, b);
  const raw = (hi - lo) / Math.max(n, 1);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => raw <= s) || 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

/** Format a number compactly: 1234567 -> "1.23M", 0.000123 -> "1.23e-4". */
function nbFmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3)) return v.toExponential(digits - 1);
  if (a >= 1e9) return (v / 1e9).toPrecision(digits) + "G";
  if (a >= 1e6) return (v / 1e6).toPrecision(digits) + "M";
  if (a >= 1e4) return (v / 1e3).toPrecision(digits) + "k";
  if (Number.isInteger(v)) return String(v);
  return String(+v.toPrecision(digits));
}

/** Format an integer with thousands separators. */
function nbInt(v) {
  return Number(v).toLocaleString("en-US");
}

/** Category colours (Tableau 10, then evenly spaced hues). */
function nbPalette(k) {
  const base = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  if (k <= base.length) return base.slice(0, Math.max(k, 0));
  const out = base.slice();
  for (let i = base.length; i < k; i++) out.push(`hsl(${(i * 137.508) % 360}, 60%, 50%)`);
  return out;
}

/** Viridis-like sequential colour for t in [0, 1], as "rgb(r,g,b)". */
function nbSequential(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  return nbInterp(stops, t);
}

/** Diverging blue-white-red colour for t in [-1, 1]. */
function nbDiverging(t) {
  const stops = [[33, 102, 172], [247, 247, 247], [178, 24, 43]];
  return nbInterp(stops, (Math.max(-1, Math.min(1, t)) + 1) / 2);
}

function nbInterp(stops, t) {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const c = stops[i].map((v, j) => Math.round(v + f * (stops[i + 1][j] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** 256-entry RGB lookup table of a colour map (signed maps span [-1, 1], the others [0, 1]). */
function nbLut(fn, signed) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = signed ? (i - 127.5) / 127.5 : i / 255;
    lut.set(fn(t).match(/\d+/g).map(Number).slice(0, 3), i * 3);
  }
  return lut;
}

/** Spectrogram i of an (N, F, T) uint8 array as ImageData (T × F), low frequencies at the bottom. */
function nbSpecImage(spec, i) {
  const lut = nbSpecImage.lut || (nbSpecImage.lut = nbLut(nbSequential, false));
  const [, f, t] = spec.shape;
  const img = new ImageData(t, f);
  const off = i * f * t, dst = img.data;
  for (let r = 0; r < f; r++) {
    for (let c = 0; c < t; c++) {
      const p = ((f - 1 - r) * t + c) * 4, j = spec.data[off + r * t + c] * 3;
      dst[p] = lut[j]; dst[p + 1] = lut[j + 1]; dst[p + 2] = lut[j + 2]; dst[p + 3] = 255;
    }
  }
  return img;
}

/**
 * A tooltip inside `root` (which should be position: relative).
 * @param {HTMLElement} root
 */
function nbTooltip(root) {
  const tip = nbEl("div", { class: "nbd-tooltip", role: "tooltip" });
  tip.style.display = "none";
  root.append(tip);
  return {
    /** @param {number} x @param {number} y @param {string[]} lines */
    show(x, y, lines) {
      tip.replaceChildren(...lines.map((l, i) => nbEl("div", { text: l, class: i === 0 ? "nbd-tip-head" : "" })));
      tip.style.display = "block";
      const w = root.clientWidth || 600;
      tip.style.left = `${Math.min(x + 12, Math.max(0, w - tip.offsetWidth - 4))}px`;
      tip.style.top = `${y + 12}px`;
    },
    hide() { tip.style.display = "none"; },
    el: tip,
  };
}

/**
 * Subscribe to a model trait; returns the unsubscribe function (for render's cleanup).
 * @param {any} model @param {string} name @param {() => void} cb
 */
function nbOn(model, name, cb) {
  const ev = `change:${name}`;
  model.on(ev, cb);
  return () => model.off(ev, cb);
}

/** Set a trait from the browser and send it to Python. */
function nbSet(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/** Trigger a download of `text` as a file (used for SVG export from the browser). */
function nbDownload(filename, text, mime = "image/svg+xml") {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = nbEl("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Call fn at most once per `ms` while events keep coming, and once after they stop. */
function nbDebounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * A blob URL of 16-bit PCM mono WAV for a float waveform in [-1, 1] (for <audio> players).
 * The caller revokes it (URL.revokeObjectURL) when the player goes away.
 * @param {ArrayLike<number>} samples @param {number} rate
 */
function nbWavUrl(samples, rate) {
  const n = samples.length;
  const buf = new ArrayBuffer(44 + 2 * n);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + 2 * n, true); str(8, "WAVE"); str(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) v.setInt16(44 + 2 * i, Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), true);
  return URL.createObjectURL(new Blob([buf], { type: "audio/wav" }));
}
