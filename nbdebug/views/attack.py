"""The perceptual diff view of an :class:`~nbdebug.analysis.attack.AttackReport`, and small-multiple
line charts for robustness curves and sweeps.

Images travel as uint8 buffers (N, H, W, C), the signed difference as int8 with a per-example
scale (so perturbations below one grey level stay visible when amplified), audio as float32
waveforms plus uint8 dB spectrograms; the browser builds the WAV files for its players.
"""
from __future__ import annotations

import anywidget
import numpy as np
import traitlets

from ._base import array_trait, load_css, load_esm, spectrogram_images

#: metrics the gallery can be sorted by: key -> label
METRICS = {
    "index": "index",
    "l0_pixels": "pixels changed",
    "l2": "L2",
    "linf": "L∞",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "confidence_before": "confidence before",
    "confidence_after": "confidence after",
    "success": "flipped",
}


def _audio_waves(arr: np.ndarray, channel_axis: int | None) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float32)
    if channel_axis is not None:
        a = np.take(a, 0, axis=channel_axis + 1)
    return a.reshape(len(a), -1)


class AttackWidget(anywidget.AnyWidget):
    """original | adversarial | difference, swipe and blink, zoom with a pixel grid, top-k before
    and after, and a gallery of the batch sorted by any metric.

    Synced state: ``index`` (the example shown; clicking a gallery item sets it), ``sort_by``
    (a key of :data:`METRICS`), ``sort_descending``, ``mode`` ("side", "swipe", "blink"),
    ``amplify`` (difference multiplier, 0 = auto: the largest change fills the colour map),
    ``zoom`` (screen pixels per image pixel, 0 = fit).
    """

    _esm = load_esm("attack.js")
    _css = load_css("attack.css")

    view = traitlets.Unicode("diff").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    modality = traitlets.Unicode("image").tag(sync=True)
    method = traitlets.Unicode("").tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    budget_px = traitlets.Int(0).tag(sync=True)
    sample_rate = traitlets.Int(0).tag(sync=True)
    spec_db_range = traitlets.List(traitlets.Float()).tag(sync=True)
    n_total = traitlets.Int(0).tag(sync=True)

    originals = array_trait()
    adversarials = array_trait()
    diff = array_trait()
    diff_scale = array_trait()
    changed = array_trait()
    spec_originals = array_trait()
    spec_adversarials = array_trait()
    metrics = array_trait()
    labels = array_trait()
    topk_before = array_trait()
    topk_after = array_trait()
    topk_p_before = array_trait()
    topk_p_after = array_trait()
    censored = array_trait()

    index = traitlets.Int(0).tag(sync=True)
    sort_by = traitlets.Unicode("index").tag(sync=True)
    sort_descending = traitlets.Bool(False).tag(sync=True)
    mode = traitlets.Unicode("side").tag(sync=True)
    amplify = traitlets.Float(0.0).tag(sync=True)
    zoom = traitlets.Float(0.0).tag(sync=True)

    def __init__(self, report, *, max_items: int = 256, top_k: int = 3, **kwargs):
        n = min(report.n, int(max_items))
        sl = slice(0, n)
        x, adv = report.x[sl], report.adversarial[sl]
        k = min(top_k, len(report.classes))
        state = {}
        audio = report.modality == "audio"
        if not audio:  # images, and feature vectors drawn as images
            state["originals"] = np.round(report.display_images("x", sl) * 255).astype(np.uint8)
            state["adversarials"] = np.round(report.display_images("adversarial", sl) * 255).astype(np.uint8)
            signed = report.display_difference(sl)
        else:
            wx, wa = _audio_waves(x, report.channel_axis), _audio_waves(adv, report.channel_axis)
            state["originals"], state["adversarials"] = wx, wa
            signed = wa - wx
            (so, sa), (lo, hi) = spectrogram_images(wx, wa, sample_rate=report.sample_rate)
            state["spec_originals"], state["spec_adversarials"] = so, sa
            state["spec_db_range"] = [lo, hi]
        scale = np.abs(signed.reshape(n, -1)).max(axis=1)
        state["diff"] = np.round(signed / np.where(scale > 0, scale, 1).reshape(-1, *[1] * (signed.ndim - 1)) * 127).astype(np.int8)
        state["diff_scale"] = scale.astype(np.float32)
        if report.method == "pixels" and not audio:
            state["changed"] = report.display_mask(sl).astype(np.uint8)
        names = list(METRICS)
        values = {
            "index": np.arange(n), "l0_pixels": report.l0_pixels[sl], "l2": report.l2[sl],
            "linf": report.linf[sl], "psnr": report.psnr[sl], "ssim": report.ssim[sl],
            "confidence_before": report.confidence_before[sl], "confidence_after": report.confidence_after[sl],
            "success": report.success[sl],
        }
        state["metrics"] = np.stack([np.asarray(values[m], dtype=np.float32) for m in names])
        state["labels"] = np.stack([report.y[sl], report.label_before[sl], report.label_after[sl]]).astype(np.int32)
        order_b = np.argsort(-report.probs_before[sl], axis=1, kind="stable")[:, :k]
        order_a = np.argsort(-report.probs_after[sl], axis=1, kind="stable")[:, :k]
        state["topk_before"], state["topk_after"] = order_b.astype(np.int32), order_a.astype(np.int32)
        state["topk_p_before"] = np.take_along_axis(report.probs_before[sl], order_b, 1).astype(np.float32)
        state["topk_p_after"] = np.take_along_axis(report.probs_after[sl], order_a, 1).astype(np.float32)
        state["censored"] = report.l0_censored[sl].astype(np.uint8)
        subtitle = (f"{report.model_name} · {report.framework} · {report.n} examples · clean accuracy "
                    f"{report.clean_accuracy:.1%} → robust accuracy {report.robust_accuracy:.1%} · "
                    f"flipped {report.success_rate:.1%} of the correct ones")
        if n < report.n:
            subtitle += f" · showing the first {n}"
        super().__init__(
            title=f"Adversarial examples — {report.describe()}", subtitle=subtitle,
            modality="audio" if audio else "image", method=report.method, classes=list(report.classes),
            metric_names=names, metric_labels=[METRICS[m] for m in names], budget_px=int(report.budget_px or 0),
            sample_rate=int(report.sample_rate or 0), n_total=int(report.n),
            sort_by="l0_pixels" if report.method == "pixels" else "index", **state, **kwargs,
        )

    @traitlets.validate("index")
    def _check_index(self, proposal):
        value = int(proposal["value"])
        n = None if self.metrics is None else self.metrics.shape[1]
        if n is not None and not 0 <= value < n:
            raise traitlets.TraitError(f"index: expected 0..{n - 1}, got {value}")
        return value

    @traitlets.validate("sort_by")
    def _check_sort(self, proposal):
        if proposal["value"] not in METRICS:
            raise traitlets.TraitError(f"sort_by: expected one of {list(METRICS)}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("mode")
    def _check_mode(self, proposal):
        if proposal["value"] not in ("side", "swipe", "blink"):
            raise traitlets.TraitError(f"mode: expected 'side', 'swipe' or 'blink', got {proposal['value']!r}")
        return proposal["value"]

    def gallery_order(self) -> np.ndarray:
        """Indices in the order the gallery shows them (the same rule as the browser)."""
        values = np.asarray(self.metrics)[list(METRICS).index(self.sort_by)]
        keyed = np.where(np.isnan(values), -np.inf if self.sort_descending else np.inf, values)
        order = np.argsort(-keyed if self.sort_descending else keyed, kind="stable")
        return order


class CurveWidget(anywidget.AnyWidget):
    """Small-multiple line charts sharing one x axis (robust accuracy vs ε, robustness vs capacity)."""

    _esm = load_esm("attack.js")
    _css = load_css("attack.css")

    view = traitlets.Unicode("curves").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    xlabel = traitlets.Unicode("").tag(sync=True)
    xlog = traitlets.Bool(False).tag(sync=True)
    series = traitlets.List(traitlets.Unicode()).tag(sync=True)
    point_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    x = array_trait()
    ys = array_trait()
    hlines = array_trait()
    selected = traitlets.Int(-1).tag(sync=True)


def figure_widget(result) -> CurveWidget:
    """The curve widget for a ``RobustnessCurve`` or ``RobustnessSweep``."""
    return CurveWidget(**result._curve_state())
