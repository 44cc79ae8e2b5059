"""Adversarial attacks through the model adapters, with perceptual distances per example.

``attack(model, x, y, method=...)`` runs FGSM, PGD (L∞ or L2) or a search for the fewest pixels
that flip a prediction, on the model's own framework and device, and returns an
:class:`AttackReport`: the adversarial batch, success, labels and confidences before and after,
and the distances a person would judge the change by (pixels changed, L2, L∞, PSNR, SSIM).

FGSM and PGD follow torchattacks 3.3 step for step (batch-mean cross-entropy, sign step,
projection, clamp), so with the same start they return the same tensors; the random start draws
from a generator of its own seeded with ``seed``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_array, check_choice, check_positive_int, readonly
from ..results import Result
from . import perceptual

METHODS = ("fgsm", "pgd", "pixels")
NORMS = ("linf", "l2")
_DEFAULTS = {"linf": (8 / 255, 2 / 255), "l2": (1.0, 0.2)}  # torchattacks' PGD / PGDL2 defaults


# -- input handling -------------------------------------------------------------------------------
def resolve_channel_axis(framework: str, sample_shape: tuple, channel_axis="auto"):
    """Channel axis of one sample (no batch dimension), or None when every element is a pixel.

    "auto": 3-D samples are (C, H, W) in torch and (H, W, C) in Keras; 2-D samples with at most
    four rows (torch) or columns (Keras) are (C, L) / (L, C) signals, otherwise a one-channel
    (H, W) image; 1-D samples have no channels.
    """
    ndim = len(sample_shape)
    if channel_axis is None:
        return None
    if isinstance(channel_axis, str):
        if channel_axis != "auto":
            raise ValueError(f"channel_axis: expected 'auto', None or an int; got {channel_axis!r}")
        last = framework == "keras"
        if ndim == 3:
            return 2 if last else 0
        if ndim == 2:
            c = sample_shape[1] if last else sample_shape[0]
            other = sample_shape[0] if last else sample_shape[1]
            if c <= 4 and other > 4 * c:
                return 1 if last else 0
            return None
        return None
    if isinstance(channel_axis, bool) or not isinstance(channel_axis, numbers.Integral):
        raise TypeError(f"channel_axis: expected 'auto', None or an int; got {type(channel_axis).__name__}")
    axis = int(channel_axis)
    if axis < 0:
        axis += ndim
    if not 0 <= axis < ndim:
        raise ValueError(f"channel_axis: {channel_axis} is out of range for samples of shape {sample_shape}")
    return axis


def _check_clip(clip):
    if clip is None:
        return None
    try:
        lo, hi = (float(v) for v in clip)
    except (TypeError, ValueError):
        raise TypeError(f"clip: expected a (low, high) pair of numbers or None; got {clip!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise ValueError(f"clip: expected finite low < high; got ({lo}, {hi})")
    return lo, hi


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a positive number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value}")
    return value


def _broadcast_norm(normalize, framework, sample_shape, channel_axis):
    """(mean, std) as arrays broadcastable to a batch; per-channel vectors go on the channel axis."""
    if normalize is None:
        return None
    try:
        mean, std = normalize
    except (TypeError, ValueError):
        raise TypeError("normalize: expected a (mean, std) pair") from None
    out = []
    for name, v in (("mean", mean), ("std", std)):
        arr = np.asarray(v, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"normalize: {name} holds NaN or Inf")
        if arr.ndim == 1 and arr.size > 1:
            if channel_axis is None or sample_shape[channel_axis] != arr.size:
                raise ValueError(
                    f"normalize: {name} has {arr.size} values but samples of shape {sample_shape} have "
                    f"{'no channel axis' if channel_axis is None else f'{sample_shape[channel_axis]} channels'}"
                )
            shape = [1] * (len(sample_shape) + 1)
            shape[channel_axis + 1] = arr.size
            arr = arr.reshape(shape)
        out.append(arr)
    if np.any(out[1] == 0):
        raise ValueError("normalize: std must not contain zeros")
    return tuple(out)


def _torch_seed(seed) -> int:
    """An int seed for the framework's own generator; the global RNGs are never touched."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an int, None or a numpy Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed}")
    return int(seed)


def make_engine(adapter, *, normalize=None, clip=(0.0, 1.0), channel_axis=None, amp=False, cuda_graph=False):
    """The framework-native attack loop for an adapter (torch or Keras/TensorFlow)."""
    if adapter.framework == "torch":
        from ..adapters.attack_torch import TorchAttackEngine as Engine
    elif adapter.framework == "keras":
        from ..adapters.attack_keras import KerasAttackEngine as Engine
    else:  # pragma: no cover - adapters only come in these two kinds
        raise TypeError(f"model: attacks support torch and Keras models, not {adapter.framework!r}")
    return Engine(adapter, normalize=normalize, clip=clip, channel_axis=channel_axis, amp=amp,
                  cuda_graph=cuda_graph)


# -- the attack -------------------------------------------------------------------------------------
def attack(
    model,
    x,
    y,
    method: str = "pgd",
    *,
    eps: float | None = None,
    alpha: float | None = None,
    steps: int = 10,
    norm: str = "linf",
    random_start: bool = True,
    seed=0,
    clip=(0.0, 1.0),
    normalize=None,
    batch_size: int = 256,
    budget: int | None = None,
    pixels_per_step: int = 1,
    classes=None,
    channel_axis="auto",
    sample_rate: int | None = None,
    input_shape=None,
    amp: bool = False,
    cuda_graph: bool | str = False,
) -> "AttackReport":
    """Attack a classifier and measure how much each input had to change.

    Parameters
    ----------
    model : torch.nn.Module, keras.Model or ModelAdapter
        Left exactly as found (mode, ``requires_grad``, gradients, hooks, weights, RNG state).
    x : array, shape (n, ...)
        Inputs in the model's layout and in the user's value range (``clip``), e.g. images in
        [0, 1] before normalisation. Not modified.
    y : array of int, shape (n,)
        True class indices (the attack pushes the prediction away from them).
    method : {"fgsm", "pgd", "pixels"}
        ``"fgsm"``: one signed-gradient step of size ``eps`` (no random start).
        ``"pgd"``: ``steps`` projected gradient steps of size ``alpha`` in the ``norm`` ball of
        radius ``eps``, from a random start in the ball when ``random_start``.
        ``"pixels"``: the fewest pixel positions that flip the prediction, found by a greedy
        saliency search (JSMA-style): each round sets the unused pixel position whose channels,
        moved to the end of the valid range that lowers the true-class margin, lower it most to
        first order; then changed positions are restored one by one wherever the example stays
        misclassified without them. Pixel positions are counted, not channels. Examples that do
        not flip within ``budget`` positions are reported as ``l0_pixels = budget`` with
        ``l0_censored = True`` ("≥ budget").
    eps : float, optional
        Radius of the perturbation ball in the input's units. Defaults: 8/255 (L∞), 1.0 (L2).
    alpha : float, optional
        PGD step size. Defaults: 2/255 (L∞), 0.2 (L2).
    steps : int
        PGD iterations.
    norm : {"linf", "l2"}
        Ball of FGSM (L∞ only) and PGD.
    random_start : bool
        PGD starts from a uniform point in the L∞ ball (L2: a Gaussian direction at radius
        ``eps·U(0,1)``), as torchattacks does.
    seed : int, numpy Generator or None
        Seeds the attack's own generator (``torch.Generator`` / ``tf.random.Generator``).
    clip : (float, float) or None
        Valid input range; adversarial inputs are clamped into it. ``"pixels"`` needs it.
    normalize : (mean, std) or None
        Normalisation the model expects, applied inside the forward pass so attacks and distances
        stay in the user's units. Per-channel sequences are placed on the channel axis.
    batch_size : int
        Examples per forward/backward pass. FGSM/PGD use the mean loss of each batch, as
        torchattacks does; equality with torchattacks holds when both see the same batches.
    budget : int, optional
        Most pixel positions the ``"pixels"`` search may change (default: all positions, at most 32).
    pixels_per_step : int
        Positions set per round of the ``"pixels"`` search (1 is the most precise).
    classes : sequence of str, optional
        Class names for display.
    channel_axis : "auto", int or None
        Channel axis of one sample (see :func:`resolve_channel_axis`); used to count pixels, for
        per-channel SSIM and for display.
    sample_rate : int, optional
        For 1-D signals: the audio sample rate, used by the view's players and spectrograms.
    input_shape : tuple, optional
        Passed to :func:`nbdebug.as_model`.
    amp : bool
        torch on CUDA: bf16 autocast for the forward pass (faster; rare gradient-sign changes).
    cuda_graph : bool or "auto"
        torch on CUDA: capture one PGD step in a CUDA graph and replay it (same arithmetic as the
        eager loop, launched as one unit). "auto" uses it on CUDA for PGD with more than 2 steps.

    Returns
    -------
    AttackReport
    """
    from ..adapters import as_model

    method = check_choice(method, "method", METHODS)
    norm = check_choice(norm, "norm", NORMS)
    if method == "fgsm" and norm != "linf":
        raise ValueError("norm: FGSM is an L∞ attack; use method='pgd' with norm='l2' for L2")
    x_arr = check_array(x, "x", min_ndim=2)
    if x_arr.dtype.kind not in "fiub":
        raise TypeError(f"x: expected real numbers, got dtype {x_arr.dtype}")
    y_arr = _check_labels(y, len(x_arr))
    clip = _check_clip(clip)
    if clip is not None and (x_arr.min() < clip[0] - 1e-6 or x_arr.max() > clip[1] + 1e-6):
        raise ValueError(
            f"x: values span [{float(x_arr.min()):.4g}, {float(x_arr.max()):.4g}], outside clip={clip}; "
            "pass inputs in their natural range with clip=(low, high) (and normalize=(mean, std) for "
            "the model's normalisation), or clip=None"
        )
    default_eps, default_alpha = _DEFAULTS[norm]
    eps = default_eps if eps is None else _check_positive(eps, "eps")
    alpha = default_alpha if alpha is None else _check_positive(alpha, "alpha")
    steps = check_positive_int(steps, "steps", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    pixels_per_step = check_positive_int(pixels_per_step, "pixels_per_step")
    if not isinstance(random_start, (bool, np.bool_)):
        raise TypeError(f"random_start: expected a bool, got {type(random_start).__name__}")
    int_seed = _torch_seed(seed)
    if sample_rate is not None:
        sample_rate = check_positive_int(sample_rate, "sample_rate")

    adapter = as_model(model, input_shape)
    sample_shape = tuple(x_arr.shape[1:])
    if adapter.input_shape is not None and tuple(adapter.input_shape) != sample_shape:
        raise ValueError(f"x: samples have shape {sample_shape}, the model expects {adapter.input_shape}")
    ch = resolve_channel_axis(adapter.framework, sample_shape, channel_axis)
    norm_arrays = _broadcast_norm(normalize, adapter.framework, sample_shape, ch)
    n_pix = int(np.prod([s for a, s in enumerate(sample_shape) if a != ch]))
    if method == "pixels":
        if clip is None:
            raise ValueError("clip: the 'pixels' attack sets pixels to the ends of the valid range; pass clip=(low, high)")
        budget = min(n_pix, 32) if budget is None else check_positive_int(budget, "budget")
        budget = min(budget, n_pix)
    if cuda_graph not in (True, False, "auto"):
        raise ValueError(f"cuda_graph: expected True, False or 'auto'; got {cuda_graph!r}")

    # a private writable copy: frameworks refuse read-only buffers, and the user's array stays untouched
    x_float = np.array(x_arr, dtype=np.float64 if x_arr.dtype == np.float64 else np.float32)
    with adapter.guard():
        on_cuda = adapter.framework == "torch" and adapter.device.type == "cuda"
        use_graph = on_cuda and method == "pgd" and (cuda_graph is True or (cuda_graph == "auto" and steps > 2))
        engine = make_engine(adapter, normalize=norm_arrays, clip=clip, channel_axis=ch, amp=amp,
                             cuda_graph=use_graph)
        engine.prepare()
        gen = engine.generator(int_seed)
        n_classes = engine.predict_proba(engine.to_native(x_float[:1]), 1).shape[1]
        n_classes = max(n_classes, 2)
        if y_arr.max() >= n_classes:
            raise ValueError(f"y: label {int(y_arr.max())} is not a class of this model ({n_classes} outputs)")
        advs, pixel_counts, before, after = [], [], [], []
        starts = range(0, len(x_float), batch_size)
        if len(starts) > 1:  # long work shows progress; an interrupt still restores the model
            try:
                from tqdm.auto import tqdm

                starts = tqdm(starts, desc=f"{method} attack", unit="batch", leave=False)
            except ImportError:  # pragma: no cover
                pass
        for start in starts:
            xb = engine.to_native(x_float[start:start + batch_size])
            yb = engine.labels(y_arr[start:start + batch_size])
            engine.clean_proba = None
            if method == "fgsm":
                adv = engine.fgsm(xb, yb, eps)
            elif method == "pgd":
                adv = engine.pgd(xb, yb, eps, alpha, steps, norm, random_start, gen)
            else:
                adv, count = engine.pixels(xb, yb, budget, pixels_per_step, clip[0], clip[1])
                pixel_counts.append(engine.to_numpy(count))
            # the first gradient step at the clean batch already gave its probabilities
            clean = getattr(engine, "clean_proba", None)
            before.append(clean if clean is not None else engine.predict_proba(xb, batch_size))
            after.append(engine.predict_proba(adv, batch_size))
            advs.append(engine.to_numpy(adv))
    adversarial = np.concatenate(advs).astype(x_float.dtype, copy=False)
    probs_before = np.concatenate(before)
    probs_after = np.concatenate(after)

    label_before = probs_before.argmax(1)
    label_after = probs_after.argmax(1)
    success = label_after != y_arr
    data_range = (clip[1] - clip[0]) if clip is not None else float(np.ptp(x_float)) or 1.0
    tol = 1e-6 * data_range  # float noise of x + 0 - x is not a changed pixel
    l0 = perceptual.l0_pixels(x_float, adversarial, ch, tol)
    censored = np.zeros(len(x_float), dtype=bool)
    if method == "pixels":
        counts = np.concatenate(pixel_counts)
        censored = counts > budget
        l0 = np.where(censored, budget, l0)
    l2, linf = perceptual.lp_norms(x_float, adversarial)
    if classes is None:
        classes = [str(i) for i in range(n_classes)]
    else:
        classes = [str(c) for c in classes]
        if len(classes) != n_classes:
            raise ValueError(f"classes: {len(classes)} names for a model with {n_classes} outputs")
    spatial = [s for a, s in enumerate(sample_shape) if a != ch]
    # 1-D inputs are sound when a sample rate is given or they are long; otherwise feature vectors
    if len(spatial) == 2:
        modality = "image"
    elif len(spatial) == 1 and (sample_rate is not None or spatial[0] >= 1024):
        modality = "audio"
    else:
        modality = "vector"
    return AttackReport(
        method=method, norm=norm if method != "pixels" else "l0", eps=float(eps) if method != "pixels" else float("nan"),
        alpha=float(alpha) if method == "pgd" else float("nan"), steps=steps if method == "pgd" else (1 if method == "fgsm" else 0),
        random_start=bool(random_start) and method == "pgd", seed=int_seed,
        budget_px=int(budget) if method == "pixels" else None,
        x=readonly(x_float), adversarial=adversarial, y=readonly(np.array(y_arr)),
        label_before=label_before, label_after=label_after, probs_before=probs_before.astype(np.float32),
        probs_after=probs_after.astype(np.float32), success=success, l0_pixels=l0, l0_censored=censored,
        l2=l2, linf=linf, psnr=perceptual.psnr(x_float, adversarial, data_range),
        ssim=perceptual.ssim(x_float, adversarial, data_range, ch),
        classes=classes, channel_axis=ch, clip=clip, framework=adapter.framework, modality=modality,
        sample_rate=sample_rate, model_name=adapter.name,
    )


def _check_labels(y, n: int) -> np.ndarray:
    if y is None:
        raise TypeError("y: expected class indices, got None")
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    elif hasattr(y, "numpy") and not isinstance(y, np.ndarray):
        y = y.numpy()
    arr = np.asarray(y)
    if arr.ndim != 1:
        hint = " (one-hot labels? pass y.argmax(axis=1))" if arr.ndim == 2 and arr.shape[1] > 1 else ""
        raise ValueError(f"y: expected a 1-D array of class indices, got shape {arr.shape}{hint}")
    if len(arr) != n:
        raise ValueError(f"y: has {len(arr)} labels but x has {n} samples; they must have the same length")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            raise ValueError("y: expected integer class indices")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"y: class indices must be >= 0, got {int(arr.min())}")
    return arr.astype(np.int64)


# -- the result -------------------------------------------------------------------------------------
@dataclass(eq=False)
class AttackReport(Result):
    """Adversarial examples with per-example distances and predictions before and after.

    Attributes
    ----------
    method : {"fgsm", "pgd", "pixels"}
    norm : {"linf", "l2", "l0"}
    eps, alpha : float
        Ball radius and PGD step (NaN where they do not apply).
    steps : int
    x, adversarial : ndarray, shape (n, ...)
        Clean and adversarial inputs in the user's units.
    y, label_before, label_after : ndarray of int, shape (n,)
    probs_before, probs_after : ndarray, shape (n, K)
    success : ndarray of bool
        The prediction after the attack differs from ``y``.
    l0_pixels : ndarray of int
        Pixel positions changed (any channel). For ``"pixels"``: the fewest found that flip the
        prediction; ``budget_px`` where ``l0_censored`` (no flip within the budget, read "≥").
    l2, linf : ndarray
        Norms of the perturbation.
    psnr : ndarray
        dB (inf where nothing changed).
    ssim : ndarray
        Mean SSIM (pinned definition in :mod:`nbdebug.analysis.perceptual`).
    """

    method: str
    norm: str
    eps: float
    alpha: float
    steps: int
    random_start: bool
    seed: int
    budget_px: int | None
    x: np.ndarray
    adversarial: np.ndarray
    y: np.ndarray
    label_before: np.ndarray
    label_after: np.ndarray
    probs_before: np.ndarray
    probs_after: np.ndarray
    success: np.ndarray
    l0_pixels: np.ndarray
    l0_censored: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray
    classes: list
    channel_axis: int | None
    clip: tuple | None
    framework: str
    modality: str
    sample_rate: int | None = None
    model_name: str = ""
    extra: dict = field(default_factory=dict)

    _title = "Adversarial attack"

    # -- summaries ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def clean_correct(self) -> np.ndarray:
        return self.label_before == self.y

    @property
    def clean_accuracy(self) -> float:
        return float(self.clean_correct.mean())

    @property
    def robust_accuracy(self) -> float:
        """Fraction of examples still classified correctly after the attack."""
        return float((self.label_after == self.y).mean())

    @property
    def success_rate(self) -> float:
        """Fraction of the correctly classified examples whose prediction the attack flipped."""
        ok = self.clean_correct
        return float(self.success[ok].mean()) if ok.any() else float("nan")

    @property
    def confidence_before(self) -> np.ndarray:
        return self.probs_before[np.arange(self.n), self.label_before]

    @property
    def confidence_after(self) -> np.ndarray:
        return self.probs_after[np.arange(self.n), self.label_after]

    @property
    def perturbation(self) -> np.ndarray:
        return self.adversarial - self.x

    @property
    def changed_mask(self) -> np.ndarray:
        """(n, *spatial) pixel positions that changed."""
        rng = (self.clip[1] - self.clip[0]) if self.clip else 1.0
        return perceptual.changed_pixel_mask(self.x, self.adversarial, self.channel_axis, 1e-6 * rng)

    def pixels_to_flip(self) -> np.ndarray:
        """Pixels changed on the examples that were correct before (the distribution the paper's
        robustness is measured by); censored values are lower bounds."""
        return self.l0_pixels[self.clean_correct]

    def topk(self, index: int, k: int = 3, *, after: bool = False) -> list[tuple[str, float]]:
        """The ``k`` most probable classes of example ``index`` as (name, probability) pairs."""
        probs = (self.probs_after if after else self.probs_before)[int(index)]
        order = np.argsort(-probs, kind="stable")[:k]
        return [(self.classes[i], float(probs[i])) for i in order]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "label": [self.classes[i] for i in self.y],
            "before": [self.classes[i] for i in self.label_before],
            "confidence_before": self.confidence_before,
            "after": [self.classes[i] for i in self.label_after],
            "confidence_after": self.confidence_after,
            "success": self.success,
            "l0_pixels": self.l0_pixels,
            "l0_censored": self.l0_censored,
            "l2": self.l2,
            "linf": self.linf,
            "psnr_db": self.psnr,
            "ssim": self.ssim,
        }).rename_axis("index")

    def describe(self) -> str:
        if self.method == "pixels":
            what = f"fewest pixels (greedy saliency), budget {self.budget_px} px"
        elif self.method == "fgsm":
            what = f"FGSM ε={self.eps:.4g}"
        else:
            what = (f"PGD-{self.steps} {'L∞' if self.norm == 'linf' else 'L2'} ε={self.eps:.4g} "
                    f"α={self.alpha:.4g}{' random start' if self.random_start else ''}")
        return what

    def __repr__(self) -> str:
        flip = self.pixels_to_flip()
        extra = ""
        if self.method == "pixels" and flip.size:
            cens = self.l0_censored[self.clean_correct]
            extra = f", median pixels to flip {np.median(flip):g}{'+' if cens.mean() >= 0.5 else ''} ({int(cens.sum())} ≥ budget)"
        return (f"AttackReport({self.describe()}: {self.n} examples, clean accuracy {self.clean_accuracy:.1%}, "
                f"robust accuracy {self.robust_accuracy:.1%}, success rate {self.success_rate:.1%}{extra})")

    # -- display --------------------------------------------------------------------------------
    def _pixels_last(self, arr: np.ndarray) -> np.ndarray:
        """(n, H, W, C) for image-like display; feature vectors become a square when they fill one
        (a flattened 8×8 digit), else a one-row strip."""
        a = np.asarray(arr)
        if self.modality == "image":
            return a if self.channel_axis is None else np.moveaxis(a, self.channel_axis + 1, -1)
        a = a[..., None] if self.channel_axis is None else np.moveaxis(a, self.channel_axis + 1, -1)
        n, c = len(a), a.shape[-1]
        p = int(np.prod(a.shape[1:-1]))
        side = int(round(np.sqrt(p)))
        return a.reshape((n, side, side, c) if side * side == p else (n, 1, p, c))

    def display_images(self, which: str = "x", index=slice(None)) -> np.ndarray:
        """(n, H, W, C) float images in [0, 1] (C = 1 or 3) for drawing (not for audio)."""
        a = self._pixels_last(getattr(self, which)[index])
        if self.modality == "image" and self.channel_axis is None:
            return to_display(a, None, self.clip)
        return to_display(a, a.ndim - 2, self.clip)

    def display_difference(self, index=slice(None)) -> np.ndarray:
        """(n, H, W) signed change per pixel position (largest-magnitude channel) / value range."""
        rng = (self.clip[1] - self.clip[0]) if self.clip else float(np.ptp(self.x)) or 1.0
        d = self._pixels_last(self.adversarial[index].astype(np.float64) - self.x[index].astype(np.float64))
        if self.modality == "image" and self.channel_axis is None:
            return d / rng
        idx = np.abs(d).argmax(axis=-1)
        return np.take_along_axis(d, idx[..., None], axis=-1)[..., 0] / rng

    def display_mask(self, index=slice(None)) -> np.ndarray:
        """(n, H, W) changed pixel positions, in the layout of :meth:`display_images`."""
        d = self._pixels_last(self.adversarial[index].astype(np.float64) - self.x[index].astype(np.float64))
        rng = (self.clip[1] - self.clip[0]) if self.clip else 1.0
        changed = np.abs(d) > 1e-6 * rng
        return changed if (self.modality == "image" and self.channel_axis is None) else changed.any(axis=-1)

    def _make_widget(self):
        from ..views.attack import AttackWidget

        return AttackWidget(self)

    def figure(self, index: int = 0, *, amplify: float | None = None, top_k: int = 3, figsize=None):
        """Original | adversarial | difference (signed), top-k before/after, and the batch summary.

        Parameters
        ----------
        index : int
            Which example to draw.
        amplify : float, optional
            Multiplier of the difference panel (default: so the largest change fills the colour map).
        """
        from matplotlib.figure import Figure

        if not 0 <= int(index) < self.n:
            raise ValueError(f"index: expected 0..{self.n - 1}, got {index}")
        i = int(index)
        fig = Figure(figsize=figsize or (12, 6.2), layout="constrained")
        grid = fig.add_gridspec(2, 4, height_ratios=[1.5, 1])
        title = f"#{i}: {self.classes[self.y[i]]} → {self.classes[self.label_after[i]]}"
        diff = self.perturbation[i].astype(np.float64)
        sl = slice(i, i + 1)
        if self.modality != "audio":
            imgs = [self.display_images("x", sl)[0], self.display_images("adversarial", sl)[0]]
            for j, (img, name) in enumerate(zip(imgs, ("original", "adversarial"))):
                ax = fig.add_subplot(grid[0, j])
                ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1,
                          interpolation="nearest")
                ax.set_title(name)
                ax.set_axis_off()
            signed = self.display_difference(sl)[0]
            scale = amplify if amplify else 1.0 / max(np.abs(signed).max(), 1e-12)
            ax = fig.add_subplot(grid[0, 2])
            im = ax.imshow(np.clip(signed * scale, -1, 1), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
            if self.method == "pixels":
                mask = self.display_mask(sl)[0]
                for r, c in zip(*np.nonzero(mask)):
                    ax.add_patch(_rect(c - 0.5, r - 0.5))
            ax.set_title(f"difference ×{scale:.3g}")
            ax.set_axis_off()
            fig.colorbar(im, ax=ax, shrink=0.8, label="signed change / range")
        else:
            ax = fig.add_subplot(grid[0, :3])
            t = np.arange(diff.size) / (self.sample_rate or 1)
            ax.plot(t, self.x[i].reshape(-1), lw=0.6, label="original", color="#4e79a7")
            ax.plot(t, self.adversarial[i].reshape(-1), lw=0.6, label="adversarial", color="#e15759", alpha=0.8)
            ax.plot(t, diff.reshape(-1), lw=0.6, label="difference", color="#333")
            ax.set_xlabel("time (s)" if self.sample_rate else "sample")
            ax.legend(loc="upper right", fontsize=8)
        ax = fig.add_subplot(grid[0, 3])
        k = min(top_k, len(self.classes))
        before, after = self.topk(i, k), self.topk(i, k, after=True)
        labels = [f"{n} (before)" for n, _ in before] + [f"{n} (after)" for n, _ in after]
        values = [p for _, p in before] + [p for _, p in after]
        colors = ["#4e79a7"] * k + ["#e15759"] * k
        ax.barh(range(2 * k)[::-1], values, color=colors)
        ax.set_yticks(range(2 * k)[::-1], labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_title(f"top-{k}")
        ax = fig.add_subplot(grid[1, :2])
        if self.method == "pixels":
            flip = self.pixels_to_flip()
            bins = np.arange(0, (self.budget_px or 1) + 2) - 0.5
            ax.hist(flip[~self.l0_censored[self.clean_correct]], bins=bins, color="#59a14f", label="flipped")
            ax.hist(flip[self.l0_censored[self.clean_correct]], bins=bins, color="#bab0ac", label="≥ budget")
            ax.set_xlabel("pixels to flip")
            ax.legend(fontsize=8)
        else:
            ax.hist(self.l2[self.clean_correct], bins=20, color="#4e79a7")
            ax.set_xlabel("L2 of the perturbation")
        ax.set_ylabel("examples")
        ax = fig.add_subplot(grid[1, 2:])
        finite = np.isfinite(self.psnr)
        ax.scatter(self.psnr[finite], self.ssim[finite], c=np.where(self.success[finite], "#e15759", "#4e79a7"), s=14)
        ax.set_xlabel("PSNR (dB)")
        ax.set_ylabel("SSIM")
        ax.set_title("red: flipped", fontsize=9)
        fig.suptitle(f"{self.describe()} — {title} — robust accuracy {self.robust_accuracy:.1%}")
        return fig


def _rect(x0, y0):
    from matplotlib.patches import Rectangle

    return Rectangle((x0, y0), 1, 1, fill=False, edgecolor="#111", lw=1.2)


def to_display(arr: np.ndarray, channel_axis: int | None, clip) -> np.ndarray:
    """(n, H, W, C) images in [0, 1] with C = 1 or 3 (other channel counts: their mean)."""
    a = np.asarray(arr, dtype=np.float64)
    if channel_axis is None:
        a = a[..., None]
    else:
        a = np.moveaxis(a, channel_axis + 1, -1)
    if a.ndim == 3:  # 1-D signal with channels: a one-row image
        a = a[:, None]
    c = a.shape[-1]
    if c == 4:
        a = a[..., :3]
    elif c not in (1, 3):
        a = a.mean(axis=-1, keepdims=True)
    lo, hi = clip if clip is not None else (a.min(), a.max() if a.max() > a.min() else a.min() + 1)
    return np.clip((a - lo) / (hi - lo), 0, 1)


def signed_difference(diff: np.ndarray, channel_axis: int | None) -> np.ndarray:
    """One signed value per pixel position: the channel change of largest magnitude."""
    d = np.asarray(diff, dtype=np.float64)
    if channel_axis is None:
        return d
    d = np.moveaxis(d, channel_axis, -1)
    idx = np.abs(d).argmax(axis=-1)
    return np.take_along_axis(d, idx[..., None], axis=-1)[..., 0]


# -- robust accuracy against ε ---------------------------------------------------------------------
@dataclass(eq=False)
class RobustnessCurve(Result):
    """Robust accuracy as the attack budget ε grows.

    Attributes
    ----------
    eps : ndarray
    robust_accuracy : ndarray
        Fraction still classified correctly at each ε.
    clean_accuracy : float
    eps_half : float
        Smallest ε at which robust accuracy falls to half the clean accuracy (linear
        interpolation between the measured ε; inf when it never does).
    """

    eps: np.ndarray
    robust_accuracy: np.ndarray
    clean_accuracy: float
    eps_half: float
    method: str
    norm: str
    steps: int

    _title = "Robust accuracy vs ε"

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"eps": self.eps, "robust_accuracy": self.robust_accuracy})

    def __repr__(self) -> str:
        pts = ", ".join(f"{e:.3g}: {a:.0%}" for e, a in zip(self.eps, self.robust_accuracy))
        return f"RobustnessCurve({self.method} {self.norm}: clean {self.clean_accuracy:.0%}; {pts}; ε½ = {self.eps_half:.3g})"

    def figure(self, figsize=(5, 3.4)):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
        ax.plot(np.r_[0, self.eps], np.r_[self.clean_accuracy, self.robust_accuracy], "o-", color="#4e79a7")
        ax.axhline(self.clean_accuracy / 2, color="#bbb", ls="--", lw=1)
        if np.isfinite(self.eps_half):
            ax.axvline(self.eps_half, color="#e15759", lw=1, label=f"ε½ = {self.eps_half:.3g}")
            ax.legend()
        ax.set_xlabel(f"ε ({self.norm})")
        ax.set_ylabel("robust accuracy")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{self.method.upper()} robust accuracy")
        return fig

    def _curve_state(self) -> dict:
        return dict(
            title="Robust accuracy vs ε",
            subtitle=(f"{self.method.upper()}{f'-{self.steps}' if self.method == 'pgd' else ''} {self.norm} · clean "
                      f"accuracy {self.clean_accuracy:.1%} · ε at half accuracy {self.eps_half:.4g}"),
            xlabel=f"ε ({self.norm})", series=["robust accuracy"],
            point_labels=["ε = 0 (clean)"] + [f"ε = {e:.4g}" for e in self.eps],
            x=np.r_[0.0, self.eps].astype(np.float32),
            ys=np.r_[self.clean_accuracy, self.robust_accuracy][None].astype(np.float32),
            hlines=np.array([self.clean_accuracy / 2], dtype=np.float32),
        )

    def _make_widget(self):
        from ..views.attack import figure_widget

        return figure_widget(self)


def eps_at_half(eps: np.ndarray, acc: np.ndarray, clean: float) -> float:
    """First ε where accuracy reaches clean/2, interpolating linearly (from (0, clean))."""
    xs = np.r_[0.0, eps]
    ys = np.r_[clean, acc]
    target = clean / 2
    for j in range(1, len(xs)):
        if ys[j] <= target:
            y0, y1 = ys[j - 1], ys[j]
            if y0 == y1:
                return float(xs[j])
            return float(xs[j - 1] + (y0 - target) / (y0 - y1) * (xs[j] - xs[j - 1]))
    return float("inf")


def robust_accuracy_curve(model, x, y, eps_list, *, method: str = "pgd", **kwargs) -> RobustnessCurve:
    """Robust accuracy of ``model`` on ``(x, y)`` for each ε in ``eps_list``.

    Parameters
    ----------
    eps_list : sequence of float
        Increasing ball radii.
    method : {"fgsm", "pgd"}
    **kwargs
        Passed to :func:`attack` (``steps``, ``norm``, ``alpha``, ``seed``, ``normalize``, ...).
        When ``alpha`` is not given, PGD uses ``alpha = 2.5·ε/steps`` at each ε (Madry et al.).
    """
    method = check_choice(method, "method", ("fgsm", "pgd"))
    eps_arr = np.asarray(eps_list, dtype=np.float64)
    if eps_arr.ndim != 1 or eps_arr.size == 0:
        raise ValueError("eps_list: expected a non-empty 1-D sequence of radii")
    if not np.all(np.isfinite(eps_arr)) or np.any(eps_arr <= 0) or np.any(np.diff(eps_arr) <= 0):
        raise ValueError("eps_list: expected positive, strictly increasing radii")
    steps = kwargs.get("steps", 10)
    acc, clean = [], None
    for e in eps_arr:
        kw = dict(kwargs)
        if method == "pgd" and kw.get("alpha") is None:
            kw["alpha"] = 2.5 * e / max(int(steps), 1)
        rep = attack(model, x, y, method, eps=float(e), **kw)
        acc.append(rep.robust_accuracy)
        clean = rep.clean_accuracy
    acc = np.asarray(acc)
    return RobustnessCurve(eps=eps_arr, robust_accuracy=acc, clean_accuracy=float(clean),
                           eps_half=eps_at_half(eps_arr, acc, clean), method=method,
                           norm=kwargs.get("norm", "linf"), steps=int(steps) if method == "pgd" else 1)
