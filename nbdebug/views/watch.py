"""The gradient-flow widget: layer × step heat map, per-layer bars, loss curve, flags, scrubber.

While training runs (in the cell's thread or a background thread) the widget receives only the
new records, as binary float32 buffers in a custom message, at most every ``interval`` seconds;
a timer sends the last ones when training pauses. If the browser misses records (a view opened
late, the ring buffer dropped some) it asks for a resync and gets the full state through the
synced traits, which are also set when training stops so that re-displaying and ``to_html()``
show everything.
"""
from __future__ import annotations

import threading
import time

import anywidget
import numpy as np
import traitlets

from ..analysis.watch import STAT_NAMES, _group_flags
from ._base import array_trait, load_css, load_esm


def _flag_rows(run) -> list:
    return [{"layer": f.layer, "kind": f.kind, "step": int(f.step), "last_step": int(f.last_step),
             "message": f.message} for f in _group_flags(run.flags)]


class WatchWidget(anywidget.AnyWidget):
    """Live view of a :class:`~nbdebug.analysis.watch.Watch` (or two, side by side).

    Synced state: ``quantity`` (the statistic drawn), ``step`` (the scrubbed training step, -1
    to follow the latest), ``step_info`` (Python's description of that step), ``running``.
    """

    _esm = load_esm("watch.js")
    _css = load_css("watch.css")

    title = traitlets.Unicode("").tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    stat_names = traitlets.List(traitlets.Unicode(), default_value=list(STAT_NAMES)).tag(sync=True)
    quantity = traitlets.Unicode("grad_mean_abs").tag(sync=True)
    step = traitlets.Int(-1).tag(sync=True)
    step_info = traitlets.Unicode("").tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    max_records = traitlets.Int(2000).tag(sync=True)
    # run A (and B in comparisons)
    layers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    base = traitlets.Int(0).tag(sync=True)       # ever-index of the first record held in `steps`
    steps = array_trait()
    values = array_trait()
    loss = array_trait()
    flags = traitlets.List(traitlets.Dict()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    layers_b = traitlets.List(traitlets.Unicode()).tag(sync=True)
    steps_b = array_trait()
    values_b = array_trait()
    loss_b = array_trait()
    flags_b = traitlets.List(traitlets.Dict()).tag(sync=True)
    summary_b = traitlets.Unicode("").tag(sync=True)

    def __init__(self, run, other=None, labels=None, *, interval: float = 0.5, **kwargs):
        self._run, self._other = run, other
        self._interval = float(interval)
        self._lock = threading.Lock()
        self._sent = 0
        self._last_push = 0.0
        self._timer = None
        names = list(labels) if labels else [run.name or run.framework or "run"]
        super().__init__(title="Gradient flow" + (" — comparison" if other is not None else ""),
                         labels=names, max_records=run.history.max_records, **kwargs)
        self._sync_full()
        self.on_msg(self._on_message)
        self.observe(self._on_step, names=["step", "quantity"])
        self._on_step()
        if other is None:
            run._listeners.append(self._on_record)
        else:
            other._listeners.append(self._on_record)
            run._listeners.append(self._on_record)

    # -- state ----------------------------------------------------------------------------------
    def _sync_full(self):
        run = self._run
        with self._lock:
            first, steps, values, loss = run.history.snapshot(0)
            self._sent = run.history.n_recorded
        with self.hold_sync():
            self.layers = run.layers
            self.base = first
            self.steps = steps.astype(np.int32)
            self.values = values.astype(np.float32)
            self.loss = loss.astype(np.float32)
            self.flags = _flag_rows(run)
            self.summary = run.summary()
            self.running = bool(run.running or (self._other is not None and self._other.running))
            if self._other is not None:
                other = self._other
                self.layers_b = other.layers
                self.steps_b = other.history.steps.astype(np.int32)
                self.values_b = other.history.values.astype(np.float32)
                self.loss_b = other.history.loss.astype(np.float32)
                self.flags_b = _flag_rows(other)
                self.summary_b = other.summary()

    def _on_record(self):
        """Called by the watcher after each record (in the training thread): throttle pushes."""
        now = time.monotonic()
        stopped = not (self._run.running or (self._other is not None and self._other.running))
        if stopped or now - self._last_push >= self._interval:
            self._push(final=stopped)
        elif self._timer is None:
            self._timer = threading.Timer(self._interval - (now - self._last_push), self._push)
            self._timer.daemon = True
            self._timer.start()

    def _push(self, final: bool = False):
        timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        self._last_push = time.monotonic()
        run = self._run
        if final or self._other is not None:
            self._sync_full()
            self._on_step()
            return
        with self._lock:
            first, steps, values, loss = run.history.snapshot(self._sent)
            if first > self._sent:  # the ring buffer dropped records the browser never saw
                resync = True
            else:
                resync = False
                self._sent = first + len(steps)
        if resync:
            self._sync_full()
            return
        if len(steps):
            n_layers, n_stats = values.shape[1:] if values.ndim == 3 else (len(run.layers), len(STAT_NAMES))
            self.send({"type": "append", "start": int(first), "n": int(len(steps)), "n_layers": int(n_layers),
                       "n_stats": int(n_stats)},
                      buffers=[np.ascontiguousarray(steps, np.int32).tobytes(),
                               np.ascontiguousarray(values, np.float32).tobytes(),
                               np.ascontiguousarray(loss, np.float32).tobytes()])
        with self.hold_sync():
            self.flags = _flag_rows(run)
            self.summary = run.summary()
            self.running = bool(run.running)

    def _on_message(self, widget, content, buffers):
        if isinstance(content, dict) and content.get("type") == "resync":
            self._sync_full()

    def _on_step(self, change=None):
        """Describe the scrubbed step in words (Python reads the history; the browser only draws)."""
        run = self._run
        if not len(run.history):
            self.step_info = "waiting for the first recorded step"
            return
        steps = run.history.steps
        step = int(steps[-1]) if self.step < 0 else self.step
        at = run.history.at(step)
        q = at[self.quantity]
        grad = at["grad_mean_abs"]
        ref = grad[np.flatnonzero(np.isfinite(grad))[-1]] if np.isfinite(grad).any() else np.nan
        index = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        loss = run.history.loss[index]
        parts = [f"step {int(steps[index])}"]
        if np.isfinite(loss):
            parts.append(f"loss {loss:.4g}")
        if np.isfinite(q).any():
            lo, hi = int(np.nanargmin(q)), int(np.nanargmax(q))
            parts.append(f"{self.quantity}: lowest {q[lo]:.3g} in {run.layers[lo]}, highest {q[hi]:.3g} in {run.layers[hi]}")
        if ref > 0:
            n_small = int(np.sum(grad < run.thresholds["vanishing_ratio"] * ref))
            parts.append(f"{n_small} of {len(run.layers)} layers below {run.thresholds['vanishing_ratio']:g}× "
                         "the output layer's gradient")
        self.step_info = " · ".join(parts)
