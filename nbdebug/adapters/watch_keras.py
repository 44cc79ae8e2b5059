"""The Keras recorder behind ``nd.watch``: a callback that sees the real training step's gradients.

Keras compiles ``train_step`` into ``model.train_function`` and ``fit`` looks that attribute up at
every batch. When training begins the watcher builds a second train function (the same
``train_step``) while three wrappers are live, so that its trace also writes statistics into
variables the watcher owns:

- the optimizer's ``apply(grads, variables)``: per-variable ``sum|g|``, ``max|g|``, ``sum g^2``,
  NaN / Inf counts, ``||W||^2`` before and ``||dW||^2`` of the update;
- the watched layers' ``call`` (tier "full"): activation mean / std / dead fraction / NaN / Inf,
  a following ReLU layer (or the layer's own ``activation``) deciding what "dead" means;
- the model's ``compute_loss``: the step's loss (not the epoch's running mean shown in logs).

The wrappers add nothing to a trace unless the watcher is tracing its own function, so the
user's function is unchanged. At a recording step ``on_train_batch_begin`` swaps the recording
function in, ``on_train_batch_end`` reads the variables (one ``.numpy()`` each) and swaps the
user's function back. ``on_train_end`` (or leaving the ``with`` block) removes every wrapper and
leaves ``model.train_function`` as it was found.
"""
from __future__ import annotations

import functools

import numpy as np

from ..analysis.watch import RELU_FAMILY, STAT_INDEX, Watch, combine_parameter_sums


def _leaf_weight_layers(model):
    out = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if list(layer._flatten_layers(include_self=False, recursive=False)):
            continue
        if layer.trainable_weights:
            out.append(layer)
    return out


def _activation_name(layer) -> str | None:
    """The activation a layer applies (its own ``activation`` or a ReLU / Activation layer)."""
    kind = type(layer).__name__
    if kind == "ReLU":
        threshold = getattr(layer, "negative_slope", 0) or 0
        return "relu" if not threshold else "leakyrelu"
    if kind == "LeakyReLU":
        return "leakyrelu"
    act = getattr(layer, "activation", None)
    if callable(act):
        return getattr(act, "__name__", "").lower() or None
    return None


@functools.lru_cache(maxsize=None)
def _keras_watch_class():
    import keras
    from keras import ops

    def stats_of(t, relu: bool):
        a = ops.cast(ops.stop_gradient(t), "float32")
        flat = ops.reshape(a, (ops.shape(a)[0], -1)) if len(a.shape) > 1 else ops.reshape(a, (-1, 1))
        mean = ops.mean(a)
        std = ops.sqrt(ops.mean(ops.square(a - mean)))
        if relu:
            dead = ops.mean(ops.cast(ops.all(flat <= 0, axis=0), "float32"))
        else:
            dead = ops.convert_to_tensor(float("nan"), "float32")
        nan = ops.sum(ops.cast(ops.isnan(a), "float32"))
        inf = ops.sum(ops.cast(ops.isinf(a), "float32"))
        return ops.stack([mean, std, dead, nan, inf])

    class KerasWatch(Watch, keras.callbacks.Callback):
        """:class:`~nbdebug.analysis.watch.Watch` for a Keras model: pass it to ``fit(callbacks=[...])``."""

        def __init__(self, model, **settings):
            if not isinstance(model, keras.Model):
                raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
            if not model.built:
                raise ValueError("model: build the Keras model first (call it on a batch or give it an Input)")
            layers = _leaf_weight_layers(model)
            if not layers:
                raise ValueError("model: has no trainable weights to watch")
            names = [layer.name for layer in layers]
            super().__init__(names, [type(layer).__name__ for layer in layers], framework="keras", **settings)
            self._keras_model = model
            self._layers = layers
            self._variables = []
            owner = []
            for i, layer in enumerate(layers):
                for v in layer.trainable_weights:
                    self._variables.append(v)
                    owner.append(i)
            self._owner = np.asarray(owner, dtype=np.int64)
            self._var_row = {id(v): r for r, v in enumerate(self._variables)}
            self._var_path = {getattr(v, "path", None): r for r, v in enumerate(self._variables)}
            self._counts = np.asarray([int(np.prod(v.shape)) for v in self._variables], dtype=np.float64)
            self._activation_layers = [
                layer for layer in model._flatten_layers(include_self=False, recursive=True)
                if layer not in layers and not list(layer._flatten_layers(include_self=False, recursive=False))
                and _activation_name(layer) is not None
            ]
            self._installed = False
            self._tracing = False
            self._recording_step = None
            self._last = None

        # -- lifecycle ---------------------------------------------------------------------------
        def __enter__(self):
            self.running = True
            self._notify()
            return self

        def __exit__(self, exc_type, exc, tb):
            self.stop()
            return False

        def stop(self):
            """Remove the wrappers and restore ``model.train_function`` (idempotent)."""
            self._uninstall()
            self.running = False
            self._notify()

        def _install(self):
            if self._installed:
                return
            model = self._keras_model
            n_vars, n_layers = len(self._variables), len(self._layers)
            self._grad_store = keras.Variable(np.full((n_vars, 7), np.nan, "float32"), trainable=False,
                                              name="nbdebug_watch_grads")
            self._act_store = keras.Variable(np.full((n_layers, 5), np.nan, "float32"), trainable=False,
                                             name="nbdebug_watch_acts")
            self._loss_store = keras.Variable(np.float32(np.nan), trainable=False, name="nbdebug_watch_loss")
            self._wrapped = []
            optimizer = model.optimizer
            if optimizer is None:
                raise ValueError("model: compile the Keras model before fit (it has no optimizer)")
            self._wrap(optimizer, "apply", self._apply_wrapper(optimizer.apply))
            if "compute_loss" not in model.__dict__:
                self._wrap(model, "compute_loss", self._loss_wrapper(model.compute_loss))
            if self.tier == "full":
                for i, layer in enumerate(self._layers):
                    self._wrap(layer, "call", self._layer_wrapper(layer.call, i, _activation_name(layer)))
                for layer in self._activation_layers:
                    self._wrap(layer, "call", self._activation_wrapper(layer.call, _activation_name(layer)))
            self._user_function = model.train_function
            model.make_train_function(force=True)
            self._recording_function = model.train_function
            model.train_function = self._user_function
            self._installed = True

        def _wrap(self, obj, attr, wrapper):
            had = attr in obj.__dict__
            previous = obj.__dict__.get(attr)
            object.__setattr__(obj, attr, wrapper)
            self._wrapped.append((obj, attr, had, previous))

        def _uninstall(self):
            if not self._installed:
                return
            for obj, attr, had, previous in reversed(self._wrapped):
                if had:
                    object.__setattr__(obj, attr, previous)
                else:
                    object.__delattr__(obj, attr)
            self._wrapped = []
            self._keras_model.train_function = self._user_function
            self._recording_function = None
            self._tracing = False
            self._installed = False

        # -- wrappers (active only while the recording function is traced) -----------------------
        def _apply_wrapper(self, apply):
            @functools.wraps(apply)
            def wrapped(grads, trainable_variables=None):
                if not self._tracing:
                    return apply(grads, trainable_variables)
                variables = trainable_variables
                if variables is None:
                    variables = self._keras_model.optimizer._trainable_variables
                rows = [None] * len(self._variables)
                before = {}
                for g, v in zip(grads, variables):
                    r = self._var_row.get(id(v), self._var_path.get(getattr(v, "path", None)))
                    if r is None or g is None:
                        continue
                    g = ops.cast(ops.convert_to_tensor(g), "float32")
                    w = ops.cast(ops.copy(v.value), "float32")
                    before[r] = (v, w)
                    abs_g = ops.abs(g)
                    rows[r] = [ops.sum(abs_g), ops.max(abs_g), ops.sum(ops.square(g)),
                               ops.sum(ops.cast(ops.isnan(g), "float32")),
                               ops.sum(ops.cast(ops.isinf(g), "float32")), ops.sum(ops.square(w))]
                result = apply(grads, trainable_variables)
                nan = ops.convert_to_tensor(float("nan"), "float32")
                table = []
                for r in range(len(self._variables)):
                    if rows[r] is None:
                        table.append(ops.stack([nan] * 7))
                        continue
                    v, w = before[r]
                    dw = ops.sum(ops.square(ops.cast(v.value, "float32") - w))
                    table.append(ops.stack(rows[r] + [dw]))
                self._grad_store.assign(ops.stack(table))
                return result
            return wrapped

        def _loss_wrapper(self, compute_loss):
            @functools.wraps(compute_loss)
            def wrapped(*args, **kwargs):
                loss = compute_loss(*args, **kwargs)
                if self._tracing:
                    self._loss_store.assign(ops.cast(ops.stop_gradient(loss), "float32"))
                return loss
            return wrapped

        def _store_act(self, index: int, stats):
            self._act_store.assign(ops.slice_update(self._act_store.value, (index, 0), ops.reshape(stats, (1, 5))))

        def _layer_wrapper(self, call, index: int, activation: str | None):
            relu = activation in RELU_FAMILY

            @functools.wraps(call)
            def wrapped(*args, **kwargs):
                out = call(*args, **kwargs)
                if self._tracing and hasattr(out, "shape") and len(out.shape) >= 1:
                    self._store_act(index, stats_of(out, relu))
                    self._last = (index, tuple(out.shape))
                return out
            return wrapped

        def _activation_wrapper(self, call, activation: str):
            relu = activation in RELU_FAMILY

            @functools.wraps(call)
            def wrapped(*args, **kwargs):
                out = call(*args, **kwargs)
                last, self._last = self._last, None
                # the activation right after a watched layer, on a tensor of that layer's shape,
                # is that layer's activation (Conv2D then ReLU)
                if self._tracing and last is not None and tuple(out.shape) == last[1]:
                    self._store_act(last[0], stats_of(out, relu))
                return out
            return wrapped

        # -- callback ---------------------------------------------------------------------------
        def on_train_begin(self, logs=None):
            self.running = True
            self._install()
            self._notify()

        def on_train_batch_begin(self, batch, logs=None):
            step = self._next_step()
            if self.is_recording(step):
                self._recording_step = step
                self._act_store.assign(np.full((len(self._layers), 5), np.nan, "float32"))
                self._grad_store.assign(np.full((len(self._variables), 7), np.nan, "float32"))
                self._loss_store.assign(np.float32(np.nan))
                self._tracing = True
                self._last = None
                self._keras_model.train_function = self._recording_function
            else:
                self._recording_step = None
                self._keras_model.train_function = self._user_function

        def on_train_batch_end(self, batch, logs=None):
            step = self._recording_step
            if step is None:
                return
            self._recording_step = None
            self._tracing = False
            self._keras_model.train_function = self._user_function
            grads = np.asarray(self._grad_store.numpy(), dtype=np.float64)
            acts = np.asarray(self._act_store.numpy(), dtype=np.float64)
            loss = float(self._loss_store.numpy())
            if np.isnan(loss) and logs and "loss" in logs:
                # a custom train_step that bypasses compute_loss: the logs hold the epoch's mean
                loss = float(logs["loss"])
            sums = np.concatenate([grads, self._counts[:, None]], axis=1)
            values = combine_parameter_sums(self._owner, sums, len(self.layers))
            for k, name in enumerate(("act_mean", "act_std", "dead_fraction", "act_nan", "act_inf")):
                values[:, STAT_INDEX[name]] = acts[:, k]
            self._append(step, values, loss)

        def on_train_end(self, logs=None):
            self.stop()

    return KerasWatch


def keras_watch(model, **settings):
    """Build the Keras watcher (``nd.watch`` dispatches here for Keras models)."""
    return _keras_watch_class()(model, **settings)
