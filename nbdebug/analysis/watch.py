"""Training monitor: per-layer gradient flow and activation statistics while a model trains.

``nd.watch(model)`` returns a :class:`Watch`. For torch it is a context manager whose hooks are
removed when the block exits (normally or by an exception)::

    with nd.watch(model, every=10) as flow:
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            flow.log(loss=loss)          # torch: the loss is reported, not guessed

For Keras it is also a callback (``model.fit(..., callbacks=[nd.watch(model)])``) that reads the
gradients of the real training step (the optimizer's ``apply`` is observed inside the compiled
train function at recording steps) and the loss from ``compute_loss``.

What is recorded (per layer that owns trainable weights, per recorded step) is listed in
:data:`STAT_NAMES`; the framework recorders live in ``nbdebug.adapters.watch_torch`` and
``nbdebug.adapters.watch_keras`` and both hand raw per-parameter sums to
:func:`combine_parameter_sums`, so the two frameworks give the same statistics. Findings
(:class:`WatchFlag`: vanishing, exploding, dead, nan) are updated incrementally as records arrive,
so they survive the ring buffer dropping old records.
"""
from __future__ import annotations

import json
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .._validate import check_choice, check_positive_int
from ..results import Result

#: per-layer statistics, in the order of the last axis of :attr:`WatchHistory.values`
STAT_NAMES = (
    "grad_mean_abs",   # mean |g| over the layer's trainable parameters (the report's figures)
    "grad_max_abs",    # max |g|
    "grad_norm",       # ||g||_2
    "weight_norm",     # ||W||_2 before the optimizer step
    "update_ratio",    # ||W_after - W_before||_2 / ||W_before||_2 (the optimizer's step)
    "act_mean",        # mean of the layer's activation output (after a following ReLU-like op)
    "act_std",         # population std of the same
    "dead_fraction",   # units <= 0 on every sample of the batch (ReLU-family activations only)
    "grad_nan",        # NaN count in the gradients
    "grad_inf",        # Inf count in the gradients
    "act_nan",         # NaN count in the activations
    "act_inf",         # Inf count in the activations
)
STAT_INDEX = {name: i for i, name in enumerate(STAT_NAMES)}
GRAD_STATS = STAT_NAMES[:5] + ("grad_nan", "grad_inf")
ACT_STATS = ("act_mean", "act_std", "dead_fraction", "act_nan", "act_inf")

#: cost tiers: what the recorders compute at a recording step
TIERS = {
    "light": "gradients, weight norms, update ratios and the loss (no forward hooks)",
    "full": "everything in 'light' plus activation mean / std, dead-ReLU fraction and NaN/Inf "
            "counts of the activations (forward hooks at recording steps)",
}

FLAG_KINDS = ("vanishing", "exploding", "dead", "nan")

#: activation kinds after which "dead" (output <= 0 on every sample) means a dead unit
RELU_FAMILY = frozenset({"relu", "relu6", "threshold"})


def combine_parameter_sums(layer_of_param, sums: np.ndarray, n_layers: int) -> np.ndarray:
    """Turn per-parameter raw sums into per-layer gradient statistics.

    Parameters
    ----------
    layer_of_param : sequence of int
        The layer index owning each parameter tensor.
    sums : ndarray, shape (n_params, 8)
        Per parameter: ``sum|g|``, ``max|g|``, ``sum g^2``, NaN count, Inf count, ``sum W^2``
        (before the step), ``sum (dW)^2`` (the step), element count. A parameter that received no
        gradient has NaN in its gradient columns.

    Returns
    -------
    ndarray, shape (n_layers, len(STAT_NAMES))
        Gradient and weight columns filled, activation columns NaN.
    """
    sums = np.asarray(sums, dtype=np.float64)
    layer_of_param = np.asarray(layer_of_param, dtype=np.int64)
    out = np.full((n_layers, len(STAT_NAMES)), np.nan)
    for layer in range(n_layers):
        rows = sums[layer_of_param == layer]
        if rows.size == 0:
            continue
        # a parameter without a gradient has NaN counts; NaN gradients have finite (positive) counts
        has_grad = ~np.isnan(rows[:, 3])
        count = rows[has_grad, 7].sum()
        if has_grad.any() and count > 0:
            g = rows[has_grad]
            out[layer, STAT_INDEX["grad_mean_abs"]] = g[:, 0].sum() / count
            out[layer, STAT_INDEX["grad_max_abs"]] = g[:, 1].max()
            out[layer, STAT_INDEX["grad_norm"]] = np.sqrt(g[:, 2].sum())
            out[layer, STAT_INDEX["grad_nan"]] = g[:, 3].sum()
            out[layer, STAT_INDEX["grad_inf"]] = g[:, 4].sum()
        w_sq = rows[:, 5].sum()
        out[layer, STAT_INDEX["weight_norm"]] = np.sqrt(w_sq)
        dw_sq = rows[:, 6]
        if not np.isnan(dw_sq).all():
            norm = np.sqrt(w_sq)
            out[layer, STAT_INDEX["update_ratio"]] = np.sqrt(np.nansum(dw_sq)) / norm if norm > 0 else np.nan
    return out


# -- history -------------------------------------------------------------------------------------
class WatchHistory:
    """Per-layer, per-step statistics in a ring buffer of at most ``max_records`` records.

    ``history["grad_mean_abs"]`` is an array of shape (n_records, n_layers), oldest first;
    ``history.steps`` the training step of each record, ``history.loss`` its loss (NaN when none
    was reported). Appending is thread-safe, so a widget can read while a training thread writes.
    """

    def __init__(self, layers, max_records: int = 2000):
        self.layers = list(layers)
        self.max_records = int(max_records)
        n = len(self.layers)
        self._values = np.full((self.max_records, n, len(STAT_NAMES)), np.nan)
        self._steps = np.zeros(self.max_records, dtype=np.int64)
        self._loss = np.full(self.max_records, np.nan)
        self._count = 0      # records ever appended
        self._lock = threading.Lock()

    # -- writing --------------------------------------------------------------------------------
    def append(self, step: int, values: np.ndarray, loss: float = np.nan) -> None:
        with self._lock:
            slot = self._count % self.max_records
            self._values[slot] = values
            self._steps[slot] = step
            self._loss[slot] = loss
            self._count += 1

    def update_last(self, step: int, *, stat: str | None = None, values=None, loss=None) -> bool:
        """Fill in a column of the record of ``step`` if it is the newest one (update ratio, loss)."""
        with self._lock:
            if self._count == 0:
                return False
            slot = (self._count - 1) % self.max_records
            if self._steps[slot] != step:
                return False
            if stat is not None:
                self._values[slot, :, STAT_INDEX[stat]] = values
            if loss is not None:
                self._loss[slot] = loss
            return True

    # -- reading --------------------------------------------------------------------------------
    def _order(self) -> np.ndarray:
        n = min(self._count, self.max_records)
        start = self._count - n
        return (np.arange(start, self._count) % self.max_records).astype(np.int64)

    def __len__(self) -> int:
        return min(self._count, self.max_records)

    @property
    def n_recorded(self) -> int:
        """Records ever appended (including those the ring buffer has dropped)."""
        return self._count

    @property
    def n_dropped(self) -> int:
        return max(0, self._count - self.max_records)

    @property
    def values(self) -> np.ndarray:
        """All statistics, shape (n_records, n_layers, n_stats), oldest record first (a copy)."""
        with self._lock:
            return self._values[self._order()].copy()

    @property
    def steps(self) -> np.ndarray:
        with self._lock:
            return self._steps[self._order()].copy()

    @property
    def loss(self) -> np.ndarray:
        with self._lock:
            return self._loss[self._order()].copy()

    def snapshot(self, since: int = 0):
        """``(first, steps, values, loss)`` for records with ever-index >= ``since`` still held."""
        with self._lock:
            first = max(since, self._count - min(self._count, self.max_records))
            idx = np.arange(first, self._count) % self.max_records
            return first, self._steps[idx].copy(), self._values[idx].copy(), self._loss[idx].copy()

    def __getitem__(self, stat: str) -> np.ndarray:
        if stat not in STAT_INDEX:
            raise KeyError(f"stat: expected one of {', '.join(STAT_NAMES)}; got {stat!r}")
        with self._lock:
            return self._values[self._order(), :, STAT_INDEX[stat]].copy()

    def keys(self):
        return STAT_NAMES

    def at(self, step: int) -> dict:
        """Statistics of the record at ``step`` (or the latest record before it) as {stat: (n_layers,)}."""
        steps = self.steps
        if steps.size == 0:
            raise ValueError("step: nothing has been recorded yet")
        i = int(np.searchsorted(steps, step, side="right")) - 1
        if i < 0:
            raise ValueError(f"step: {step} is before the first record (step {steps[0]})")
        vals = self.values[i]
        return {name: vals[:, k] for k, name in enumerate(STAT_NAMES)}

    def __repr__(self) -> str:
        return f"WatchHistory(layers={len(self.layers)}, records={len(self)}, max_records={self.max_records})"


@dataclass
class WatchFlag:
    """A finding: ``kind`` ("vanishing", "exploding", "dead", "nan") in ``layer`` since ``step``.

    ``last_step`` is the latest recorded step at which the condition still held; ``value`` the
    measured quantity at ``step`` (ratio to the output layer, dead fraction, or NaN/Inf count).
    """

    layer: str
    kind: str
    step: int
    last_step: int
    value: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


class _FlagTracker:
    """Incremental detection: a condition must hold on ``patience`` consecutive records."""

    def __init__(self, layers, *, vanishing_ratio, exploding_ratio, exploding_growth, dead_fraction, patience):
        self.layers = list(layers)
        self.vanishing_ratio = vanishing_ratio
        self.exploding_ratio = exploding_ratio
        self.exploding_growth = exploding_growth
        self.dead_fraction = dead_fraction
        self.patience = patience
        self.flags: list[WatchFlag] = []
        n = len(self.layers)
        self._run = {k: np.zeros(n, dtype=np.int64) for k in ("vanishing", "exploding", "dead")}
        self._start = {k: np.zeros(n, dtype=np.int64) for k in ("vanishing", "exploding", "dead")}
        self._open = {k: [None] * n for k in ("vanishing", "exploding", "dead")}
        self._nan_open: WatchFlag | None = None
        self._baseline: list[list[float]] = [[] for _ in range(n)]

    def _reference(self, grad: np.ndarray) -> float:
        """The output layer's gradient magnitude (the last layer with a finite one)."""
        finite = np.flatnonzero(np.isfinite(grad))
        return float(grad[finite[-1]]) if finite.size else np.nan

    def update(self, step: int, values: np.ndarray, loss: float) -> None:
        grad = values[:, STAT_INDEX["grad_mean_abs"]]
        norm = values[:, STAT_INDEX["grad_norm"]]
        dead = values[:, STAT_INDEX["dead_fraction"]]
        ref = self._reference(grad)
        n = len(self.layers)
        last = int(np.flatnonzero(np.isfinite(grad))[-1]) if np.isfinite(grad).any() else -1
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = grad / ref if ref > 0 else np.full(n, np.nan)
        for i in range(n):
            # the growth baseline uses healthy records only: a layer recovering from vanishing
            # gradients at initialisation grows a thousandfold without exploding
            healthy = i == last or (np.isfinite(ratio[i]) and ratio[i] >= self.vanishing_ratio)
            if healthy and np.isfinite(norm[i]) and len(self._baseline[i]) < 3 and norm[i] > 0:
                self._baseline[i].append(float(norm[i]))
        conditions = {
            "vanishing": (np.isfinite(ratio) & (ratio < self.vanishing_ratio), ratio),
            "exploding": (self._exploding(ratio, norm), ratio),
            "dead": (np.isfinite(dead) & (dead >= self.dead_fraction), dead),
        }
        for kind, (cond, measure) in conditions.items():
            for i in range(n):
                if kind != "dead" and i == last:
                    cond_i = kind == "exploding" and self._growth(i, norm[i])
                else:
                    cond_i = bool(cond[i])
                self._advance(kind, i, step, cond_i, float(measure[i]))
        self._nan(step, values, loss)

    def _growth(self, i: int, norm_i: float) -> bool:
        base = self._baseline[i]
        return len(base) >= 3 and np.isfinite(norm_i) and norm_i > self.exploding_growth * float(np.median(base))

    def _exploding(self, ratio, norm) -> np.ndarray:
        out = np.isfinite(ratio) & (ratio > self.exploding_ratio)
        for i in range(len(out)):
            out[i] = out[i] or self._growth(i, norm[i])
        return out

    def _advance(self, kind: str, i: int, step: int, cond: bool, measure: float) -> None:
        if not cond:
            self._run[kind][i] = 0
            self._open[kind][i] = None
            return
        if self._run[kind][i] == 0:
            self._start[kind][i] = step
        self._run[kind][i] += 1
        flag = self._open[kind][i]
        if flag is not None:
            flag.last_step = step
        elif self._run[kind][i] >= self.patience:
            start = int(self._start[kind][i])
            layer = self.layers[i]
            if kind == "vanishing":
                msg = (f"gradients in {layer} are {measure:.1e}× the output layer's "
                       f"(below {self.vanishing_ratio:g}) since step {start}")
            elif kind == "exploding":
                msg = f"gradients in {layer} exploding since step {start} ({measure:.1e}× the output layer's)"
            else:
                msg = f"{measure:.0%} of the units after {layer} are dead (≤ 0 on every sample) since step {start}"
            flag = WatchFlag(layer, kind, start, step, measure, msg)
            self.flags.append(flag)
            self._open[kind][i] = flag

    def _nan(self, step: int, values: np.ndarray, loss: float) -> None:
        grad_bad = values[:, STAT_INDEX["grad_nan"]] + values[:, STAT_INDEX["grad_inf"]]
        act_bad = values[:, STAT_INDEX["act_nan"]] + values[:, STAT_INDEX["act_inf"]]
        grad_bad = np.nan_to_num(grad_bad)
        act_bad = np.nan_to_num(act_bad)
        # NaN stands for "no loss reported"; an infinite loss is a finding of its own
        loss_bad = loss is not None and bool(np.isinf(loss))
        any_bad = (grad_bad > 0) | (act_bad > 0)
        if not any_bad.any() and not loss_bad:
            self._nan_open = None
            return
        if self._nan_open is not None:
            self._nan_open.last_step = step
            return
        # forward: the first layer whose activations went non-finite is the source; backward:
        # non-finite gradients spread from the output, so the source is the last such layer
        act_rows = np.flatnonzero(act_bad > 0)
        grad_rows = np.flatnonzero(grad_bad > 0)
        if act_rows.size:
            i, count, where = int(act_rows[0]), act_bad[act_rows[0]], "activations"
        elif grad_rows.size:
            i, count, where = int(grad_rows[-1]), grad_bad[grad_rows[-1]], "gradients"
        else:
            i, count, where = -1, 1.0, "loss"
        layer = self.layers[i] if i >= 0 else "(loss)"
        n_layers = int(any_bad.sum())
        msg = (f"NaN/Inf first seen in the {where} of {layer} at step {step} "
               f"({int(count)} value(s); {n_layers} layer(s) affected)")
        self._nan_open = WatchFlag(layer, "nan", step, step, float(count), msg)
        self.flags.append(self._nan_open)


# -- the watcher -----------------------------------------------------------------------------------
def _check_schedule(every):
    if callable(every):
        return every
    every = check_positive_int(every, "every")
    return lambda step: step % every == 0


class Watch(Result):
    """A training monitor: recorder while training, result (history, flags, widget) afterwards.

    Create it with :func:`watch`. Attributes: ``layers`` (names of the layers that own trainable
    weights, input to output), ``kinds`` (their class names), ``history``
    (:class:`WatchHistory`), ``flags`` (list of :class:`WatchFlag`), ``step`` (training steps
    seen), ``framework``.
    """

    _title = "Gradient flow"

    def __init__(self, layers, kinds, *, every=10, tier="full", max_records=2000, framework="",
                 name="", vanishing_ratio=1e-3, exploding_ratio=1e3, exploding_growth=1e3,
                 dead_fraction=0.9, patience=3):
        super().__init__()
        self.layers = list(layers)
        self.kinds = list(kinds)
        self.framework = framework
        self.name = name
        self.tier = check_choice(tier, "tier", tuple(TIERS))
        self._schedule = _check_schedule(every)
        self.every = every if not callable(every) else getattr(every, "__name__", "callable")
        self.history = WatchHistory(self.layers, check_positive_int(max_records, "max_records"))
        if not 0 < vanishing_ratio < 1:
            raise ValueError(f"vanishing_ratio: expected a number in (0, 1), got {vanishing_ratio}")
        if not exploding_ratio > 1 or not exploding_growth > 1:
            raise ValueError("exploding_ratio, exploding_growth: expected numbers > 1")
        if not 0 < dead_fraction <= 1:
            raise ValueError(f"dead_fraction: expected a number in (0, 1], got {dead_fraction}")
        self.thresholds = dict(vanishing_ratio=float(vanishing_ratio), exploding_ratio=float(exploding_ratio),
                               exploding_growth=float(exploding_growth), dead_fraction=float(dead_fraction),
                               patience=check_positive_int(patience, "patience"))
        self._tracker = _FlagTracker(self.layers, **self.thresholds)
        self.step = 0            # training steps seen (the next step's index)
        self.running = False
        self._listeners: list[Callable[[], None]] = []
        self._pending_loss: dict[int, float] = {}
        self.started_at = time.time()

    # -- schedule -------------------------------------------------------------------------------
    def is_recording(self, step: int) -> bool:
        """Whether ``step`` is a recording step under this watch's schedule."""
        return bool(self._schedule(int(step)))

    def _next_step(self) -> int:
        step = self.step
        self.step += 1
        return step

    # -- records (called by the framework recorders) -------------------------------------------
    def _append(self, step: int, values: np.ndarray, loss: float = np.nan) -> None:
        values = np.asarray(values, dtype=np.float64)
        if loss is None or (isinstance(loss, float) and np.isnan(loss)):
            loss = self._pending_loss.pop(step, np.nan)
        self.history.append(step, values, loss)
        self._tracker.update(step, values, loss)
        self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a display problem must never stop training
                pass

    def log(self, loss=None, **_ignored) -> None:
        """Report the loss of the current training step (torch; Keras reads it itself).

        Call it after ``loss.backward()``; only recording steps keep the value, and a tensor is
        read (``.item()``) only then, so there is no device sync on other steps.
        """
        if loss is None:
            return
        step = self.step - 1
        if step < 0 or not self.is_recording(step):
            return
        value = float(loss.detach().item() if hasattr(loss, "detach") else loss)
        if not self.history.update_last(step, loss=value):
            self._pending_loss = {step: value}

    # -- results --------------------------------------------------------------------------------
    @property
    def flags(self) -> list:
        """Findings so far (:class:`WatchFlag`), in the order they were raised."""
        return list(self._tracker.flags)

    @property
    def steps(self) -> np.ndarray:
        return self.history.steps

    @property
    def loss(self) -> np.ndarray:
        return self.history.loss

    def __repr__(self) -> str:
        kinds = sorted({f.kind for f in self.flags})
        state = "running" if self.running else "stopped"
        return (f"Watch({self.name or self.framework!r}, layers={len(self.layers)}, steps={self.step}, "
                f"records={len(self.history)}, flags={kinds or 'none'}, {state})")

    def summary(self) -> str:
        """The flags in words, one line each (or that the gradient flow looks healthy)."""
        if not len(self.history):
            return "nothing recorded yet"
        lines = [f.message for f in _group_flags(self.flags)]
        return "\n".join(lines) if lines else "no problems found: gradients flow through every layer"

    def to_frame(self):
        """Long table: one row per (record, layer) with every statistic and the loss."""
        import pandas as pd

        values = self.history.values
        steps = self.history.steps
        n_rec, n_layers = values.shape[:2]
        frame = pd.DataFrame(values.reshape(n_rec * n_layers, -1), columns=list(STAT_NAMES))
        frame.insert(0, "layer", np.tile(np.asarray(self.layers, dtype=object), n_rec))
        frame.insert(0, "step", np.repeat(steps, n_layers))
        frame["loss"] = np.repeat(self.history.loss, n_layers)
        return frame

    def flags_frame(self):
        import pandas as pd

        return pd.DataFrame([f.to_dict() for f in self.flags],
                            columns=["layer", "kind", "step", "last_step", "value", "message"])

    # -- save / load ----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the run to ``path`` (an ``.npz`` holding the arrays and a JSON header)."""
        path = Path(path)
        header = {
            "format": "nbdebug.watch/1", "layers": self.layers, "kinds": self.kinds,
            "framework": self.framework, "name": self.name, "tier": self.tier,
            "every": self.every if isinstance(self.every, (int, str)) else str(self.every),
            "max_records": self.history.max_records, "n_recorded": self.history.n_recorded,
            "step": self.step, "thresholds": self.thresholds, "stat_names": list(STAT_NAMES),
            "flags": [f.to_dict() for f in self.flags],
        }
        with open(path, "wb") as fh:
            np.savez_compressed(fh, values=self.history.values, steps=self.history.steps,
                                loss=self.history.loss, header=np.frombuffer(json.dumps(header).encode(), np.uint8))
        return path

    @classmethod
    def load(cls, path) -> "Watch":
        """Read a run written by :meth:`save`; the result has no model attached."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode())
                values, steps, loss = data["values"], data["steps"], data["loss"]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ValueError(f"path: {str(path)!r} is not a saved nbdebug watch ({exc})") from None
        if header.get("format") != "nbdebug.watch/1" or header.get("stat_names") != list(STAT_NAMES):
            raise ValueError(f"path: {str(path)!r} was written by an incompatible nbdebug version")
        every = header["every"] if isinstance(header["every"], int) else 1
        run = Watch(header["layers"], header["kinds"], every=every, tier=header["tier"],
                    max_records=header["max_records"], framework=header["framework"], name=header["name"],
                    **header["thresholds"])
        run.every = header["every"]
        for s, v, lo in zip(steps, values, loss):
            run.history.append(int(s), v, float(lo))
        run.history._count = header["n_recorded"]
        # the ring order must survive: re-append put records at slots 0..n-1, rotate them into place
        n = len(steps)
        if n:
            order = (np.arange(header["n_recorded"] - n, header["n_recorded"]) % run.history.max_records)
            held_v, held_s, held_l = values.copy(), steps.copy(), loss.copy()
            run.history._values[order] = held_v
            run.history._steps[order] = held_s
            run.history._loss[order] = held_l
        run._tracker.flags = [WatchFlag(**f) for f in header["flags"]]
        run.step = header["step"]
        return run

    # -- display --------------------------------------------------------------------------------
    def _make_widget(self):
        from ..views.watch import WatchWidget

        return WatchWidget(self)

    def compare(self, other: "Watch", *, labels=None):
        """A side-by-side widget of two runs (e.g. VGG08 against VGG38) with a shared colour scale."""
        return compare(self, other, labels=labels)

    def figure(self, *, stat: str = "grad_mean_abs", step: int | None = None, cmap: str = "viridis",
               figsize=(11, 4.2)):
        """Heat map (layer × step, log colour), per-layer bars at ``step`` (default: latest), loss."""
        from matplotlib.figure import Figure

        check_choice(stat, "stat", STAT_NAMES)
        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplot_mosaic([["heat", "bars"], ["heat", "loss"]], width_ratios=[1.4, 1])
        _draw_run(self, axes["heat"], axes["bars"], axes["loss"], stat=stat, step=step, cmap=cmap)
        return fig


def _group_flags(flags) -> list:
    """One line per kind when many layers share it (a deep net vanishes in dozens of layers)."""
    out = []
    by_kind: dict = {}
    for f in flags:
        by_kind.setdefault(f.kind, []).append(f)
    for kind, group in by_kind.items():
        if len(group) <= 3:
            out.extend(group)
            continue
        open_group = [g for g in group if g.last_step == max(x.last_step for x in flags)]
        if open_group and len(open_group) < len(group) and len(open_group) <= 3:
            # most layers recovered: name the ones still affected, count the rest
            out.extend(open_group)
            group = [g for g in group if g not in open_group]
        first = min(g.step for g in group)
        names = [g.layer for g in group]
        msg = {"vanishing": "gradients vanish", "exploding": "gradients explode",
               "dead": "dead units", "nan": "NaN/Inf"}[kind]
        last = max(g.last_step for g in group)
        out.append(WatchFlag(f"{names[0]} … {names[-1]}", kind, first, last,
                             float(np.nanmedian([g.value for g in group])),
                             f"{msg} in {len(group)} layers ({names[0]} … {names[-1]}) from step {first}"
                             f" (last seen at step {last})"))
    return out


def _positive_log_limits(*arrays):
    vals = np.concatenate([np.asarray(a, float).ravel() for a in arrays]) if arrays else np.array([])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if vals.size == 0:
        return 1e-8, 1.0
    lo, hi = float(vals.min()), float(vals.max())
    return (lo, hi if hi > lo else lo * 10)


def _draw_run(run: Watch, ax_heat, ax_bars, ax_loss, *, stat, step, cmap, limits=None, label=None,
              colour="#4e79a7"):
    from matplotlib.colors import LogNorm

    values = run.history[stat]
    steps = run.history.steps
    layers = run.layers
    lo, hi = limits or _positive_log_limits(values)
    if values.size:
        shown = np.where(values > 0, values, np.nan).T
        edges = np.concatenate([steps, [steps[-1] + max(1, steps[-1] - steps[-2] if len(steps) > 1 else 1)]])
        mesh = ax_heat.pcolormesh(edges, np.arange(len(layers) + 1), shown, cmap=cmap,
                                  norm=LogNorm(vmin=lo, vmax=hi), shading="flat")
        ax_heat.figure.colorbar(mesh, ax=ax_heat, label=f"{stat} (log)")
    ax_heat.set_yticks(np.arange(len(layers)) + 0.5)
    ax_heat.set_yticklabels(layers, fontsize=6 if len(layers) > 20 else 8)
    ax_heat.invert_yaxis()
    ax_heat.set_xlabel("step")
    ax_heat.set_title(f"{label or run.name or run.framework}: {stat} per layer" if (label or run.name) else
                      f"{stat} per layer and step", fontsize=10)
    if values.size:
        i = len(steps) - 1 if step is None else max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        bars = values[i]
        x = np.arange(len(layers))
        ax_bars.bar(x, np.where(bars > 0, bars, np.nan), color=colour)
        ax_bars.set_yscale("log")
        ax_bars.set_ylim(lo / 2, hi * 2)
        ax_bars.set_xticks(x)
        ax_bars.set_xticklabels(layers, rotation=90, fontsize=6 if len(layers) > 20 else 8)
        ax_bars.set_title(f"{stat} at step {steps[i]}", fontsize=10)
        loss = run.history.loss
        ok = np.isfinite(loss)
        if ok.any():
            ax_loss.plot(steps[ok], loss[ok], color=colour, label=label)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss")
    for flag in _group_flags(run.flags)[:4]:
        ax_loss.annotate(flag.message, xy=(0.01, 0.98), xycoords="axes fraction", va="top", fontsize=7,
                         color="#b71c1c", wrap=True)
        break


class WatchComparison(Result):
    """Two watched runs side by side (``a.compare(b)``): a shared colour scale makes them comparable."""

    _title = "Gradient flow: comparison"

    def __init__(self, a: Watch, b: Watch, labels=None):
        if not isinstance(a, Watch) or not isinstance(b, Watch):
            raise TypeError("compare: expected two nd.watch results")
        self.a, self.b = a, b
        self.labels = list(labels) if labels is not None else [a.name or "A", b.name or "B"]
        if len(self.labels) != 2:
            raise ValueError("labels: expected two labels")

    def __repr__(self) -> str:
        return f"WatchComparison({self.a!r}, {self.b!r})"

    def _make_widget(self):
        from ..views.watch import WatchWidget

        return WatchWidget(self.a, other=self.b, labels=self.labels)

    def figure(self, *, stat: str = "grad_mean_abs", cmap: str = "viridis", figsize=(13, 7)):
        from matplotlib.figure import Figure

        check_choice(stat, "stat", STAT_NAMES)
        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplot_mosaic([["ha", "ba", "loss"], ["hb", "bb", "loss"]])
        limits = _positive_log_limits(self.a.history[stat], self.b.history[stat])
        _draw_run(self.a, axes["ha"], axes["ba"], axes["loss"], stat=stat, step=None, cmap=cmap, limits=limits,
                  label=self.labels[0])
        _draw_run(self.b, axes["hb"], axes["bb"], axes["loss"], stat=stat, step=None, cmap=cmap, limits=limits,
                  label=self.labels[1], colour="#e15759")
        axes["loss"].legend()
        return fig


def compare(a: Watch, b: Watch, *, labels=None) -> WatchComparison:
    """Compare two watched runs side by side (the report's VGG08 against VGG38).

    Parameters
    ----------
    a, b : Watch
        Results of :func:`watch` (live or loaded with :meth:`Watch.load`).
    labels : pair of str, optional
        Names for the two runs (default: the runs' ``name``).
    """
    return WatchComparison(a, b, labels)


# -- entry point ---------------------------------------------------------------------------------
def watch(model, every=10, *, tier: str = "full", max_records: int = 2000, name: str | None = None,
          vanishing_ratio: float = 1e-3, exploding_ratio: float = 1e3, exploding_growth: float = 1e3,
          dead_fraction: float = 0.9, patience: int = 3) -> Watch:
    """Watch a model train: per-layer gradient flow, weights, updates and activations.

    Parameters
    ----------
    model : torch.nn.Module or keras.Model
        The model being trained. It is not modified: torch hooks are removed when the ``with``
        block exits (also on error); the Keras wrappers when ``fit`` ends or the block exits.
    every : int or callable, default 10
        Record every ``every``-th training step (steps count from 0, so step 0 is recorded), or a
        function ``step -> bool``. A training step is a forward pass with gradients enabled
        (torch) or one ``train_function`` call (Keras).
    tier : {"full", "light"}
        "light": gradients, weight norms, update ratios and the loss; "full": also activation
        mean / std, dead-ReLU fraction and NaN/Inf counts of the activations.
    max_records : int
        Ring-buffer size: at most this many recorded steps are kept (oldest dropped first).
    name : str, optional
        A label for the run (shown in widgets and comparisons).
    vanishing_ratio : float
        Flag "vanishing" when a layer's mean |gradient| is below this fraction of the output
        layer's (default 1e-3: three orders of magnitude).
    exploding_ratio, exploding_growth : float
        Flag "exploding" when a layer's mean |gradient| is above ``exploding_ratio`` times the
        output layer's, or its gradient norm grew ``exploding_growth``-fold over its first records.
    dead_fraction : float
        Flag "dead" when at least this fraction of a layer's ReLU units are <= 0 on every sample.
    patience : int
        Records a condition must hold in a row before it is flagged (NaN/Inf: at once).

    Returns
    -------
    Watch
        A context manager (torch) that is also a ``keras.callbacks.Callback`` (Keras), with
        ``.history``, ``.flags``, ``.log(loss=...)``, ``.save()``, ``.compare()``, a live widget
        and ``figure()``.

    Notes
    -----
    Torch: the loss is not visible to hooks, so report it with ``flow.log(loss=loss)`` (read only
    at recording steps). Statistics of a recording step are read to numpy once, when the next
    step starts (after the optimizer step, which the update ratio needs) or when the block exits.
    Keras (TensorFlow backend): at recording steps ``fit`` runs a second compiled train function
    that also writes the statistics to variables; other steps run the user's own function.
    """
    from ..adapters._detect import module_root

    root = module_root(model)
    settings = dict(every=every, tier=tier, max_records=max_records, name=name or "",
                    vanishing_ratio=vanishing_ratio, exploding_ratio=exploding_ratio,
                    exploding_growth=exploding_growth, dead_fraction=dead_fraction, patience=patience)
    if root == "torch":
        from ..adapters.watch_torch import torch_watch

        return torch_watch(model, **settings)
    if root in ("keras", "tensorflow"):
        from ..adapters.watch_keras import keras_watch

        return keras_watch(model, **settings)
    raise TypeError(
        f"model: expected a torch.nn.Module or a Keras model, got {type(model).__module__}.{type(model).__name__}"
    )

