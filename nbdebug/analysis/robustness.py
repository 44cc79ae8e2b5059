"""Robustness against capacity (section 3.4 of the paper): train models of several capacities, attack
each, and relate the pixels an attack must change (and the ε at which accuracy halves) to the
capacity in bits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._validate import check_array, check_positive_int
from ..results import Result
from .attack import attack, eps_at_half


def _default_capacity_fn():
    """Capacity in bits from :mod:`nbdebug.analysis.capacity` when present, else trainable parameters."""
    try:
        from .capacity import capacity
    except ImportError:
        from ..adapters import as_model

        def by_params(model, input_shape):
            return float(as_model(model, input_shape).n_params)

        return by_params, "trainable parameters (nbdebug.analysis.capacity not installed)"

    def by_capacity(model, input_shape):
        return float(capacity(model, input_shape).total_bits)

    return by_capacity, "nbdebug.capacity total_bits (Friedland's rules)"


@dataclass(eq=False)
class RobustnessSweep(Result):
    """Robustness of models of increasing capacity.

    Attributes
    ----------
    capacities : list
        The values passed to ``build_fn``.
    capacity_bits : ndarray
        Capacity of each trained model (see ``capacity_source``).
    n_params : ndarray of int
    accuracy : ndarray
        Test accuracy of each model.
    median_pixels_to_flip : ndarray
        Median over correctly classified attack examples of the fewest pixels that flip the
        prediction (censored values count as the budget, so the median is a lower bound when
        ``censored_fraction`` ≥ 0.5).
    censored_fraction : ndarray
        Fraction of those examples that did not flip within the budget.
    mean_pixels_to_flip : ndarray
        Mean of the same (a lower bound where any are censored).
    eps : ndarray
        The ε grid of the robust-accuracy curves.
    robust_accuracy : ndarray, shape (n_models, n_eps)
    eps_half : ndarray
        ε at which the robust accuracy falls to half the clean accuracy (inf: never in the grid).
    pixel_reports : list of AttackReport
    """

    capacities: list
    capacity_bits: np.ndarray
    capacity_source: str
    n_params: np.ndarray
    accuracy: np.ndarray
    median_pixels_to_flip: np.ndarray
    censored_fraction: np.ndarray
    mean_pixels_to_flip: np.ndarray
    eps: np.ndarray
    robust_accuracy: np.ndarray
    eps_half: np.ndarray
    budget_px: int
    pixel_reports: list = field(default_factory=list, repr=False)
    models: list = field(default_factory=list, repr=False)

    _title = "Robustness vs capacity"

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "capacity": [str(c) for c in self.capacities], "capacity_bits": self.capacity_bits,
            "n_params": self.n_params, "accuracy": self.accuracy,
            "median_pixels_to_flip": self.median_pixels_to_flip, "mean_pixels_to_flip": self.mean_pixels_to_flip,
            "censored_fraction": self.censored_fraction,
            "eps_half": self.eps_half,
        })

    def __repr__(self) -> str:
        rows = "; ".join(f"{b:,.0f} bits: acc {a:.0%}, {p:g} px, ε½ {e:.3g}" for b, a, p, e in
                         zip(self.capacity_bits, self.accuracy, self.median_pixels_to_flip, self.eps_half))
        return f"RobustnessSweep({len(self.capacities)} models — {rows})"

    def _curve_state(self) -> dict:
        order = np.argsort(self.capacity_bits, kind="stable")
        ys = np.stack([self.median_pixels_to_flip, self.eps_half, self.accuracy])[:, order]
        return dict(
            title="Robustness vs capacity",
            subtitle=(f"capacity from {self.capacity_source} · pixels-to-flip budget {self.budget_px} px · "
                      "open circles: beyond the ε grid"),
            xlabel="capacity (bits, log scale)", xlog=True,
            series=["median pixels to flip", "ε at half accuracy", "test accuracy"],
            point_labels=[f"capacity {self.capacities[i]} · {self.capacity_bits[i]:,.0f} bits" for i in order],
            x=self.capacity_bits[order].astype(np.float32), ys=ys.astype(np.float32),
            hlines=np.array([np.nan, np.nan, np.nan], dtype=np.float32),
        )

    def _make_widget(self):
        from ..views.attack import figure_widget

        return figure_widget(self)

    def figure(self, figsize=(12, 3.4)):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplots(1, 3)
        order = np.argsort(self.capacity_bits, kind="stable")
        bits = self.capacity_bits[order]
        for ax, values, name in zip(axes, (self.median_pixels_to_flip, self.eps_half, self.accuracy),
                                    ("median pixels to flip", "ε at half accuracy", "test accuracy")):
            v = values[order]
            finite = np.isfinite(v)
            ax.plot(bits[finite], v[finite], "o-", color="#4e79a7")
            if (~finite).any():
                top = np.nanmax(np.where(finite, v, np.nan)) if finite.any() else 1.0
                ax.plot(bits[~finite], np.full((~finite).sum(), top), "o", mfc="white", color="#4e79a7")
            ax.set_xscale("log")
            ax.set_xlabel(f"capacity (bits; {self.capacity_source.split(' (')[0]})")
            ax.set_title(name)
        fig.suptitle("Robustness vs capacity")
        return fig


def robustness_sweep(
    build_fn: Callable[[Any], Any],
    train_fn: Callable[..., Any],
    data: Sequence,
    capacities: Sequence,
    *,
    input_shape=None,
    n_attack: int = 100,
    budget: int | None = None,
    eps_list=(0.02, 0.05, 0.1, 0.2, 0.3),
    steps: int = 10,
    capacity_fn: Callable | None = None,
    seed=0,
    **attack_kwargs,
) -> RobustnessSweep:
    """Train one model per capacity, attack it, and chart robustness against capacity bits.

    Parameters
    ----------
    build_fn : callable
        ``build_fn(c)`` returns a fresh torch or Keras model for the capacity setting ``c``
        (a width, a multiplier, ...).
    train_fn : callable
        ``train_fn(model, X_train, y_train)`` trains it in place (or returns the trained model).
    data : tuple
        ``(X_train, y_train, X_test, y_test)``; attacks use the first ``n_attack`` test examples.
    capacities : sequence
        The settings to try.
    input_shape : tuple, optional
        One sample's shape (for the capacity computation); default: ``X_test.shape[1:]``.
    budget : int, optional
        Pixel budget of the fewest-pixels attack (default as in :func:`attack`).
    eps_list : sequence of float
        ε grid of the PGD robust-accuracy curve (ε at half accuracy is interpolated on it).
    capacity_fn : callable, optional
        ``capacity_fn(model, input_shape) -> bits``. Default: ``nbdebug.capacity(...).total_bits``
        where that analysis is installed, else the number of trainable parameters (said in
        ``capacity_source``).
    seed : int
        Seed of the attacks' random starts.
    **attack_kwargs
        Passed to :func:`attack` (``clip``, ``normalize``, ``batch_size``, ...).
    """
    if not callable(build_fn):
        raise TypeError("build_fn: expected a callable returning a model")
    if not callable(train_fn):
        raise TypeError("train_fn: expected a callable training a model")
    try:
        X_train, y_train, X_test, y_test = data
    except (TypeError, ValueError):
        raise TypeError("data: expected (X_train, y_train, X_test, y_test)") from None
    check_array(X_test, "X_test", min_ndim=2)
    X_test = np.array(X_test)  # writable: torch refuses read-only buffers
    y_test = np.asarray(y_test)
    if len(y_test) != len(X_test):
        raise ValueError(f"y_test: has {len(y_test)} labels for {len(X_test)} examples")
    capacities = list(capacities)
    if not capacities:
        raise ValueError("capacities: expected at least one setting")
    n_attack = check_positive_int(n_attack, "n_attack")
    steps = check_positive_int(steps, "steps")
    eps_arr = np.asarray(eps_list, dtype=np.float64)
    if eps_arr.ndim != 1 or eps_arr.size == 0 or np.any(eps_arr <= 0) or np.any(np.diff(eps_arr) <= 0):
        raise ValueError("eps_list: expected positive, strictly increasing radii")
    if capacity_fn is None:
        capacity_fn, source = _default_capacity_fn()
    else:
        source = getattr(capacity_fn, "__name__", "capacity_fn")
    input_shape = tuple(input_shape) if input_shape is not None else tuple(X_test.shape[1:])
    xa, ya = X_test[:n_attack], y_test[:n_attack]

    from ..adapters import as_model

    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        tqdm = lambda it, **k: it  # noqa: E731

    bits, n_params, accs, medians, means, censored, halves, curves, reports, models = ([] for _ in range(10))
    for c in tqdm(capacities, desc="capacities", leave=False):
        model = build_fn(c)
        trained = train_fn(model, X_train, y_train)
        model = trained if trained is not None else model
        adapter = as_model(model, input_shape)
        probs = adapter.predict_proba(X_test)
        accs.append(float((probs.argmax(1) == y_test).mean()))
        bits.append(float(capacity_fn(model, input_shape)))
        n_params.append(int(adapter.n_params))
        rep = attack(model, xa, ya, "pixels", budget=budget, seed=seed, **attack_kwargs)
        flip = rep.pixels_to_flip()
        cens = rep.l0_censored[rep.clean_correct]
        medians.append(float(np.median(flip)) if flip.size else np.nan)
        means.append(float(np.mean(flip)) if flip.size else np.nan)
        censored.append(float(cens.mean()) if cens.size else np.nan)
        acc_eps, clean = [], rep.clean_accuracy
        for e in eps_arr:
            r = attack(model, xa, ya, "pgd", eps=float(e), alpha=2.5 * e / steps, steps=steps, seed=seed, **attack_kwargs)
            acc_eps.append(r.robust_accuracy)
        curves.append(acc_eps)
        halves.append(eps_at_half(eps_arr, np.asarray(acc_eps), clean))
        reports.append(rep)
        models.append(model)
    return RobustnessSweep(
        capacities=capacities, capacity_bits=np.asarray(bits), capacity_source=source,
        n_params=np.asarray(n_params), accuracy=np.asarray(accs), median_pixels_to_flip=np.asarray(medians),
        censored_fraction=np.asarray(censored), mean_pixels_to_flip=np.asarray(means), eps=eps_arr, robust_accuracy=np.asarray(curves),
        eps_half=np.asarray(halves), budget_px=int(reports[0].budget_px), pixel_reports=reports, models=models,
    )
