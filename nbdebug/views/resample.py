"""Resampling widgets: before/after on one projection, class counts, synthetic galleries, search.

:class:`ResampleWidget` shows a :class:`~nbdebug.analysis.resample.ResampleReport`; its controls
(sampler, ``k_neighbors``, sampling ratio, seed, projection) are synced traits, and a change
recomputes through :func:`nbdebug.resample`. :class:`ResampleSearchWidget` charts every trial of
:func:`nbdebug.resample_search`. ``resample_figure`` / ``search_figure`` draw the same with
matplotlib (no pyplot).
"""
from __future__ import annotations

import time

import anywidget
import numpy as np
import traitlets

from ..analysis.resample import CLEANING_SAMPLERS, SAMPLERS, ResampleReport, _encode, resample
from ._base import array_trait, load_css, load_esm

#: synthetic samples shown in the image / audio gallery
GALLERY_SIZE = 12


# ---------------------------------------------------------------------------------------------
# projection and media helpers
# ---------------------------------------------------------------------------------------------
class Projection:
    """A 2-D projection fitted on the original data and applied to any later points.

    ``"pca"`` (default; the raw axes when the data are already 2-D) or ``"umap"``.
    """

    def __init__(self, X, method: str = "pca", seed: int = 0):
        flat = np.asarray(X, dtype=np.float64).reshape(X.shape[0], -1)
        self.method = method
        self.dims = flat.shape[1]
        if method == "umap":
            import sys

            sys.modules.setdefault("umap.parametric_umap", None)
            import umap

            self._model = umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit(flat)
            self.xy = self._model.embedding_.astype(np.float32)
            self.axes = ("UMAP 1", "UMAP 2")
        elif method == "pca":
            if self.dims <= 2:
                self._model = None
                self.axes = ("x0", "x1") if self.dims == 2 else ("x0", "")
            else:
                from sklearn.decomposition import PCA

                self._model = PCA(n_components=2, random_state=seed).fit(flat)
                ev = self._model.explained_variance_ratio_
                self.axes = (f"PC1 ({100 * ev[0]:.0f} %)", f"PC2 ({100 * ev[1]:.0f} %)")
            self.xy = self.transform(flat)
        else:
            raise ValueError(f"projection: expected 'pca' or 'umap'; got {method!r}")

    def transform(self, X) -> np.ndarray:
        if np.shape(X)[0] == 0:
            return np.zeros((0, 2), np.float32)
        flat = np.asarray(X, dtype=np.float64).reshape(np.shape(X)[0], -1)
        if self._model is None:
            out = flat if self.dims == 2 else np.column_stack([flat[:, 0], np.zeros(flat.shape[0])])
        else:
            out = self._model.transform(flat)
        return np.asarray(out, dtype=np.float32)


def _image_layout(shape):
    """(H, W, C) view of one sample's shape, or None when the samples are not images."""
    if len(shape) == 2 and min(shape) >= 4:
        return "hw"
    if len(shape) == 3:
        if shape[0] in (1, 3) and shape[2] not in (1, 3):
            return "chw"
        if shape[2] in (1, 3):
            return "hwc"
    return None


def _to_hwc(batch, layout):
    if layout == "hw":
        return batch[..., None]
    if layout == "chw":
        return np.moveaxis(batch, -3, -1)
    return batch


def _gallery_rows(report: ResampleReport, k: int = GALLERY_SIZE) -> np.ndarray:
    """Positions (in ``report.synthetic_index``) of up to ``k`` synthetic rows, spread over classes."""
    m = report.n_synthetic
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    labels = np.asarray(report.y)[report.synthetic_index].astype(object)
    # only rows with two known parents can be shown between them
    labels[(report.synthetic_parents < 0).any(axis=1)] = None
    groups = [np.flatnonzero(labels == c) for c in dict.fromkeys(labels.tolist()) if c is not None]
    if not groups:
        return np.zeros(0, dtype=np.int64)
    sizes = np.array([g.size for g in groups], dtype=float)
    # slots in proportion to how many synthetic rows each class got (rare classes get most)
    quota = np.floor(k * sizes / sizes.sum()).astype(int)
    for i in np.argsort(-sizes)[: max(0, min(k, m) - quota.sum())]:
        quota[i] += 1
    picked = []
    for g, q in zip(groups, quota):
        q = min(q, g.size)
        picked.extend(g[np.linspace(0, g.size - 1, q).round().astype(int)] if q else [])
    return np.asarray(sorted(set(picked))[:k], dtype=np.int64)


def plot_state(report: ResampleReport, proj: Projection) -> dict:
    """The arrays both the widget and the static figure draw, on one projection.

    The *pool* (original rows, then every generated row) is projected once; the after panel is
    the pool indexed by ``report.source``; rows that were removed (original or synthetic) become
    "ghosts" drawn as crosses; Tomek links join pool points.
    """
    n = report.n_before
    y_before = _encode(report.y_before, n, classes=report.classes)[0].astype(np.int32)
    y_after = _encode(report.y, report.n_after, classes=report.classes)[0].astype(np.int32)
    gen_xy = proj.transform(report.generated)
    pool_xy = np.concatenate([proj.xy, gen_xy]) if gen_xy.size else proj.xy
    pool_y = np.concatenate([y_before, np.full(gen_xy.shape[0], -1, np.int32)])
    if report.n_synthetic:
        pool_y[report.source[report.synthetic_index]] = y_after[report.synthetic_index]
    removed_gen = report.removed_synthetic
    if removed_gen.size:
        # a synthetic row has its base parent's class
        pool_y[n + removed_gen] = y_before[report.generated_parents[removed_gen, 0]]
    ghosts = np.concatenate([report.removed, n + removed_gen]).astype(np.int64)
    removed_mask = np.zeros(n, np.uint8)
    removed_mask[report.removed] = 1
    synthetic = np.zeros(report.n_after, np.uint8)
    synthetic[report.synthetic_index] = 1
    pairs = report.tomek_pairs
    return {
        "before_xy": proj.xy,
        "before_label": y_before,
        "before_removed": removed_mask,
        "after_xy": pool_xy[report.source],
        "after_label": y_after,
        "after_synthetic": synthetic,
        "ghost_xy": pool_xy[ghosts] if ghosts.size else np.zeros((0, 2), np.float32),
        "ghost_label": pool_y[ghosts],
        "tomek_xy": pool_xy[pairs].reshape(-1, 2, 2) if pairs.size else np.zeros((0, 2, 2), np.float32),
    }


# ---------------------------------------------------------------------------------------------
# the before/after widget
# ---------------------------------------------------------------------------------------------
class ResampleWidget(anywidget.AnyWidget):
    """Before / after of a resampling on one 2-D projection, with controls that recompute.

    Synced controls: ``sampler``, ``k_neighbors``, ``sampling_ratio`` (0 means imblearn's
    ``"auto"``: balance fully), ``seed``, ``projection`` ("pca" or "umap"). The browser bumps
    ``request_id`` (debounced) when a control changes; Python recomputes through
    :func:`nbdebug.resample` and answers with ``response_id``; the browser ignores answers to
    older requests. After each redraw the browser reports ``render_count`` and
    ``last_update_ms`` (control change to redrawn panels), which browser tests read.
    """

    _esm = load_esm("resample.js")
    _css = load_css("resample.css")

    title = traitlets.Unicode("").tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    axes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    summary = traitlets.Dict().tag(sync=True)
    warnings = traitlets.List(traitlets.Unicode()).tag(sync=True)

    before_xy = array_trait()
    before_label = array_trait()
    before_removed = array_trait()
    after_xy = array_trait()
    after_label = array_trait()
    after_synthetic = array_trait()
    syn_rows = array_trait()
    syn_parents = array_trait()
    syn_weights = array_trait()
    ghost_xy = array_trait()
    ghost_label = array_trait()
    tomek_xy = array_trait()
    counts_before = traitlets.List(traitlets.Int()).tag(sync=True)
    counts_after = traitlets.List(traitlets.Int()).tag(sync=True)

    gallery_kind = traitlets.Unicode("").tag(sync=True)  # "", "image" or "audio"
    gallery = array_trait()
    gallery_info = traitlets.List(traitlets.Dict()).tag(sync=True)
    sample_rate = traitlets.Int(0).tag(sync=True)

    sampler_options = traitlets.List(traitlets.Unicode(), list(SAMPLERS)).tag(sync=True)
    cleaning_samplers = traitlets.List(traitlets.Unicode(), list(CLEANING_SAMPLERS)).tag(sync=True)
    sampler = traitlets.Unicode("smote").tag(sync=True)
    k_neighbors = traitlets.Int(5).tag(sync=True)
    sampling_ratio = traitlets.Float(0.0).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    projection = traitlets.Unicode("pca").tag(sync=True)
    controls_enabled = traitlets.Bool(True).tag(sync=True)

    request_id = traitlets.Int(0).tag(sync=True)
    response_id = traitlets.Int(0).tag(sync=True)
    compute_ms = traitlets.Float(0.0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    render_count = traitlets.Int(0).tag(sync=True)
    last_update_ms = traitlets.Float(-1.0).tag(sync=True)

    def __init__(self, report: ResampleReport, *, projection: str = "pca", sample_rate: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self._report = report
        self._projection = None
        k = report.sampler.get_params(deep=False)
        k_value = k.get("k_neighbors", k.get("n_neighbors"))
        if k_value is None and "smote" in k and k["smote"] is not None:
            k_value = k["smote"].get_params(deep=False).get("k_neighbors")
        strategy = report.params.get("sampling_strategy")
        with self.hold_sync():
            self.controls_enabled = report.sampler_name in SAMPLERS
            if self.controls_enabled:
                self.sampler = report.sampler_name
            else:
                self.sampler_options = list(SAMPLERS) + [report.sampler_name]
                self.sampler = report.sampler_name
            self.k_neighbors = int(k_value) if isinstance(k_value, (int, np.integer)) else 5
            self.sampling_ratio = float(strategy) if isinstance(strategy, (int, float)) else 0.0
            self.seed = int(report.seed) if isinstance(report.seed, (int, np.integer)) else 0
            self.projection = projection
            self.sample_rate = int(sample_rate or 0)
            self.classes = [str(c) for c in report.classes]
            self._set_report(report)
        self.observe(self._on_request, names="request_id")

    # -- state from a report ----------------------------------------------------------------
    def _project(self, report):
        if self._projection is None or self._projection.method != self.projection:
            self._projection = Projection(report.X_before, self.projection, seed=0)
        return self._projection

    def _set_report(self, report: ResampleReport):
        self._report = report
        proj = self._project(report)
        state = plot_state(report, proj)
        self.axes = list(proj.axes)
        self.title = f"Resampling with {report.sampler_name}"
        self.before_xy = state["before_xy"]
        self.before_label = state["before_label"]
        self.before_removed = state["before_removed"]
        self.after_xy = state["after_xy"]
        self.after_label = state["after_label"]
        self.after_synthetic = state["after_synthetic"]
        self.syn_rows = report.synthetic_index.astype(np.int32)
        self.syn_parents = report.synthetic_parents.astype(np.int32)
        self.syn_weights = report.synthetic_weights.astype(np.float32)
        self.ghost_xy = state["ghost_xy"]
        self.ghost_label = state["ghost_label"]
        self.tomek_xy = state["tomek_xy"]
        n, removed_gen, pairs = report.n_before, report.removed_synthetic, report.tomek_pairs
        self.counts_before = [int(c) for c in report.counts_before]
        self.counts_after = [int(c) for c in report.counts_after]
        self.warnings = list(report.warnings)
        self.summary = {
            "n_before": n,
            "n_after": report.n_after,
            "n_synthetic": report.n_synthetic,
            "n_removed": int(report.removed.size),
            "n_removed_synthetic": int(removed_gen.size),
            "n_tomek_pairs": int(pairs.shape[0]),
            "imbalance_before": report.imbalance_ratio_before,
            "imbalance_after": report.imbalance_ratio_after,
            "rare_before": [str(c) for c in report.rare_classes_before],
            "rare_after": [str(c) for c in report.rare_classes_after],
            "bits_before": int(report.expected_bits_before),
            "bits_after": int(report.expected_bits_after),
            "sampler": report.sampler_name,
            "parents_max_error": report.parents_max_error,
        }
        self._set_gallery(report)

    def _set_gallery(self, report):
        rows = _gallery_rows(report)
        shape = report.X_before.shape[1:]
        layout = _image_layout(shape)
        kind = "image" if layout else ("audio" if self.sample_rate and len(shape) == 1 else "")
        if not kind or rows.size == 0:
            self.gallery_kind, self.gallery, self.gallery_info = kind, None, []
            return
        parents = report.synthetic_parents[rows]
        synth = np.asarray(report.X)[report.synthetic_index[rows]]
        triplets = np.stack([report.X_before[parents[:, 0]], synth, report.X_before[parents[:, 1]]], axis=1)
        if kind == "image":
            lo, hi = float(np.min(report.X_before)), float(np.max(report.X_before))
            scaled = (np.asarray(triplets, dtype=np.float64) - lo) / ((hi - lo) or 1.0)
            self.gallery = np.clip(np.round(_to_hwc(scaled, layout) * 255), 0, 255).astype(np.uint8)
        else:
            self.gallery = np.asarray(triplets, dtype=np.float32)
        self.gallery_info = [
            {"row": int(report.synthetic_index[r]), "parent": int(p[0]), "neighbour": int(p[1]),
             "weight": float(report.synthetic_weights[r]), "label": str(np.asarray(report.y)[report.synthetic_index[r]])}
            for r, p in zip(rows, parents)
        ]
        self.gallery_kind = kind

    # -- recompute on request ---------------------------------------------------------------
    def _params(self):
        params = {}
        if self.sampler not in CLEANING_SAMPLERS and self.sampling_ratio > 0:
            params["sampling_strategy"] = float(self.sampling_ratio)
        if self.sampler not in ("tomek", "random_under", "random_over"):
            params["k_neighbors"] = int(self.k_neighbors)
        return params

    def _on_request(self, change):
        request = int(change["new"])
        if not self.controls_enabled:
            self.response_id = request
            return
        t0 = time.perf_counter()
        old = self._report
        try:
            report = resample(old.X_before, old.y_before, self.sampler, seed=int(self.seed), **self._params())
        except (ValueError, TypeError, RuntimeError) as exc:
            with self.hold_sync():
                self.error = str(exc)
                self.response_id = request
            return
        with self.hold_sync():
            self.error = ""
            self._set_report(report)
            self.compute_ms = (time.perf_counter() - t0) * 1000
            self.response_id = request

    @property
    def report(self) -> ResampleReport:
        """The report currently shown (changes when a control recomputes)."""
        return self._report


# ---------------------------------------------------------------------------------------------
# the search widget
# ---------------------------------------------------------------------------------------------
class ResampleSearchWidget(anywidget.AnyWidget):
    """Expected complexity of every trial per sampler; the chosen trial highlighted.

    Synced state: ``metric`` ("expected_bits" or "changes"), ``selected`` ([sampler index,
    trial] of a clicked dot, or []).
    """

    _esm = load_esm("resample.js")
    _css = load_css("resample.css")

    view = traitlets.Unicode("search").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    samplers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    changes = array_trait()
    expected_bits = array_trait()
    best = traitlets.List(traitlets.Int()).tag(sync=True)
    before = traitlets.Dict().tag(sync=True)
    warnings = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric = traitlets.Unicode("changes").tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(self, report, **kwargs):
        super().__init__(**kwargs)
        self.title = (f"Complexity-minimising resampling: {report.trials} trial(s) × "
                      f"{len(report.samplers)} sampler(s)")
        self.samplers = list(report.samplers)
        self.changes = np.asarray(report.changes, dtype=np.float32)
        self.expected_bits = np.asarray(report.expected_bits, dtype=np.float32)
        self.best = [report.samplers.index(report.best_sampler), int(report.best_trial)]
        self.before = {"changes": int(report.changes_before), "expected_bits": int(report.expected_bits_before)}
        self.warnings = list(report.warnings)


# ---------------------------------------------------------------------------------------------
# matplotlib figures (no pyplot)
# ---------------------------------------------------------------------------------------------
_TAB10 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def _colour(i):
    import colorsys

    if i < len(_TAB10):
        return _TAB10[i]
    r, g, b = colorsys.hls_to_rgb(((i * 137.508) % 360) / 360, 0.5, 0.6)
    return (r, g, b)


def resample_figure(report: ResampleReport, *, projection: str = "pca", width: float = 13.0,
                    height: float = 4.2, point_size: float = 10.0, links: bool = True):
    """Before | after scatter on one projection fitted on the original data, and count bars."""
    from matplotlib.figure import Figure

    proj = Projection(report.X_before, projection)
    s = plot_state(report, proj)
    s["axes"] = proj.axes
    # fixed margins: constrained layout measures every label several times, which is slow
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.91, wspace=0.22)
    ax_b, ax_a, ax_c = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.7]})
    k = len(report.classes)
    for ax, title in ((ax_b, f"before: {report.n_before} rows"),
                      (ax_a, f"after {report.sampler_name}: {report.n_after} rows")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(s["axes"][0])
        ax.set_ylabel(s["axes"][1])
    for c in range(k):
        m = s["before_label"] == c
        ax_b.scatter(*s["before_xy"][m].T, s=point_size, color=_colour(c), label=str(report.classes[c]), lw=0)
        real = (s["after_label"] == c) & (s["after_synthetic"] == 0)
        syn = (s["after_label"] == c) & (s["after_synthetic"] == 1)
        ax_a.scatter(*s["after_xy"][real].T, s=point_size, color=_colour(c), lw=0)
        ax_a.scatter(*s["after_xy"][syn].T, s=point_size * 1.6, facecolor="none", edgecolor=_colour(c),
                     marker="D", lw=0.8)
    if report.removed.size:
        ax_b.scatter(*s["before_xy"][report.removed].T, s=point_size * 3, color="k", marker="x", lw=0.8,
                     label="removed")
    if s["ghost_xy"].size:
        ax_a.scatter(*s["ghost_xy"].T, s=point_size * 3, color="0.5", marker="x", lw=0.6)
    if links and s["tomek_xy"].size:
        from matplotlib.collections import LineCollection

        ax_a.add_collection(LineCollection(s["tomek_xy"], colors="k", linewidths=0.9, label="Tomek link"))
    ax_b.legend(fontsize=8, markerscale=1.5, loc="best")
    x = np.arange(k)
    ax_c.bar(x - 0.2, report.counts_before, 0.4, color=[_colour(c) for c in range(k)], alpha=0.45, label="before")
    ax_c.bar(x + 0.2, report.counts_after, 0.4, color=[_colour(c) for c in range(k)], label="after")
    ax_c.set_xticks(x, [str(c) for c in report.classes], rotation=45 if k > 5 else 0)
    ax_c.set_title(f"class counts (imbalance {report.imbalance_ratio_before:.3g} → "
                   f"{report.imbalance_ratio_after:.3g})", fontsize=10)
    ax_c.legend(fontsize=8)
    # shared limits so the panels compare point for point
    allxy = np.concatenate([s["before_xy"], s["after_xy"], s["ghost_xy"].reshape(-1, 2)])
    lo, hi = allxy.min(0), allxy.max(0)
    pad = (hi - lo) * 0.04 + 1e-9
    for ax in (ax_b, ax_a):
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    return fig


def search_figure(report, *, metric: str = "changes", width: float = 7.0, height: float = 4.0):
    """Strip chart: one dot per trial per sampler, the chosen trial ringed, the data before dashed."""
    from matplotlib.figure import Figure

    values = np.asarray(report.changes if metric == "changes" else report.expected_bits, dtype=float)
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.2, top=0.9)
    ax = fig.subplots()
    S, T = values.shape
    jitter = (np.arange(T) - (T - 1) / 2) * (0.5 / max(T, 1))
    for s in range(S):
        ax.scatter(s + jitter, values[s], color=_colour(s), s=28, zorder=3)
    bs = report.samplers.index(report.best_sampler)
    ax.scatter([bs + jitter[report.best_trial]], [values[bs, report.best_trial]], s=170, facecolor="none",
               edgecolor="k", lw=1.6, zorder=4, label=f"chosen: {report.best_sampler}, trial {report.best_trial}")
    before = report.changes_before if metric == "changes" else report.expected_bits_before
    ax.axhline(before, color="0.4", ls="--", lw=1, label="before resampling")
    ax.set_xticks(range(S), report.samplers, rotation=20)
    ax.set_ylabel("label changes t" if metric == "changes" else "expected complexity (bits)")
    ax.set_title("Expected complexity per trial", fontsize=10)
    ax.legend(fontsize=8)
    return fig
