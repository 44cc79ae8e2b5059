"""Views of capacity results: per-layer capacity bars (paper, Figure 2), the dataset's sorted
projection and scatter (paper, Figure 1), and the sizing candidates; widgets and matplotlib figures.
"""
from __future__ import annotations

import math

import anywidget
import numpy as np
import traitlets

from ._base import array_trait, load_css, load_esm

_ESM = load_esm("capacity.js")
_CSS = load_css("capacity.css")

#: verdict level -> banner class of js/_lib.css
BANNER_CLASS = {"match": "ok", "over": "warn", "under": "bad"}


def _optional_index(proposal, items, what: str) -> int:
    """A selection trait's value: -1 (nothing selected) or an index into ``items``."""
    value = proposal["value"]
    n = 0 if items is None else len(items)
    if value < -1 or value >= n:
        name = proposal["trait"].name
        raise traitlets.TraitError(f"{name}: expected -1 or a {what} index below {n}, got {value}")
    return value


def _bits_array(values) -> np.ndarray:
    """Bits as exact integers for the browser; -1 stands for unbounded."""
    return np.array([-1 if math.isinf(v) else int(v) for v in values], dtype=np.int64)


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if int(s) < 0 else str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def shown_layers(report, show_all: bool = False) -> list[int]:
    """Indices of the layers drawn as bars: all, or those with neurons or capacity, the input, the
    bottleneck and unsupported ones (layers without neurons have no bar to show)."""
    if show_all:
        return list(range(len(report.layers)))
    return [i for i, la in enumerate(report.layers)
            if la.has_neurons or la.capacity_bits > 0 or not la.supported or la.is_bottleneck or la.category == "input"]


# -- capacity ------------------------------------------------------------------------------------
class CapacityWidget(anywidget.AnyWidget):
    """Bars of per-layer capacity with the bit flow, the dataset line and the verdict.

    Synced state the user changes: ``log_scale`` (log/linear y axis), ``show_all`` (also draw
    parameter-free layers), ``rule`` ("friedland" or "paper": Python recomputes the rows with
    :meth:`CapacityReport.with_rule`), ``selected_layer`` (the clicked layer's name, "" for none).
    """

    _esm = _ESM
    _css = _CSS

    view = traitlets.Unicode("capacity").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    layer_info = traitlets.List(traitlets.Dict()).tag(sync=True)
    capacity_bits = array_trait()
    bits_in = array_trait()
    bits_out = array_trait()
    params = array_trait()
    total_bits = traitlets.Int(0).tag(sync=True)
    expected_bits = traitlets.Int(None, allow_none=True).tag(sync=True)
    verdict = traitlets.Unicode("").tag(sync=True)
    banner = traitlets.Unicode("").tag(sync=True)
    notes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    log_scale = traitlets.Bool(True).tag(sync=True)
    show_all = traitlets.Bool(False).tag(sync=True)
    rule = traitlets.Enum(["friedland", "paper"], default_value="friedland").tag(sync=True)
    selected_layer = traitlets.Unicode("").tag(sync=True)

    def __init__(self, report, **kwargs):
        super().__init__(**self._state(report), rule=report.rule, **kwargs)
        self._report = report
        self.observe(self._on_rule, names="rule")

    @staticmethod
    def _state(report) -> dict:
        info = []
        for la in report.layers:
            info.append({
                "name": la.name, "kind": la.kind, "category": la.category, "output_shape": _shape_text(la.output_shape),
                "inbound": list(la.inbound), "supported": bool(la.supported), "is_bottleneck": bool(la.is_bottleneck),
                "has_neurons": bool(la.has_neurons), "note": la.note, "details": {str(k): str(v) for k, v in la.details.items()},
            })
        rule = "Friedland's rules per path" if report.rule == "friedland" else "the paper's Algorithm 1"
        return dict(
            title=f"Capacity of {report.model_name}",
            subtitle=(f"{report.framework} · {len(report.layers)} nodes · {report.n_params:,} trainable params · "
                      f"{rule}"),
            capacity_bits=report.capacity_bits,
            bits_in=_bits_array(report.bits_in),
            bits_out=_bits_array(report.bits_out),
            params=np.array([la.params for la in report.layers], dtype=np.int64),
            total_bits=int(report.total_bits),
            expected_bits=report.expected_bits,
            verdict=report.verdict or "",
            banner=BANNER_CLASS.get(report.verdict_level or "", ""),
            notes=list(report.warnings),
            # last: the front end redraws when the rows change, with every other trait already set
            layer_info=info,
        )

    def _on_rule(self, change):
        """The rule toggle: recompute through the analysis API from the stored layer graph."""
        if change["new"] == self._report.rule or self._report.graph is None:
            return
        self._report = self._report.with_rule(change["new"])
        with self.hold_sync():
            for key, value in self._state(self._report).items():
                setattr(self, key, value)

    @property
    def report(self):
        """The report currently shown (follows the rule toggle)."""
        return self._report

    @traitlets.validate("selected_layer")
    def _check_selected(self, proposal):
        name = proposal["value"]
        if name and name not in {r["name"] for r in self.layer_info}:
            raise traitlets.TraitError(f"selected_layer: no layer named {name!r}")
        return name


def capacity_figure(report, *, log_scale=True, figsize=None, color="#4e79a7", flow_color="#e15759", show_all=False):
    """Matplotlib figure of a CapacityReport: bars, bit flow, dataset line, verdict as title."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    idx = shown_layers(report, show_all)
    layers = [report.layers[i] for i in idx]
    n = len(layers)
    fig = Figure(figsize=figsize or (max(6.0, min(0.35 * n + 2, 24.0)), 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(n)
    heights = np.array([la.capacity_bits for la in layers], dtype=float)
    floor = 0.8 if log_scale else 0.0
    bars = ax.bar(x, np.where(heights > 0, heights, np.nan if log_scale else 0), color=color, width=0.7,
                  label="capacity bits")
    for bar, la in zip(bars, layers):
        if not la.supported:
            bar.set_facecolor("#d0d0d0")
            bar.set_hatch("//")
            bar.set_edgecolor("#777777")
            bar.set_height(max(la.params, 1))
        if la.is_bottleneck:
            bar.set_edgecolor("#222222")
            bar.set_linewidth(1.5)
    flow = np.array([la.bits_out for la in layers], dtype=float)
    finite = np.isfinite(flow)
    ax.plot(x[finite], flow[finite], "-o", color=flow_color, markersize=3, linewidth=1.4, label="bits flowing out")
    bottleneck = next((i for i, la in enumerate(layers) if la.is_bottleneck), None)
    if bottleneck is not None:
        ax.annotate("bottleneck", (bottleneck, flow[bottleneck]), xytext=(0, -14), textcoords="offset points",
                    ha="center", fontsize=8, color=flow_color)
    if report.expected_bits is not None:
        ax.axhline(report.expected_bits, color="#59a14f", linestyle="--", linewidth=1.2,
                   label=f"dataset needs {report.expected_bits:,} bits")
    if log_scale:
        ax.set_yscale("log")
        values = np.concatenate([heights[heights > 0], flow[finite & (flow > 0)],
                                 [report.expected_bits or 1]])
        ax.set_ylim(floor, max(values.max() if values.size else 1, 1) * 3)
    ax.set_xticks(x, [la.name for la in layers], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("bits")
    title = f"{report.model_name}: {report.total_bits:,} bits"
    if report.verdict:
        title += "\n" + report.verdict
    ax.set_title(title, fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    if any(not la.supported for la in layers):
        handles.append(Patch(facecolor="#d0d0d0", hatch="//", edgecolor="#777777"))
        labels.append("unsupported (params, not counted)")
    ax.legend(handles, labels, fontsize=7, loc="best")
    return fig


# -- complexity (dataset) ------------------------------------------------------------------------
class ComplexityWidget(anywidget.AnyWidget):
    """The sorted projection coloured by class with the counted label changes, and for 2-D data
    the scatter itself. ``selected_sample`` (an original sample index, -1 for none) is linked
    between both panels and synced to Python."""

    _esm = _ESM
    _css = _CSS

    view = traitlets.Unicode("complexity").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    order = array_trait()
    sorted_projection = array_trait()
    sorted_labels = array_trait()
    change_points = array_trait()
    points = array_trait()
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    notes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selected_sample = traitlets.Int(-1).tag(sync=True)

    def __init__(self, report, **kwargs):
        points = report.points if getattr(report, "points", None) is not None else None
        super().__init__(
            title="Dataset expected complexity",
            subtitle=f"{report.n_samples:,} samples · {report.dims} features · {len(report.classes)} classes",
            order=report.order.astype(np.int64),
            sorted_projection=report.projection[report.order].astype(np.float32),
            sorted_labels=report.y[report.order].astype(np.int32),
            change_points=report.change_points.astype(np.int64),
            points=None if points is None else np.asarray(points, dtype=np.float32),
            classes=[str(c) for c in report.classes],
            summary=(f"{report.changes} label changes along the sorted sum of features → expected "
                     f"⌈log2({report.changes} + 1)⌉ × {report.dims} = {report.expected_bits:,} bits "
                     f"(at most {report.max_bits:,})"),
            notes=list(report.warnings),
            **kwargs,
        )

    @traitlets.validate("selected_sample")
    def _check_sample(self, proposal):
        return _optional_index(proposal, self.order, "sample")


def complexity_figure(report, *, figsize=None, markersize=12):
    """Matplotlib figure of a ComplexityReport: sorted projection (and the 2-D scatter)."""
    from matplotlib.figure import Figure

    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
               "#9c755f", "#bab0ac"]
    points = getattr(report, "points", None)
    panels = 2 if points is not None else 1
    fig = Figure(figsize=figsize or (5.2 * panels, 4.0), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    ax = axes[0]
    labels = report.y[report.order]
    proj = report.projection[report.order]
    colors = [palette[c % len(palette)] for c in labels]
    for cp in report.change_points:
        ax.axvline(cp - 0.5, color="#999999", linewidth=0.6, alpha=0.7, zorder=0)
    ax.scatter(np.arange(len(proj)), proj, c=colors, s=markersize, linewidths=0)
    ax.set_xlabel("rank by sum of features")
    ax.set_ylabel("sum of features")
    ax.set_title(f"{report.changes} label changes → {report.expected_bits:,} bits expected", fontsize=9)
    if points is not None:
        ax2 = axes[1]
        pts = np.asarray(points)
        ax2.scatter(pts[:, 0], pts[:, 1], c=[palette[c % len(palette)] for c in report.y], s=markersize, linewidths=0)
        ax2.set_xlabel("feature 0")
        ax2.set_ylabel("feature 1")
        ax2.set_title("the data", fontsize=9)
    for k, name in enumerate(report.classes[:10]):
        ax.scatter([], [], c=palette[k % len(palette)], s=markersize, label=str(name))
    ax.legend(fontsize=7, loc="upper left")
    return fig


# -- sizing --------------------------------------------------------------------------------------
class SizingWidget(anywidget.AnyWidget):
    """Capacity of each candidate size with the target line; ``selected_index`` is the clicked
    candidate (-1 for none), ``log_scale`` the y axis."""

    _esm = _ESM
    _css = _CSS

    view = traitlets.Unicode("sizing").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    multipliers = array_trait()
    total_bits = array_trait()
    n_params = array_trait()
    target_bits = traitlets.Int(0).tag(sync=True)
    best_index = traitlets.Int(0).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    banner = traitlets.Unicode("").tag(sync=True)
    notes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    log_scale = traitlets.Bool(True).tag(sync=True)
    selected_index = traitlets.Int(-1).tag(sync=True)

    def __init__(self, report, **kwargs):
        best_bits = int(report.total_bits[report.best_index])
        if report.reached:
            summary = (f"multiplier {report.best_multiplier} is the smallest reaching {report.target_bits:,} bits "
                       f"({best_bits:,} bits, {int(report.n_params[report.best_index]):,} params)")
        else:
            summary = f"no candidate reaches {report.target_bits:,} bits; the largest has {best_bits:,}"
        super().__init__(
            title="Model sizing",
            subtitle=f"{len(report.multipliers)} candidates · target {report.target_bits:,} bits",
            multipliers=report.multipliers.astype(np.float64),
            total_bits=report.total_bits.astype(np.int64),
            n_params=report.n_params.astype(np.int64),
            target_bits=int(report.target_bits),
            best_index=int(report.best_index),
            summary=summary,
            banner="ok" if report.reached else "bad",
            notes=list(report.warnings),
            **kwargs,
        )

    @traitlets.validate("selected_index")
    def _check_index(self, proposal):
        return _optional_index(proposal, self.multipliers, "candidate")


def sizing_figure(report, *, log_scale=True, figsize=None, color="#4e79a7", target_color="#e15759"):
    """Matplotlib figure of a SizingReport: capacity against multiplier with the target."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize or (6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    m, bits = report.multipliers, report.total_bits.astype(float)
    ax.plot(m, bits, "-o", color=color, markersize=4, label="capacity bits")
    ax.axhline(report.target_bits, color=target_color, linestyle="--", label=f"target {report.target_bits:,} bits")
    b = report.best_index
    ax.plot([m[b]], [bits[b]], "o", markersize=10, markerfacecolor="none", markeredgecolor="#222222",
            label=f"best: ×{report.best_multiplier}")
    if log_scale:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    ax.set_xlabel("multiplier")
    ax.set_ylabel("capacity bits")
    ax.legend(fontsize=8)
    return fig
