"""Framework-neutral protocol for models: the layer graph, predictions, gradients, a guard."""
from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

# Layer categories the analyses reason about. ``kind`` keeps the framework's own class name
# ("Conv2d", "Dense") because that is what users recognise; ``category`` groups them.
_CATEGORY_PATTERNS = [
    ("input", r"^(input|inputlayer|placeholder)$"),
    ("attention", r"attention"),
    ("recurrent", r"^(lstm|gru|rnn|simplernn|lstmcell|grucell|rnncell|simplernncell|bidirectional|convlstm\d?d?)$"),
    ("conv", r"^(conv|separableconv|depthwiseconv|lazyconv)"),
    ("dense", r"^(linear|lazylinear|bilinear|dense|einsumdense|linear_)$"),
    ("embedding", r"^embedding"),
    ("norm", r"(batchnorm|layernorm|groupnorm|instancenorm|rmsnorm|localresponsenorm|normalization|unitnormalization|spectralnorm)"),
    ("pool", r"(pool|pooling)"),
    ("merge", r"^(add|iadd|sub|subtract|mul|multiply|cat|concat|concatenate|stack|average|maximum|minimum|dot|matmul|bmm|einsum)$"),
    ("dropout", r"(dropout|gaussiannoise|gaussiandropout)"),
    ("activation", r"^(relu\d*|relu6|leakyrelu|leaky_relu|prelu|elu|selu|celu|gelu|silu|swish|mish|sigmoid|hardsigmoid|tanh|hardtanh|hardswish|softmax|logsoftmax|log_softmax|softplus|softsign|activation|threshold|glu|logsigmoid|tanhshrink|softmin)$"),
    ("reshape", r"^(flatten|unflatten|reshape|view|permute|transpose|squeeze|unsqueeze|contiguous|identity|zeropadding\dd|zeropad\dd|cropping\dd|upsample|upsampling\dd|pixelshuffle|repeatvector|expand|getitem|chunk|split|size|narrow|float|to|type_as|clone|detach|pad|interpolate|upsamplingnearest2d|upsamplingbilinear2d|resizing|rescaling)$"),
]
_CATEGORY_RES = [(cat, re.compile(p)) for cat, p in _CATEGORY_PATTERNS]


def layer_category(kind: str) -> str:
    """Map a framework class or function name to a category (``"other"`` when unknown)."""
    key = kind.lower().replace("_", "") if kind.lower() not in ("leaky_relu", "log_softmax") else kind.lower()
    for cat, rx in _CATEGORY_RES:
        if rx.search(key):
            return cat
    return "other"


@dataclass(eq=False)
class LayerNode:
    """One node of a model's layer graph.

    Attributes
    ----------
    name : str
        Unique name in the graph (torch: module path or traced op name; Keras: layer name;
        a layer called more than once gets ``name#2``, ``name#3`` for its later calls).
    kind : str
        The framework's class name (``"Conv2d"``, ``"Dense"``) or function name (``"add"``).
    params : int
        Trainable parameters owned by this node (weights and biases).
    output_shape : tuple
        Output shape without the batch dimension (first output when there are several).
    inbound : list of str
        Names of the nodes whose outputs feed this node (empty for inputs).
    category : str
        One of input, dense, conv, recurrent, attention, embedding, norm, pool, merge, dropout,
        activation, reshape, other.
    params_non_trainable : int
        Frozen parameters (and buffers that are weights in Keras, e.g. batch-norm statistics).
    owner : str
        The module / layer that owns the parameters; equal for every call of a shared layer, so
        analyses can count shared weights once.
    call_index : int
        0 for the first call of a layer, 1 for the second, ...
    details : dict
        Framework facts useful for display (units, kernel size, activation, ...).
    """

    name: str
    kind: str
    params: int
    output_shape: tuple
    inbound: list
    category: str = "other"
    params_non_trainable: int = 0
    owner: str = ""
    call_index: int = 0
    details: dict = field(default_factory=dict)

    @property
    def units_out(self) -> int:
        """Number of output units: the product of the output shape."""
        return int(np.prod(self.output_shape)) if self.output_shape else 0

    @property
    def shared(self) -> bool:
        return self.call_index > 0

    def __repr__(self) -> str:
        inbound = ", ".join(self.inbound)
        return f"LayerNode({self.name!r}, {self.kind}, params={self.params}, out={self.output_shape}, in=[{inbound}])"


class ModelAdapter(abc.ABC):
    """What analyses need from a model, whatever its framework.

    Obtain one with :func:`nbdebug.as_model`. Every method leaves the user's model exactly as it
    was found (weights, train/eval mode, ``requires_grad``, hooks, device).
    """

    framework: str = ""

    def __init__(self, model: Any, input_shape: tuple | None = None, output: str = "auto"):
        if output not in ("auto", "logits", "probs", "log_probs"):
            raise ValueError(f"output: expected 'auto', 'logits', 'probs' or 'log_probs'; got {output!r}")
        self.model = model
        self.input_shape = tuple(int(s) for s in input_shape) if input_shape is not None else None
        if self.input_shape is not None and any(s <= 0 for s in self.input_shape):
            raise ValueError(f"input_shape: every dimension must be positive, got {self.input_shape}")
        self._output = output
        self._layers: list[LayerNode] | None = None

    # -- graph ----------------------------------------------------------------------------------
    @property
    def layers(self) -> list[LayerNode]:
        """The layer graph in execution (topological) order."""
        if self._layers is None:
            self._layers = self._build_graph()
        return self._layers

    @abc.abstractmethod
    def _build_graph(self) -> list[LayerNode]:
        ...

    #: how the graph was found: "fx", "hooks", "keras-graph", "keras-calls"
    graph_source: str = ""

    def layer(self, name: str) -> LayerNode:
        for node in self.layers:
            if node.name == name:
                return node
        raise KeyError(f"layer: no layer named {name!r}; layers are {[n.name for n in self.layers]}")

    @property
    def name(self) -> str:
        return getattr(self.model, "name", None) or type(self.model).__name__

    @property
    @abc.abstractmethod
    def n_params(self) -> int:
        """Trainable parameters of the whole model (shared weights counted once)."""

    @property
    @abc.abstractmethod
    def n_params_non_trainable(self) -> int:
        ...

    # -- computation ----------------------------------------------------------------------------
    @abc.abstractmethod
    def predict_proba(self, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape (n, K), for a numpy batch in the model's input layout."""

    @abc.abstractmethod
    def loss_input_gradient(self, x: np.ndarray, y: np.ndarray, *, batch_size: int = 256):
        """Per-sample cross-entropy loss and its gradient with respect to the input.

        Returns
        -------
        loss : ndarray, shape (n,)
        grad : ndarray, same shape as ``x``
        """

    @abc.abstractmethod
    def activations(self, x: np.ndarray, layer: str, *, batch_size: int = 256) -> np.ndarray:
        """Outputs of ``layer`` for a numpy batch, shape (n, ...)."""

    @abc.abstractmethod
    def guard(self, *, weights: bool = False) -> Iterator[None]:
        """Context manager restoring the model's state on exit, also after errors/interrupts."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, layers={len(self.layers)}, params={self.n_params:,})"


def probabilities_from_outputs(out: np.ndarray, output: str) -> np.ndarray:
    """Turn raw model outputs into (n, K) probabilities; one sigmoid output becomes two classes."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    out = out.reshape(out.shape[0], -1)
    if out.shape[1] == 1:
        p = out[:, 0] if output == "probs" else 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if output == "probs":
        return out
    if output == "log_probs":
        return np.exp(out)
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
