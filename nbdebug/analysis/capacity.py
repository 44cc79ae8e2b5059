"""Memory-equivalent capacity of a network, layer by layer (main paper, section 3.2, Figure 2).

Friedland's engineering rules: a unit outputs at most one bit; a neuron stores at most as many
bits as it has parameters; neurons in parallel add up; a layer cannot store more than the bits
its inputs deliver. The rules are applied on the model's layer graph (see
:func:`nbdebug.as_model`), so branches, skip connections, concatenations and shared layers are
handled per path. The paper's literal Algorithm 1 is available as ``rule="paper"``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_choice
from ..results import Result
from .complexity import ComplexityReport, complexity

RULES = ("friedland", "paper")

#: categories whose parameters are neurons (weights and biases of units)
NEURON_CATEGORIES = frozenset({"dense", "conv", "recurrent", "attention", "embedding"})
#: categories known to hold no neurons; they only pass (and bound) the bits
PASS_CATEGORIES = frozenset({"input", "norm", "pool", "merge", "dropout", "activation", "reshape"})
#: functional ops that are a linear map when one operand is a trainable parameter (``x @ W``)
_LINEAR_OPS = frozenset({"matmul", "mm", "bmm", "einsum", "dot", "linear", "addmm", "tensordot"})

#: a model whose capacity is within [1, MATCH_MAX_RATIO] times the dataset's need "matches" it
MATCH_MAX_RATIO = 4.0


@dataclass(eq=False)
class LayerCapacity:
    """One row of a :class:`CapacityReport`.

    Attributes
    ----------
    name, kind, category : str
        As in the model's layer graph (:class:`nbdebug.adapters.LayerNode`).
    params : int
        Trainable parameters owned by this node (0 for the later calls of a shared layer).
    bits_in : float
        Bits that can reach this layer (``inf`` at the model's input).
    capacity_bits : int
        What the layer adds to the model's capacity.
    bits_out : float
        Bits that can leave this layer.
    supported : bool
        False when the layer's kind is unknown and it owns parameters: it is not counted.
    is_bottleneck : bool
        True for the narrowest point of the flow that feeds a neuron layer.
    output_shape : tuple
    inbound : list of str
    note : str
        Why the layer got its capacity, in words.
    details : dict
        Framework facts (units, kernel size, ...), for display.
    """

    name: str
    kind: str
    category: str
    params: int
    bits_in: float
    capacity_bits: int
    bits_out: float
    supported: bool = True
    is_bottleneck: bool = False
    output_shape: tuple = ()
    inbound: list = field(default_factory=list)
    note: str = ""
    details: dict = field(default_factory=dict)

    @property
    def has_neurons(self) -> bool:
        """True for layers whose parameters are neurons (dense, convolution, recurrent, ...)."""
        return self.category in NEURON_CATEGORIES or (self.params > 0 and self.kind.lower().strip("_") in _LINEAR_OPS)

    @property
    def limited_by_input(self) -> bool:
        """True when the bits reaching the layer, not its parameters, set its capacity."""
        return self.capacity_bits < self.params

    def __repr__(self) -> str:
        flags = "" if self.supported else ", unsupported"
        flags += ", bottleneck" if self.is_bottleneck else ""
        return (f"LayerCapacity({self.name!r}, {self.kind}, params={self.params}, bits_in={_fmt_bits(self.bits_in)}, "
                f"capacity_bits={self.capacity_bits}, bits_out={_fmt_bits(self.bits_out)}{flags})")


@dataclass(eq=False)
class CapacityReport(Result):
    """A network's memory-equivalent capacity, per layer and in total.

    Attributes
    ----------
    layers : list of LayerCapacity
        In execution order.
    total_bits : int
        Sum of the layers' ``capacity_bits``.
    rule : {"friedland", "paper"}
    model_name, framework, graph_source : str
    input_shape : tuple
    n_params : int
        Trainable parameters of the model (shared weights once).
    complexity : ComplexityReport or None
        The dataset's expected complexity when ``data`` was given.
    expected_bits : int or None
        ``complexity.expected_bits``.
    ratio : float or None
        ``total_bits / expected_bits``.
    verdict : str or None
        The comparison in words.
    verdict_level : {"under", "match", "over"} or None
    warnings : list of str
        Unsupported layers and other caveats.
    graph : list of LayerNode
        The layer graph the rows were computed from (see :meth:`with_rule`).
    """

    layers: list
    total_bits: int
    rule: str
    model_name: str = ""
    framework: str = ""
    graph_source: str = ""
    input_shape: tuple = ()
    n_params: int = 0
    complexity: ComplexityReport | None = None
    expected_bits: int | None = None
    ratio: float | None = None
    verdict: str | None = None
    verdict_level: str | None = None
    warnings: list = field(default_factory=list)
    graph: list | None = field(default=None, repr=False)

    _title = "Network capacity"

    def with_rule(self, rule: str) -> "CapacityReport":
        """The same model and data under another rule, recomputed from the stored layer graph
        (the model itself is not needed again)."""
        check_choice(rule, "rule", RULES)
        if self.graph is None:
            raise TypeError("with_rule: this report holds no layer graph; call nbdebug.capacity again")
        meta = {"model_name": self.model_name, "framework": self.framework, "graph_source": self.graph_source,
                "input_shape": self.input_shape, "n_params": self.n_params}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # already warned when this report was made
            return _report(self.graph, rule, meta, self.complexity)

    # -- data access ----------------------------------------------------------------------------
    @property
    def names(self) -> list:
        return [layer.name for layer in self.layers]

    @property
    def capacity_bits(self) -> np.ndarray:
        """Per-layer capacity in bits, execution order."""
        return np.array([layer.capacity_bits for layer in self.layers], dtype=np.int64)

    @property
    def bits_in(self) -> np.ndarray:
        return np.array([layer.bits_in for layer in self.layers], dtype=np.float64)

    @property
    def bits_out(self) -> np.ndarray:
        return np.array([layer.bits_out for layer in self.layers], dtype=np.float64)

    @property
    def bottleneck(self) -> LayerCapacity | None:
        return next((layer for layer in self.layers if layer.is_bottleneck), None)

    @property
    def unsupported(self) -> list:
        return [layer for layer in self.layers if not layer.supported]

    def layer(self, name: str) -> LayerCapacity:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"name: no layer named {name!r}")

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "name": [la.name for la in self.layers],
            "kind": [la.kind for la in self.layers],
            "category": [la.category for la in self.layers],
            "output_shape": [la.output_shape for la in self.layers],
            "params": [la.params for la in self.layers],
            "bits_in": self.bits_in,
            "capacity_bits": self.capacity_bits,
            "bits_out": self.bits_out,
            "supported": [la.supported for la in self.layers],
            "is_bottleneck": [la.is_bottleneck for la in self.layers],
            "note": [la.note for la in self.layers],
        })

    def __repr__(self) -> str:
        text = (f"CapacityReport({self.model_name!r}, rule={self.rule!r}, layers={len(self.layers)}, "
                f"total_bits={self.total_bits:,}")
        if self.expected_bits is not None:
            text += f", expected_bits={self.expected_bits:,}"
        text += ")"
        if self.verdict:
            text += "\n" + self.verdict
        return text

    # -- views ----------------------------------------------------------------------------------
    def _make_widget(self):
        from ..views.capacity import CapacityWidget

        return CapacityWidget(self)

    def figure(self, *, log_scale: bool = True, figsize=None, color="#4e79a7", flow_color="#e15759"):
        """Draw the per-layer capacity bars, the bit flow and the dataset line with matplotlib.

        Parameters
        ----------
        log_scale : bool
            Logarithmic y axis (capacities often span several orders of magnitude).
        figsize : tuple, optional
        color, flow_color : str
            Bar and flow-line colours.
        """
        from ..views.capacity import capacity_figure

        return capacity_figure(self, log_scale=log_scale, figsize=figsize, color=color, flow_color=flow_color)


def _fmt_bits(value: float) -> str:
    return "inf" if math.isinf(value) else f"{int(value):,}"


def _units(shape: tuple) -> float:
    """Output units of a node; unknown (dynamic or missing) shapes do not bound the flow."""
    if not shape or any(int(s) < 0 for s in shape):
        return math.inf
    return float(np.prod([int(s) for s in shape], dtype=np.float64))


def _is_neuron(node) -> bool:
    if node.category in NEURON_CATEGORIES:
        return True
    return node.params > 0 and node.kind.lower().strip("_") in _LINEAR_OPS


def _role(node) -> str:
    """'neuron', 'pass' or 'unsupported' under the default rule."""
    if _is_neuron(node):
        return "neuron"
    if node.category in PASS_CATEGORIES or node.params == 0 or node.call_index > 0:
        return "pass"
    return "unsupported"


def _friedland_rows(nodes) -> list:
    rows = []
    out_bits: dict[str, float] = {}
    first_call = {n.owner: n.name for n in nodes if n.call_index == 0}
    for node in nodes:
        if node.category == "input" and not node.inbound:
            bits_in = math.inf
        else:
            # a concatenation or an addition receives the bits of every branch; one layer feeding
            # twice (attention's query and value) delivers its bits once
            bits_in = float(sum(out_bits.get(name, 0.0) for name in dict.fromkeys(node.inbound)))
        role = _role(node)
        params = int(node.params)
        if role == "neuron":
            cap = int(min(params, bits_in))
            if node.call_index > 0:
                note = f"shares the weights of {first_call.get(node.owner, node.owner)!r}: counted once"
            elif cap < params:
                note = f"limited by the {_fmt_bits(bits_in)} bits reaching it ({params:,} parameters)"
            else:
                note = f"{params:,} parameters"
        elif role == "pass":
            cap = 0
            if node.category == "input":
                note = "model input: delivers unbounded bits"
            elif node.call_index > 0:
                note = f"second call of {first_call.get(node.owner, node.owner)!r}: no new parameters"
            elif params:
                note = f"{node.category}: {params:,} per-unit parameters, no neurons; bounds the flow"
            else:
                note = "no parameters; bounds the flow"
        else:
            cap = 0
            note = f"unsupported layer kind {node.kind!r} with {params:,} parameters: not counted"
        if role == "pass" and math.isinf(bits_in):
            # no neuron yet on this path: the outputs are still the data (flattened, pooled,
            # normalised), not one-bit unit outputs, so the flow stays unbounded
            bits_out = math.inf
        else:
            bits_out = min(_units(node.output_shape), bits_in)
        out_bits[node.name] = bits_out
        rows.append(LayerCapacity(
            name=node.name, kind=node.kind, category=node.category, params=params, bits_in=bits_in,
            capacity_bits=cap, bits_out=bits_out, supported=role != "unsupported",
            output_shape=tuple(node.output_shape), inbound=list(node.inbound), note=note, details=dict(node.details),
        ))
    return rows


def _paper_rows(nodes) -> list:
    """Algorithm 1 of the paper, line by line (see :func:`capacity` for what differs)."""
    rows = []
    output_dic: dict[str, float] = {}
    bottleneck = math.inf
    for node in nodes:
        connections = list(node.inbound)
        if connections:
            bits_in = 0.0
            for name in connections:
                bits_in = max(bits_in, output_dic.get(name, 0.0))
        else:
            bits_in = math.inf
        # Keras' count_params(): trainable and non-trainable weights alike
        count = int(node.params) + int(node.params_non_trainable)
        cap = int(min(bits_in, count))
        output_bits = float(sum(int(s) for s in node.output_shape if int(s) > 0)) if node.output_shape else math.inf
        bottleneck = min(output_bits, bottleneck)
        output_dic[node.name] = bottleneck
        rows.append(LayerCapacity(
            name=node.name, kind=node.kind, category=node.category, params=int(node.params), bits_in=bits_in,
            capacity_bits=cap, bits_out=bottleneck, supported=True, output_shape=tuple(node.output_shape),
            inbound=connections, note=f"min(max inbound {_fmt_bits(bits_in)}, count_params {count:,})",
            details=dict(node.details),
        ))
    return rows


def _mark_bottleneck(rows) -> None:
    """The narrowest flow that still feeds a layer with neurons; the first layer to reach it."""
    feeds_neurons: set[str] = set()
    for row in rows:
        if row.has_neurons:
            feeds_neurons.update(row.inbound)
    # everything upstream of a neuron layer feeds it too
    by_name = {row.name: row for row in rows}
    for row in reversed(rows):
        if row.name in feeds_neurons:
            feeds_neurons.update(row.inbound)
    candidates = [r for r in rows if r.name in feeds_neurons and not math.isinf(r.bits_out)]
    if not candidates:
        return
    narrowest = min(r.bits_out for r in candidates)
    for row in candidates:
        if row.bits_out == narrowest:
            by_name[row.name].is_bottleneck = True
            break


def _data_complexity(data) -> ComplexityReport:
    if isinstance(data, ComplexityReport):
        return data
    from ..adapters.dataset import Dataset

    if isinstance(data, Dataset):
        return complexity(data.X, data.y)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return complexity(data[0], data[1])
    raise TypeError(
        "data: expected a (X, y) pair, an nbdebug Dataset or a ComplexityReport; "
        f"got {type(data).__name__}"
    )


def verdict_text(total_bits: int, expected_bits: int) -> tuple[str, str, float]:
    """Compare a model's capacity with a dataset's need; returns (text, level, ratio).

    ``level`` is "over" above :data:`MATCH_MAX_RATIO` times the need, "under" below it, and
    "match" in between.
    """
    need = max(int(expected_bits), 1)
    ratio = total_bits / need
    head = f"model capacity {total_bits:,} bits vs dataset needs {int(expected_bits):,} bits"
    if ratio > MATCH_MAX_RATIO:
        return (f"{head} — {ratio:.3g}× over: expect memorisation; consider a narrower model", "over", ratio)
    if ratio < 1:
        under = need / max(total_bits, 1) if total_bits else math.inf
        times = "∞" if math.isinf(under) else f"{under:.3g}"
        return (f"{head} — {times}× under: expect underfitting; consider a wider or deeper model", "under", ratio)
    return (f"{head} — {ratio:.3g}× the need: capacity matches the data", "match", ratio)


def capacity(model: Any, input_shape=None, data=None, rule: str = "friedland") -> CapacityReport:
    """Memory-equivalent capacity of a network in bits, layer by layer.

    Parameters
    ----------
    model : torch.nn.Module, keras.Model or ModelAdapter
        The model; it is not modified (weights, train/eval mode and hooks are left as found).
    input_shape : tuple of int, optional
        One sample's shape without the batch dimension (channels first in torch, last in Keras);
        needed when the model does not fix it.
    data : (X, y), Dataset or ComplexityReport, optional
        When given, the dataset's expected complexity (:func:`nbdebug.complexity`) is computed
        and compared with the model's capacity in ``verdict``.
    rule : {"friedland", "paper"}
        ``"friedland"`` (default) applies Friedland's rules per path of the layer graph;
        ``"paper"`` runs the main paper's Algorithm 1 literally.

    Returns
    -------
    CapacityReport

    Notes
    -----
    Default rule, per node in execution order:

    - the model's input delivers unbounded bits;
    - ``bits_in`` is the *sum* of ``bits_out`` over the inbound nodes (a concatenation or an
      addition receives every branch's bits);
    - ``bits_out = min(prod(output_shape), bits_in)``: a unit outputs at most one bit; layers
      without neurons that see only the raw input (a leading ``Flatten``, pooling or
      normalisation of the input) pass the unbounded flow on, as their outputs are still data;
    - layers with neurons (dense, convolution, recurrent, attention, embedding, and functional
      matmuls with a trainable operand) add ``min(trainable params, bits_in)``;
      normalisation, per-unit parameters (PReLU) and parameter-free layers add nothing;
    - the later calls of a shared layer add nothing (its weights are counted at the first call);
    - a layer of unknown kind that owns parameters is marked unsupported, warned about and not
      counted; an unknown parameter-free op only bounds the flow.

    Example: an MLP 2-4-2-1 gives 12 + min(10, 4) + min(3, 2) = 18 bits.

    ``rule="paper"`` follows Algorithm 1 line by line. It differs from the default in that it

    1. sums the output shape instead of multiplying it (a 4×4×8 output emits 16 bits, not 128);
    2. keeps one global bottleneck for the whole model, so a narrow layer on one branch limits
       every later layer on every other branch;
    3. takes the *maximum* of the inbound layers' outputs at a merge instead of their sum;
    4. lets an explicit input layer cap the first layer (``sum(input shape)`` bits) instead of
       delivering unbounded bits;
    5. counts every layer's ``count_params()``, trainable and non-trainable (normalisation
       statistics in Keras included), so normalisation layers add capacity;
    6. knows no unsupported kinds: every layer is counted.
    """
    from ..adapters import as_model

    check_choice(rule, "rule", RULES)
    report_complexity = _data_complexity(data) if data is not None else None
    adapter = as_model(model, input_shape)
    nodes = adapter.layers
    meta = {"model_name": adapter.name, "framework": adapter.framework, "graph_source": adapter.graph_source,
            "input_shape": tuple(nodes[0].output_shape) if nodes else (), "n_params": int(adapter.n_params)}
    return _report(nodes, rule, meta, report_complexity, stacklevel=3)


def _report(nodes, rule, meta, report_complexity, *, stacklevel=2) -> CapacityReport:
    rows = _friedland_rows(nodes) if rule == "friedland" else _paper_rows(nodes)
    _mark_bottleneck(rows)
    notes = []
    unsupported = [r for r in rows if not r.supported]
    if unsupported:
        listed = ", ".join(f"{r.name!r} ({r.kind}, {r.params:,} params)" for r in unsupported[:5])
        more = f" and {len(unsupported) - 5} more" if len(unsupported) > 5 else ""
        message = (f"capacity: {len(unsupported)} layer(s) of unsupported kind not counted: {listed}{more}. "
                   "Their parameters may hold information the total does not show.")
        notes.append(message)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)
    total = int(sum(r.capacity_bits for r in rows))
    report = CapacityReport(layers=rows, total_bits=total, rule=rule, warnings=notes, graph=list(nodes), **meta)
    if report_complexity is not None:
        text, level, ratio = verdict_text(total, report_complexity.expected_bits)
        report.complexity = report_complexity
        report.expected_bits = int(report_complexity.expected_bits)
        report.ratio = float(ratio)
        report.verdict = text
        report.verdict_level = level
        report.warnings.extend(report_complexity.warnings)
    return report


# -- sizing ("model warehouse", paper section 4) -----------------------------------------------------
@dataclass(eq=False)
class SizingReport(Result):
    """Candidates of one architecture at several sizes, and the one whose capacity fits a target.

    Attributes
    ----------
    multipliers : ndarray of float
        The width (or depth) multipliers tried, ascending.
    total_bits : ndarray of int
        Capacity of the model built at each multiplier.
    n_params : ndarray of int
        Trainable parameters of each.
    target_bits : int
    best_index : int
        Index of the smallest multiplier whose capacity reaches the target (the largest capacity
        when none does).
    reports : list of CapacityReport
        One per candidate, same order.
    rule : str
    warnings : list of str
    """

    multipliers: np.ndarray
    total_bits: np.ndarray
    n_params: np.ndarray
    target_bits: int
    best_index: int
    reports: list
    rule: str = "friedland"
    warnings: list = field(default_factory=list)

    _title = "Model sizing"

    @property
    def best_multiplier(self) -> float:
        value = float(self.multipliers[self.best_index])
        return int(value) if value.is_integer() else value

    @property
    def best(self) -> CapacityReport:
        return self.reports[self.best_index]

    @property
    def reached(self) -> bool:
        return bool(self.total_bits[self.best_index] >= self.target_bits)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "multiplier": self.multipliers, "total_bits": self.total_bits, "n_params": self.n_params,
            "ratio_to_target": self.total_bits / max(self.target_bits, 1),
            "best": np.arange(len(self.multipliers)) == self.best_index,
        })

    def __repr__(self) -> str:
        return (f"SizingReport(candidates={len(self.multipliers)}, target_bits={self.target_bits:,}, "
                f"best_multiplier={self.best_multiplier}, best_bits={int(self.total_bits[self.best_index]):,})")

    def _make_widget(self):
        from ..views.capacity import SizingWidget

        return SizingWidget(self)

    def figure(self, *, log_scale: bool = True, figsize=None, color="#4e79a7", target_color="#e15759"):
        """Capacity of every candidate against its multiplier, with the target line."""
        from ..views.capacity import sizing_figure

        return sizing_figure(self, log_scale=log_scale, figsize=figsize, color=color, target_color=target_color)


def _target_bits(target) -> int:
    if isinstance(target, (ComplexityReport, tuple, list)) or type(target).__name__ == "Dataset":
        return int(_data_complexity(target).expected_bits)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer, float, np.floating)):
        raise TypeError(
            "target_bits: expected a number of bits, a ComplexityReport, a Dataset or an (X, y) pair; "
            f"got {type(target).__name__}"
        )
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"target_bits: expected a positive number of bits, got {target}")
    return int(math.ceil(target))


def size_to(build_fn, target_bits, *, input_shape=None, multipliers=None, rule: str = "friedland",
            max_multiplier: int = 4096) -> SizingReport:
    """Find the multiplier at which ``build_fn(multiplier)`` has the capacity ``target_bits``.

    Parameters
    ----------
    build_fn : callable
        ``build_fn(m) -> model`` builds the architecture at width (or depth) multiplier ``m``.
        Models are built without training; only their layer graphs are read.
    target_bits : int, ComplexityReport, Dataset or (X, y)
        The capacity to reach; data is turned into its expected complexity
        (:func:`nbdebug.complexity`).
    input_shape : tuple of int, optional
        Passed to :func:`capacity` for every candidate.
    multipliers : sequence of numbers, optional
        Candidates to try. By default integers are searched: 1, 2, 4, ... until the capacity
        reaches the target (or ``max_multiplier``), then bisection finds the smallest integer that
        reaches it, assuming capacity grows with the multiplier.
    rule : {"friedland", "paper"}
    max_multiplier : int
        Upper end of the default search.

    Returns
    -------
    SizingReport
        All candidates tried, the best one (smallest multiplier reaching the target) and a chart.
    """
    if not callable(build_fn):
        raise TypeError(f"build_fn: expected a callable taking a multiplier, got {type(build_fn).__name__}")
    check_choice(rule, "rule", RULES)
    target = _target_bits(target_bits)
    found: dict[float, CapacityReport] = {}

    def evaluate(m):
        key = float(m)
        if key not in found:
            try:
                model = build_fn(m)
            except Exception as exc:
                raise RuntimeError(f"build_fn: failed to build a model at multiplier {m!r}: {exc}") from exc
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                found[key] = capacity(model, input_shape, rule=rule)
            if caught and not any("unsupported" in w for w in notes):
                notes.append(str(caught[0].message))
        return found[key].total_bits

    notes: list[str] = []
    if multipliers is not None:
        values = sorted({float(m) for m in multipliers})
        if not values or any(not np.isfinite(v) or v <= 0 for v in values):
            raise ValueError(f"multipliers: expected positive numbers, got {list(multipliers)!r}")
        for v in values:
            evaluate(int(v) if v.is_integer() else v)
    else:
        max_multiplier = int(max_multiplier)
        if max_multiplier < 1:
            raise ValueError(f"max_multiplier: expected an integer >= 1, got {max_multiplier}")
        lo, hi = 0, 1
        while evaluate(hi) < target and hi < max_multiplier:
            lo, hi = hi, min(hi * 2, max_multiplier)
        if evaluate(hi) >= target:
            # smallest integer in (lo, hi] that reaches the target
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if evaluate(mid) >= target:
                    hi = mid
                else:
                    lo = mid
    keys = sorted(found)
    reports = [found[k] for k in keys]
    bits = np.array([r.total_bits for r in reports], dtype=np.int64)
    reaching = np.flatnonzero(bits >= target)
    if reaching.size:
        best = int(reaching[0])
    else:
        best = int(np.argmax(bits))
        notes.append(f"no candidate reaches {target:,} bits; the largest has {int(bits[best]):,} bits")
    if np.any(np.diff(bits) < 0):
        notes.append("capacity does not grow with the multiplier everywhere: the bisection may have missed "
                     "a smaller candidate; pass multipliers= to try them all")
    return SizingReport(
        multipliers=np.array(keys, dtype=np.float64), total_bits=bits,
        n_params=np.array([r.n_params for r in reports], dtype=np.int64), target_bits=target,
        best_index=best, reports=reports, rule=rule, warnings=notes,
    )
