"""The class-overlap viewer: embedding scatter, S heatmap, eigenvalue spectrum, gallery, controls.

Everything heavy crosses to the browser as binary buffers (float32 coordinates, int32 labels,
uint8 thumbnails, WAV bytes). Clicking a heatmap cell sets ``selected_pair``; Python answers
with the gallery of the samples of those two classes that overlap most. The class checkboxes and
the k / M inputs recompute through :func:`nbdebug.csg` with the cached embedding.
"""
from __future__ import annotations

import io
import wave

import anywidget
import numpy as np
import traitlets

from ._base import array_trait, load_css, load_esm, spectrogram_images

#: gallery size per selected pair
GALLERY_SIZE = 16
#: columns shown for tabular samples
TABLE_COLUMNS = 12


def _modality(report) -> str:
    data = report.data
    if data is None:
        return "tabular"
    if report.sample_rate is not None:
        return "audio"
    if data.ndim == 3 or (data.ndim == 4 and (data.shape[1] in (1, 3, 4) or data.shape[-1] in (1, 3, 4))):
        return "image"
    return "tabular"


def _as_images(batch: np.ndarray) -> np.ndarray:
    """(m, H, W, C) uint8 from (m, H, W), (m, C, H, W) or (m, H, W, C), scaled per batch."""
    x = np.asarray(batch, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., None]
    elif x.shape[1] in (1, 3, 4) and x.shape[-1] not in (1, 3, 4):
        x = np.moveaxis(x, 1, -1)
    if x.shape[-1] == 4:
        x = x[..., :3]
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0 and hi <= 1:
        lo, hi = 0.0, 1.0
    elif lo >= 0 and hi <= 255:
        lo, hi = 0.0, 255.0
    scaled = (x - lo) / ((hi - lo) or 1.0)
    return np.ascontiguousarray(np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8))


def wav_bytes(clip: np.ndarray, sample_rate: int) -> bytes:
    """16-bit mono PCM WAV of one clip (peak-normalised when it exceeds [-1, 1])."""
    x = np.asarray(clip, dtype=np.float64).reshape(-1)
    peak = np.abs(x).max() if x.size else 0.0
    if peak > 1:
        x = x / peak
    pcm = np.round(x * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class CSGWidget(anywidget.AnyWidget):
    """Interactive view of a :class:`~nbdebug.analysis.csg.CSGReport`.

    Synced state a user (or a test) can drive: ``selected_pair`` (two class codes of the full
    class list, or ``[]``), ``included`` (one bool per class), ``k``, ``M`` (0 = all) and
    ``request`` (incremented by the Recompute button). ``busy``, ``progress`` and ``status``
    report a running recomputation; the kernel's stop button interrupts it and the previous
    result stays.
    """

    _esm = load_esm("csg.js")
    _css = load_css("csg.css")

    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    score = traitlets.Float(0.0).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    class_counts = traitlets.List(traitlets.Int()).tag(sync=True)
    included = traitlets.List(traitlets.Bool()).tag(sync=True)
    active = array_trait()  # class codes (full list) of the rows of `similarity`
    coords = array_trait()
    labels = array_trait()
    similarity = array_trait()
    order = array_trait()
    eigenvalues = array_trait()
    gaps = array_trait()
    cumulative_max = array_trait()
    spectral_order = traitlets.Bool(False).tag(sync=True)
    selected_pair = traitlets.List(traitlets.Int(), default_value=[]).tag(sync=True)
    k = traitlets.Int(3).tag(sync=True)
    M = traitlets.Int(0).tag(sync=True)
    request = traitlets.Int(0).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    modality = traitlets.Unicode("tabular").tag(sync=True)
    gallery_index = array_trait()
    gallery_labels = array_trait()
    gallery_images = array_trait()
    gallery_audio = array_trait()
    gallery_audio_offsets = array_trait()
    gallery_spectrograms = array_trait()
    gallery_rows = array_trait()
    gallery_columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    gallery_pair = traitlets.List(traitlets.Int(), default_value=[]).tag(sync=True)

    def __init__(self, report, **kwargs):
        self.base = report
        self.report = report
        K = report.n_classes
        super().__init__(
            classes=[str(c) for c in report.classes],
            class_counts=[int(c) for c in report.class_counts],
            included=[True] * K,
            coords=report.coords,
            labels=report.y.astype(np.int32),
            spectral_order=K > 20,
            k=report.k,
            M=0 if report.M is None else int(report.M),
            modality=_modality(report),
            **kwargs,
        )
        self._show(report, np.arange(K))
        self.observe(self._on_pair, names="selected_pair")
        self.observe(self._on_request, names="request")

    # -- state from a report ------------------------------------------------------------------
    def _show(self, report, active):
        self.report = report
        self._active = np.asarray(active, dtype=np.int64)
        M = "all" if report.M is None else report.M
        self.title = f"Class overlap · CSG = {report.score:.4g}"
        self.subtitle = (
            f"{len(active)} of {self.base.n_classes} classes · {report.n_samples:,} samples · "
            f"embedding {self.base.embedding} ({report.n_features} dims) · k = {report.k} · M = {M}"
        )
        self.score = float(report.score) if np.isfinite(report.score) else float("nan")
        self.active = self._active.astype(np.int32)
        self.similarity = report.similarity
        self.order = report.class_order.astype(np.int32)
        self.eigenvalues = report.eigenvalues
        self.gaps = report.gaps
        self.cumulative_max = report.cumulative_max
        if self.selected_pair and not set(self.selected_pair) <= set(self._active.tolist()):
            self.selected_pair = []
        else:
            self._gallery()

    @traitlets.validate("selected_pair")
    def _check_pair(self, proposal):
        pair = list(proposal["value"])
        if pair and (len(pair) != 2 or not all(0 <= p < len(self.classes) for p in pair)):
            raise traitlets.TraitError(f"selected_pair: expected two class codes in 0..{len(self.classes) - 1}")
        return pair

    def _on_pair(self, change):
        self._gallery()

    def _gallery(self):
        empty = {
            "gallery_index": None, "gallery_labels": None, "gallery_images": None,
            "gallery_audio": None, "gallery_audio_offsets": None, "gallery_spectrograms": None, "gallery_rows": None,
            "gallery_pair": [],
        }
        pair = self.selected_pair
        pos = {int(c): i for i, c in enumerate(self._active)}
        if len(pair) != 2 or pair[0] not in pos or pair[1] not in pos:
            with self.hold_sync():
                for name, value in empty.items():
                    setattr(self, name, value)
            return
        local = self.report.overlap_samples(pos[pair[0]], pos[pair[1]], n=GALLERY_SIZE)
        # recomputed reports index a subset of the samples: map back to the full data
        mapping = self.__dict__.get("_subset_index")
        idx = local if mapping is None else mapping[local]
        data = self.base.data
        values = dict(empty)
        values["gallery_pair"] = [int(pair[0]), int(pair[1])]
        values["gallery_index"] = idx.astype(np.int32)
        values["gallery_labels"] = self.base.y[idx].astype(np.int32)
        if data is not None and idx.size:
            if self.modality == "image":
                values["gallery_images"] = _as_images(data[idx])
            elif self.modality == "audio":
                clips = [wav_bytes(data[i], self.base.sample_rate) for i in idx]
                offsets = np.cumsum([0] + [len(c) for c in clips]).astype(np.int32)
                values["gallery_audio"] = np.frombuffer(b"".join(clips), dtype=np.uint8)
                values["gallery_audio_offsets"] = offsets
                # show the sounds too: spectrograms on one dB scale, so the clips compare
                waves = np.asarray(data[idx], dtype=np.float64).reshape(idx.size, -1)
                values["gallery_spectrograms"] = spectrogram_images(waves, sample_rate=self.base.sample_rate)[0][0]
            else:
                flat = np.asarray(data[idx], dtype=np.float64).reshape(idx.size, -1)
                values["gallery_rows"] = flat[:, :TABLE_COLUMNS]
                self.gallery_columns = [f"x{j}" for j in range(min(flat.shape[1], TABLE_COLUMNS))]
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    # -- recomputation ------------------------------------------------------------------------
    def _on_request(self, change):
        self.recompute()

    def recompute(self):
        """Recompute CSG for the included classes with the current ``k`` and ``M``.

        The embedding is reused (no re-embedding); an interrupt (the kernel's stop button)
        leaves the previous result on screen.
        """
        from ..analysis.csg import csg

        base = self.base
        active = np.flatnonzero(np.asarray(self.included, dtype=bool))
        if active.size < 2:
            self.status = "Select at least two classes."
            return
        mask = np.isin(base.y, active)
        subset = np.flatnonzero(mask)
        labels = np.empty(len(base.classes), dtype=object)
        labels[:] = base.classes
        self.busy, self.progress, self.status = True, 0.0, "Computing…"
        try:
            def tick(done, total):
                self.progress = done / max(total, 1)

            report = csg(
                base.data[subset] if base.data is not None else base.features[subset],
                labels[base.y[subset]],
                k=int(self.k),
                M=None if int(self.M) <= 0 else int(self.M),
                embedding=base.features[subset],
                display=base.coords[subset],
                seed=base.seed,
                classes=[base.classes[i] for i in active],
                sample_rate=base.sample_rate,
                progress=tick,
            )
            self.__dict__["_subset_index"] = subset
            self._show(report, active)
            self.status = ""
        except (ValueError, TypeError) as exc:
            self.status = f"Not recomputed: {exc}"
        finally:
            self.busy = False
            self.progress = 0.0


# --------------------------------------------------------------------------------------------
# static figure
# --------------------------------------------------------------------------------------------
def _colours(K):
    from matplotlib import colormaps

    if K <= 10:
        return [colormaps["tab10"](i) for i in range(K)]
    return [colormaps["hsv"]((i * 0.618034) % 1.0) for i in range(K)]


def csg_figure(report, *, figsize=(13, 4.2), max_points=50_000, cmap="viridis", **style):
    """Scatter + S heatmap + eigenvalue spectrum, without pyplot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained", **style)
    ax_sc, ax_hm, ax_sp = fig.subplots(1, 3, width_ratios=[1.1, 1, 1.1])
    K = report.n_classes
    names = [str(c) for c in report.classes]
    colours = _colours(K)
    coords, y = report.coords, report.y
    if coords.shape[0] > max_points:  # an even thinning keeps the picture and the file small
        keep = np.linspace(0, coords.shape[0] - 1, max_points).astype(int)
        coords, y = coords[keep], y[keep]
    size = max(0.5, min(12.0, 4000.0 / max(coords.shape[0], 1)))
    for c in range(K):
        pts = coords[y == c]
        ax_sc.scatter(pts[:, 0], pts[:, 1], s=size, color=colours[c], label=names[c], linewidths=0)
    if K <= 12:
        ax_sc.legend(fontsize=7, markerscale=max(1.0, 6 / size), loc="best", frameon=False)
    ax_sc.set_title(f"{report.embedding} embedding (2-D view)", fontsize=10)
    ax_sc.set_xticks([])
    ax_sc.set_yticks([])

    order = report.class_order if K > 20 else np.arange(K)
    S = report.similarity[np.ix_(order, order)]
    im = ax_hm.imshow(S, cmap=cmap, vmin=0, vmax=max(float(S.max()), 1e-12), interpolation="nearest")
    ax_hm.set_title("class overlap S" + (" (spectral order)" if K > 20 else ""), fontsize=10)
    step = max(1, K // 20)
    ticks = np.arange(0, K, step)
    ax_hm.set_xticks(ticks, [names[order[t]] for t in ticks], rotation=90, fontsize=7)
    ax_hm.set_yticks(ticks, [names[order[t]] for t in ticks], fontsize=7)
    ax_hm.set_xlabel("neighbour class")
    ax_hm.set_ylabel("class")
    fig.colorbar(im, ax=ax_hm, shrink=0.8)

    i = np.arange(K - 1)
    ax_sp.bar(i + 0.5, report.gaps, width=0.6, color="#9ecae1", label="gap Δᵢ = (λᵢ₊₁ − λᵢ)/(K − i)")
    ax_sp.step(i + 0.5, report.cumulative_max, where="mid", color="#e15759", label="cumulative max")
    ax_sp.set_xlabel("i")
    ax_sp.set_ylabel("gap")
    ax2 = ax_sp.twinx()
    ax2.plot(np.arange(K), report.eigenvalues, "o", ms=3, color="#333", label="eigenvalue λᵢ")
    ax2.set_ylabel("eigenvalue of L")
    handles = ax_sp.get_legend_handles_labels()
    h2 = ax2.get_legend_handles_labels()
    ax_sp.legend(handles[0] + h2[0], handles[1] + h2[1], fontsize=7, loc="upper left", frameon=False)
    ax_sp.set_title(f"spectrum · CSG = Σ cummax = {report.score:.4g}", fontsize=10)
    return fig
