"""Keras 3 model adapter (TensorFlow or torch backend). Keras is imported only here."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .base import LayerNode, ModelAdapter, layer_category, probabilities_from_outputs


def _shape(value) -> tuple:
    shape = getattr(value, "shape", None)
    if shape is None and isinstance(value, (list, tuple)) and value:
        return _shape(value[0])
    if shape is None:
        return ()
    return tuple(int(s) if s is not None else -1 for s in tuple(shape)[1:])


def _weights_count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _details(layer) -> dict:
    details = {}
    for attr in ("units", "filters", "kernel_size", "strides", "padding", "rate", "pool_size",
                 "num_heads", "key_dim", "input_dim", "output_dim"):
        value = getattr(layer, attr, None)
        if isinstance(value, (int, float, tuple, str)) and not isinstance(value, bool):
            details[attr] = value
    act = getattr(layer, "activation", None)
    if callable(act):
        details["activation"] = getattr(act, "__name__", str(act))
    return details


def _leaf_layers(model):
    out = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not list(layer._flatten_layers(include_self=False, recursive=False)):
            out.append(layer)
    return out


class KerasModel(ModelAdapter):
    """Adapter for a Keras 3 ``Model`` (Sequential, functional, or subclassed once built).

    Sequential and functional models expose their graph: every call of a layer is a node, with
    its inbound layers, so branches, skip connections and shared layers are exact. A subclassed
    model has no graph; its leaf layers are observed while a zero batch runs through ``call``
    (each layer's ``call`` is wrapped for that one pass and unwrapped afterwards), which gives
    call order and output shapes; inbound edges are found by matching tensors.
    """

    framework = "keras"

    def __init__(self, model, input_shape=None, output="auto"):
        super().__init__(model, input_shape, output)
        import keras

        self._keras = keras
        if not model.built:
            if self.input_shape is None:
                raise ValueError(
                    "input_shape: this Keras model is not built yet; pass input_shape (one sample, "
                    "channels last, no batch) or call the model on a batch first"
                )
            with self.guard():
                model(keras.ops.zeros((1, *self.input_shape)))

    def _graph_model(self):
        model = self.model
        if isinstance(model, self._keras.Sequential):
            return getattr(model, "_functional", None)
        if getattr(model, "_nodes_by_depth", None) and hasattr(model, "_operations"):
            return model
        return None

    @property
    def n_params(self) -> int:
        return _weights_count(self.model.trainable_weights)

    @property
    def n_params_non_trainable(self) -> int:
        return _weights_count(self.model.non_trainable_weights)

    def _input_shape(self) -> tuple:
        if self.input_shape is not None:
            return self.input_shape
        inputs = getattr(self.model, "inputs", None)
        if inputs:
            return _shape(inputs[0])
        shape = getattr(self.model, "_build_shapes_dict", None) or {}
        for value in shape.values():
            return tuple(int(s) for s in tuple(value)[1:])
        raise ValueError("input_shape: could not be read from this Keras model; pass it explicitly")

    # -- guard ----------------------------------------------------------------------------------
    @contextmanager
    def guard(self, *, weights: bool = False):
        """Restore every layer's ``trainable`` flag and any wrapped ``call`` (and weights on request)."""
        layers = list(self.model._flatten_layers(include_self=True, recursive=True))
        trainable = [layer.trainable for layer in layers]
        saved = [v.numpy().copy() for v in self.model.weights] if weights else None
        try:
            yield
        finally:
            for layer, flag in zip(layers, trainable):
                if layer.trainable != flag:
                    layer.trainable = flag
                if "call" in layer.__dict__:
                    object.__delattr__(layer, "call")
            if saved is not None:
                for v, value in zip(self.model.weights, saved):
                    v.assign(value)

    # -- graph ----------------------------------------------------------------------------------
    def _build_graph(self) -> list[LayerNode]:
        graph = self._graph_model()
        if graph is not None:
            self.graph_source = "keras-graph"
            return self._graph_nodes(graph)
        self.graph_source = "keras-calls"
        return self._call_nodes()

    def _graph_nodes(self, graph) -> list[LayerNode]:
        nodes = []
        for depth in sorted(graph._nodes_by_depth, reverse=True):
            nodes.extend(graph._nodes_by_depth[depth])
        # nodes at one depth come in no particular order; keep the layers' declaration order
        order = {id(layer): i for i, layer in enumerate(graph.layers)}
        depth_of = {id(n): d for d, ns in graph._nodes_by_depth.items() for n in ns}
        nodes.sort(key=lambda n: (-depth_of[id(n)], order.get(id(n.operation), 0)))
        names: dict[int, str] = {}
        calls: dict[str, int] = {}
        out = []
        for node in nodes:
            layer = node.operation
            owner = layer.name
            index = calls.get(owner, 0)
            calls[owner] = index + 1
            name = owner if index == 0 else f"{owner}#{index + 1}"
            names[id(node)] = name
            kind = type(layer).__name__
            inbound = [names[id(p)] for p in node.parent_nodes if id(p) in names]
            outputs = node.outputs if hasattr(node, "outputs") else None
            shape = _shape(outputs[0]) if outputs else _shape(getattr(layer, "output", None))
            out.append(LayerNode(
                name=name, kind=kind, params=_weights_count(layer.trainable_weights) if index == 0 else 0,
                output_shape=shape, inbound=inbound, category=layer_category(kind),
                params_non_trainable=_weights_count(layer.non_trainable_weights) if index == 0 else 0,
                owner=owner, call_index=index, details=_details(layer),
            ))
        return out

    def _call_nodes(self) -> list[LayerNode]:
        keras = self._keras
        leaves = _leaf_layers(self.model)
        records = []
        producer: dict[int, tuple] = {}  # id -> (layer name, tensor kept alive so ids are not reused)
        calls: dict[str, int] = {}
        example = keras.ops.zeros((1, *self._input_shape()))
        producer[id(example)] = ("input", example)

        def wrap(layer):
            original = type(layer).call

            def call(*args, **kwargs):
                result = original(layer, *args, **kwargs)
                owner = layer.name
                index = calls.get(owner, 0)
                calls[owner] = index + 1
                name = owner if index == 0 else f"{owner}#{index + 1}"
                inbound = []
                for a in args:
                    src = producer[id(a)][0] if id(a) in producer else (records[-1][0] if records else "input")
                    if src not in inbound:
                        inbound.append(src)
                first = result[0] if isinstance(result, (list, tuple)) else result
                producer[id(first)] = (name, first)
                records.append((name, layer, index, _shape(result), inbound))
                return result

            return call

        with self.guard():
            for layer in leaves:
                object.__setattr__(layer, "call", wrap(layer))
            self.model(example, training=False)
        out = [LayerNode("input", "InputLayer", 0, tuple(self._input_shape()), [], "input", owner="input")]
        for name, layer, index, shape, inbound in records:
            kind = type(layer).__name__
            out.append(LayerNode(
                name, kind, _weights_count(layer.trainable_weights) if index == 0 else 0, shape,
                inbound or ["input"], layer_category(kind),
                _weights_count(layer.non_trainable_weights) if index == 0 else 0, layer.name, index, _details(layer),
            ))
        return out

    # -- computation ----------------------------------------------------------------------------
    def _output_kind(self) -> str:
        if self._output != "auto":
            return self._output
        last = _leaf_layers(self.model)[-1] if _leaf_layers(self.model) else None
        graph = self._graph_model()
        if graph is not None and getattr(graph, "outputs", None):
            history = getattr(graph.outputs[0], "_keras_history", None)
            if history is not None:
                last = history[0]
        act = getattr(last, "activation", None)
        act_name = getattr(act, "__name__", "") if callable(act) else ""
        if type(last).__name__ == "Softmax" or act_name in ("softmax", "sigmoid"):
            return "probs"
        if act_name == "log_softmax":
            return "log_probs"
        return "logits"

    def _forward(self, x):
        return self.model(x, training=False)

    def predict_proba(self, x, *, batch_size=256):
        keras = self._keras
        x = np.asarray(x)
        chunks = []
        with self.guard():
            for start in range(0, len(x), batch_size):
                out = self._forward(keras.ops.convert_to_tensor(x[start:start + batch_size]))
                chunks.append(np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64))
        return probabilities_from_outputs(np.concatenate(chunks), self._output_kind())

    def loss_input_gradient(self, x, y, *, batch_size=256):
        keras = self._keras
        backend = keras.backend.backend()
        x = np.asarray(x)
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"y: has {len(y)} labels for {len(x)} inputs")
        if backend != "tensorflow":
            raise TypeError(
                f"model: input gradients of Keras models are supported on the TensorFlow backend; "
                f"this Keras runs on {backend!r} (set KERAS_BACKEND=tensorflow)"
            )
        import tensorflow as tf

        kind = self._output_kind()
        losses, grads = [], []
        with self.guard():
            for start in range(0, len(x), batch_size):
                xt = tf.convert_to_tensor(x[start:start + batch_size].astype(np.float32))
                yt = tf.convert_to_tensor(y[start:start + batch_size].astype(np.int64))
                with tf.GradientTape() as tape:
                    tape.watch(xt)
                    out = self._forward(xt)
                    loss = keras_loss(out, yt, kind)
                grads.append(tape.gradient(loss, xt).numpy())
                losses.append(loss.numpy())
        return np.concatenate(losses), np.concatenate(grads).astype(x.dtype if x.dtype.kind == "f" else np.float32)

    def activations(self, x, layer, *, batch_size=256):
        keras = self._keras
        leaves = {lay.name: lay for lay in self.model._flatten_layers(include_self=False, recursive=True)}
        if layer not in leaves:
            raise ValueError(f"layer: {layer!r} is not a layer of the model; choose one of {list(leaves)}")
        target = leaves[layer]
        captured = []
        original = type(target).call

        def call(*args, **kwargs):
            result = original(target, *args, **kwargs)
            first = result[0] if isinstance(result, (list, tuple)) else result
            captured.append(np.asarray(keras.ops.convert_to_numpy(first), dtype=np.float32))
            return result

        x = np.asarray(x)
        with self.guard():
            object.__setattr__(target, "call", call)
            for start in range(0, len(x), batch_size):
                self._forward(keras.ops.convert_to_tensor(x[start:start + batch_size]))
        return np.concatenate(captured)


def keras_loss(out, y, kind: str):
    """Per-sample cross-entropy of raw outputs ``out`` (TensorFlow tensors)."""
    import tensorflow as tf

    out = tf.cast(out, tf.float32)
    if out.shape[-1] == 1:
        out = tf.reshape(out, [-1])
        yf = tf.cast(y, tf.float32)
        if kind == "probs":
            p = tf.clip_by_value(out, 1e-12, 1 - 1e-12)
            return -(yf * tf.math.log(p) + (1 - yf) * tf.math.log(1 - p))
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=yf, logits=out)
    if kind == "probs":
        out = tf.math.log(tf.clip_by_value(out, 1e-12, 1.0))
        kind = "log_probs"
    if kind == "log_probs":
        return -tf.gather(out, y, axis=1, batch_dims=1)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
