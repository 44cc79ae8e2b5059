"""nd.watch: statistics against slow obvious references, hook hygiene, flags, save/load, widget."""
from __future__ import annotations

import copy
import os
import threading

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nbdebug as nd  # noqa: E402
from nbdebug.analysis.watch import STAT_NAMES, Watch  # noqa: E402

from . import zoo  # noqa: E402

torch = pytest.importorskip("torch")
nn = torch.nn


# -- helpers --------------------------------------------------------------------------------------
def _batches(n_steps, shape, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(16, *shape)).astype("float32"), rng.integers(0, n_classes, 16)) for _ in range(n_steps)]


def _train_torch(model, batches, flow=None, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for x, y in batches:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y))
        loss.backward()
        opt.step()
        if flow is not None:
            flow.log(loss=loss)


def _weight_layers(model):
    return [(name, m) for name, m in model.named_modules() if list(m.parameters(recurse=False))]


def _torch_reference(model, x, y, lr=0.1):
    """One SGD step done by hand; per-layer statistics computed the obvious way."""
    model = copy.deepcopy(model)
    layers = _weight_layers(model)
    outputs = {}
    handles = [m.register_forward_hook(lambda m, a, o, name=name: outputs.__setitem__(name, o.detach().clone()))
               for name, m in layers]
    loss = nn.functional.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y))
    loss.backward()
    for h in handles:
        h.remove()
    ref = {}
    for name, m in layers:
        ps = list(m.parameters(recurse=False))
        g = torch.cat([p.grad.flatten() for p in ps]).double().numpy()
        w = torch.cat([p.detach().flatten() for p in ps]).double().numpy()
        dw = -lr * g
        ref[name] = {
            "grad_mean_abs": np.abs(g).mean(), "grad_max_abs": np.abs(g).max(), "grad_norm": np.sqrt((g ** 2).sum()),
            "weight_norm": np.sqrt((w ** 2).sum()), "update_ratio": np.sqrt((dw ** 2).sum()) / np.sqrt((w ** 2).sum()),
            "output": outputs[name].double().numpy(),
        }
    return ref, float(loss.detach())


def _act_reference(a, relu):
    a = np.asarray(a, dtype=np.float64)
    flat = a.reshape(a.shape[0], -1)
    dead = float((flat <= 0).all(axis=0).mean()) if relu else np.nan
    return {"act_mean": a.mean(), "act_std": a.std(), "dead_fraction": dead}


def _assert_no_torch_hooks(model):
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert not m._backward_hooks
    for p in model.parameters():
        assert not getattr(p, "_post_accumulate_grad_hooks", None)


# -- torch: statistics against the reference -----------------------------------------------------
def test_torch_sequential_statistics_match_reference():
    model = zoo.torch_mlp()
    batches = _batches(3, (4,), 3)
    before = copy.deepcopy(model)
    refs = []
    for x, y in batches:  # replay the same steps by hand on a copy
        refs.append(_torch_reference(before, x, y))
        _train_torch(before, [(x, y)])
    with nd.watch(model, every=1) as flow:
        _train_torch(model, batches, flow)
    assert flow.layers == ["0", "2"] and flow.kinds == ["Linear", "Linear"]
    assert list(flow.history.steps) == [0, 1, 2]
    for k, (ref, loss) in enumerate(refs):
        assert flow.history.loss[k] == pytest.approx(loss, rel=1e-6)
        for i, layer in enumerate(flow.layers):
            for stat in ("grad_mean_abs", "grad_max_abs", "grad_norm", "weight_norm", "update_ratio"):
                assert flow.history[stat][k, i] == pytest.approx(ref[layer][stat], rel=1e-5), (k, layer, stat)
        # layer "0" is followed by nn.ReLU: its activation is the ReLU's output; "2" is the logits
        act0 = _act_reference(np.maximum(ref["0"]["output"], 0), relu=True)
        act2 = _act_reference(ref["2"]["output"], relu=False)
        for stat in ("act_mean", "act_std"):
            assert flow.history[stat][k, 0] == pytest.approx(act0[stat], rel=1e-5, abs=1e-7)
            assert flow.history[stat][k, 1] == pytest.approx(act2[stat], rel=1e-5, abs=1e-7)
        assert flow.history["dead_fraction"][k, 0] == pytest.approx(act0["dead_fraction"])
        assert np.isnan(flow.history["dead_fraction"][k, 1])
        assert flow.history["grad_nan"][k].sum() == 0 and flow.history["act_inf"][k].sum() == 0


@pytest.mark.parametrize("builder,shape,n_classes", [(zoo.torch_residual, (1, 8, 8), 10), (zoo.torch_shared, (4,), 2)])
def test_torch_skip_and_subclassed_gradients_match_reference(builder, shape, n_classes):
    model = builder()
    (x, y), = _batches(1, shape, n_classes)
    ref, _ = _torch_reference(model, x, y)
    with nd.watch(model, every=1) as flow:
        _train_torch(model, [(x, y)], flow)
    assert flow.layers == [name for name, _ in _weight_layers(model)]
    for i, layer in enumerate(flow.layers):
        for stat in ("grad_mean_abs", "grad_max_abs", "grad_norm", "weight_norm", "update_ratio"):
            assert flow.history[stat][0, i] == pytest.approx(ref[layer][stat], rel=1e-5), (layer, stat)
    if builder is zoo.torch_residual:  # conv_a's output: no activation module follows it
        act = _act_reference(ref["conv_a"]["output"], relu=False)
        i = flow.layers.index("conv_a")
        assert flow.history["act_mean"][0, i] == pytest.approx(act["act_mean"], rel=1e-5, abs=1e-7)
        assert flow.history["act_std"][0, i] == pytest.approx(act["act_std"], rel=1e-5)


def test_torch_watch_leaves_model_and_training_untouched():
    batches = _batches(4, (4,), 3)
    plain, watched = zoo.torch_mlp(), zoo.torch_mlp()
    watched[2].weight.requires_grad_(True)
    watched.eval()  # a mode the watcher must not change (and eval passes are not steps)
    modes = [m.training for m in watched.modules()]
    with nd.watch(watched, every=1) as flow:
        watched.train()
        _train_torch(watched, batches, flow)
        watched.eval()
    _train_torch(plain, batches)
    for a, b in zip(plain.parameters(), watched.parameters()):
        assert torch.equal(a, b)  # the watcher does not change the training
    assert [m.training for m in watched.modules()] == modes
    assert all(p.requires_grad for p in watched.parameters())
    _assert_no_torch_hooks(watched)


def test_torch_hooks_removed_after_exception_inside_block():
    model = zoo.torch_mlp()
    model[0].bias.requires_grad_(False)
    with pytest.raises(RuntimeError, match="boom"):
        with nd.watch(model, every=1) as flow:
            out = model(torch.zeros(2, 4))
            out.sum().backward()  # armed hooks of a recording step are live here
            raise RuntimeError("boom")
    _assert_no_torch_hooks(model)
    assert model.training and not model[0].bias.requires_grad and model[0].weight.requires_grad
    assert not flow.running and flow.step == 1


def test_torch_schedule_tiers_and_eval_passes():
    model = zoo.torch_mlp()
    batches = _batches(7, (4,), 3)
    with nd.watch(model, every=3, tier="light") as flow:
        _train_torch(model, batches, flow)
        with torch.no_grad():
            model(torch.zeros(2, 4))  # evaluation: not a training step
    assert flow.step == 7 and list(flow.history.steps) == [0, 3, 6]
    assert np.isnan(flow.history["act_mean"]).all() and np.isfinite(flow.history["grad_norm"]).all()
    model = zoo.torch_mlp()
    with nd.watch(model, every=lambda s: s in (1, 2)) as flow:
        _train_torch(model, batches[:4], flow)
    assert list(flow.history.steps) == [1, 2]
    assert np.isfinite(flow.history.loss).all()


def test_torch_background_thread_training():
    model = zoo.torch_mlp()
    batches = _batches(6, (4,), 3)
    with nd.watch(model, every=1) as flow:
        seen = []
        flow._listeners.append(lambda: seen.append(len(flow.history)))
        worker = threading.Thread(target=_train_torch, args=(model, batches, flow))
        worker.start()
        worker.join()
    assert len(flow.history) == 6 and seen[-1] == 6


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        nd.watch(zoo.torch_mlp(), every=0)
    with pytest.raises(TypeError, match="every"):
        nd.watch(zoo.torch_mlp(), every=1.5)
    with pytest.raises(ValueError, match="tier"):
        nd.watch(zoo.torch_mlp(), tier="heavy")
    with pytest.raises(ValueError, match="vanishing_ratio"):
        nd.watch(zoo.torch_mlp(), vanishing_ratio=2)
    with pytest.raises(TypeError, match="model"):
        nd.watch(object())
    with pytest.raises(ValueError, match="trainable"):
        nd.watch(nn.Sequential(nn.ReLU()))
    with pytest.raises(KeyError, match="stat"):
        Watch(["a"], ["Linear"]).history["nope"]


# -- flags ---------------------------------------------------------------------------------------
def _deep_sigmoid(depth=16, width=16, seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(depth):
        layers += [nn.Linear(4 if i == 0 else width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, 3))


def test_flag_vanishing_in_deep_sigmoid_net():
    model = _deep_sigmoid()
    with nd.watch(model, every=1) as flow:
        _train_torch(model, _batches(5, (4,), 3), flow)
    vanishing = [f for f in flow.flags if f.kind == "vanishing"]
    assert vanishing and vanishing[0].layer == "0" and vanishing[0].step == 0
    # the flagged layers are the early ones, and their gradients are really that small
    grad = flow.history["grad_mean_abs"]
    small = grad / grad[:, -1:] < 1e-3
    flagged = {flow.layers.index(f.layer) for f in vanishing}
    assert set(np.flatnonzero(small[-3:].all(axis=0))) <= flagged <= set(np.flatnonzero(small.any(axis=0)))
    assert len(flagged) >= 8
    assert "vanish" in flow.summary()


def test_flag_nan_injected_names_step_and_source():
    model = zoo.torch_mlp()
    batches = _batches(6, (4,), 3)
    batches[3][0][0, 0] = np.nan
    with nd.watch(model, every=1) as flow:
        _train_torch(model, batches, flow)
    nan = [f for f in flow.flags if f.kind == "nan"]
    assert len(nan) == 1 and nan[0].step == 3 and nan[0].layer == "0"  # forward: the first layer
    assert flow.history["act_nan"][3, 0] > 0 and flow.history["grad_nan"][3].sum() > 0


def test_flag_dead_relu_layer_and_exploding():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        model[2].bias.fill_(-100.0)
    with nd.watch(model, every=1) as flow:
        _train_torch(model, _batches(4, (4,), 3), flow)
    dead = [f for f in flow.flags if f.kind == "dead"]
    assert [(f.layer, f.step) for f in dead] == [("2", 0)] and dead[0].value == 1.0

    # gradients that grow 100-fold per step (as when a run diverges): exploding once they are
    # 1000x the layer's first records, in every layer, from the step where the run of records began
    model = zoo.torch_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with nd.watch(model, every=1, patience=1) as flow:
        for step, (x, y) in enumerate(_batches(7, (4,), 3)):
            opt.zero_grad()
            (100.0 ** step * nn.functional.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y))).backward()
            opt.step()
    exploding = [f for f in flow.flags if f.kind == "exploding"]
    assert [(f.layer, f.step) for f in exploding] == [("0", 3), ("2", 3)]


def test_healthy_net_raises_no_flags():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    with nd.watch(model, every=1) as flow:
        _train_torch(model, _batches(20, (4,), 3), flow, lr=0.05)
    assert flow.flags == [] and "no problems" in flow.summary()


# -- ring buffer, save / load --------------------------------------------------------------------
def test_ring_buffer_bound_keeps_newest_and_flags(tmp_path):
    model = zoo.torch_mlp()
    batches = _batches(12, (4,), 3)
    batches[1][0][0, 0] = np.nan
    with nd.watch(model, every=1, max_records=5) as flow:
        _train_torch(model, batches, flow)
    assert len(flow.history) == 5 and flow.history.n_dropped == 7
    assert list(flow.history.steps) == [7, 8, 9, 10, 11]
    assert flow.history.values.shape == (5, 2, len(STAT_NAMES))
    assert [f.step for f in flow.flags if f.kind == "nan"] == [1]  # outlives its records
    loaded = Watch.load(flow.save(tmp_path / "run.npz"))
    np.testing.assert_array_equal(loaded.history.steps, flow.history.steps)
    loaded.history.append(12, flow.history.values[-1])  # the ring continues in order after loading
    assert list(loaded.history.steps) == [8, 9, 10, 11, 12]


def test_save_load_round_trip(tmp_path):
    model = _deep_sigmoid(depth=6)
    with nd.watch(model, every=2, name="sig6", vanishing_ratio=0.5) as flow:
        _train_torch(model, _batches(9, (4,), 3), flow)
    path = flow.save(tmp_path / "flow.npz")
    loaded = Watch.load(path)
    np.testing.assert_array_equal(loaded.history.values, flow.history.values)
    np.testing.assert_array_equal(loaded.history.loss, flow.history.loss)
    np.testing.assert_array_equal(loaded.history.steps, flow.history.steps)
    assert loaded.layers == flow.layers and loaded.kinds == flow.kinds and loaded.name == "sig6"
    assert [f.to_dict() for f in loaded.flags] == [f.to_dict() for f in flow.flags] and loaded.flags
    assert loaded.step == flow.step and loaded.thresholds == flow.thresholds
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="path"):
        Watch.load(tmp_path / "bad.npz")


def test_to_frame_and_history_at():
    model = zoo.torch_mlp()
    with nd.watch(model, every=2) as flow:
        _train_torch(model, _batches(5, (4,), 3), flow)
    frame = flow.to_frame()
    assert len(frame) == 3 * 2 and list(frame.columns[:2]) == ["step", "layer"]
    assert frame["grad_norm"].iloc[-1] == flow.history["grad_norm"][-1, -1]
    at = flow.history.at(3)  # step 3 was not recorded: the record before it (step 2)
    np.testing.assert_array_equal(at["grad_norm"], flow.history["grad_norm"][1])


# -- Keras ---------------------------------------------------------------------------------------
keras = pytest.importorskip("keras")


def _keras_compile(model, lr=0.1, jit_compile="auto"):
    model.compile(optimizer=keras.optimizers.SGD(lr), jit_compile=jit_compile,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _keras_reference(model, x, y, lr=0.1):
    import tensorflow as tf

    ref_model = model  # the tape applies nothing (batch-norm moving statistics are not compared)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = [v.numpy().astype(np.float64) for v in ref_model.trainable_weights]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, ref_model(x, training=True))
    grads = tape.gradient(loss, ref_model.trainable_weights)
    owner = {}
    for layer in ref_model._flatten_layers(include_self=False, recursive=True):
        for v in layer.trainable_weights:
            owner.setdefault(id(v), layer.name)
    ref = {}
    for v, g, w in zip(ref_model.trainable_weights, grads, weights):
        ref.setdefault(owner[id(v)], []).append((g.numpy().astype(np.float64).ravel(), w.ravel()))
    out = {}
    for name, pairs in ref.items():
        g = np.concatenate([p[0] for p in pairs])
        w = np.concatenate([p[1] for p in pairs])
        out[name] = {"grad_mean_abs": np.abs(g).mean(), "grad_max_abs": np.abs(g).max(),
                     "grad_norm": np.linalg.norm(g), "weight_norm": np.linalg.norm(w),
                     "update_ratio": lr * np.linalg.norm(g) / np.linalg.norm(w)}
    return out, float(loss)


@pytest.mark.parametrize("builder,shape", [(zoo.keras_mlp, (4,)), (zoo.keras_functional, (8, 8, 1)),
                                           (zoo.keras_subclassed, (4,))])
def test_keras_statistics_match_gradient_tape_reference(builder, shape):
    model = _keras_compile(builder())
    n_classes = model.output_shape[-1] if hasattr(model, "output_shape") and builder is not zoo.keras_subclassed else 3
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *shape)).astype("float32")
    y = rng.integers(0, n_classes, 16)
    ref, loss = _keras_reference(model, x, y)
    flow = nd.watch(model, every=1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[flow])
    assert len(flow.history) == 1 and flow.history.loss[0] == pytest.approx(loss, rel=1e-5)
    for i, layer in enumerate(flow.layers):
        for stat, value in ref[layer].items():
            assert flow.history[stat][0, i] == pytest.approx(value, rel=2e-4), (layer, stat)
    # the wrappers are gone and the train function fit made is back
    assert model.train_function is flow._user_function and model.train_function is not None
    assert "apply" not in model.optimizer.__dict__ and "compute_loss" not in model.__dict__
    assert not any("call" in layer.__dict__ for layer in model._flatten_layers(include_self=False, recursive=True))


def test_keras_activation_statistics_and_schedule():
    model = _keras_compile(zoo.keras_mlp())
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, 3, 64)
    weights = model.get_weights()
    flow = nd.watch(model, every=2)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[flow])
    assert list(flow.history.steps) == [0, 2] and flow.step == 4
    # step 0 saw the first batch with the initial weights: recompute its activations by hand
    w0, b0, w1, b1 = weights
    h = np.maximum(x[:16] @ w0 + b0, 0)
    logits = h @ w1 + b1
    assert flow.history["act_mean"][0, 0] == pytest.approx(h.mean(), rel=1e-5)
    assert flow.history["act_std"][0, 0] == pytest.approx(h.std(), rel=1e-5)
    assert flow.history["dead_fraction"][0, 0] == pytest.approx((h <= 0).all(axis=0).mean())
    assert flow.history["act_mean"][0, 1] == pytest.approx(logits.mean(), rel=1e-4, abs=1e-6)
    assert np.isnan(flow.history["dead_fraction"][0, 1])


def test_keras_cleanup_after_exception_inside_block():
    model = _keras_compile(zoo.keras_mlp())
    x = np.zeros((32, 4), "float32")
    y = np.zeros(32, "int64")

    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        with nd.watch(model, every=1) as flow:
            model.fit(x, y, batch_size=16, verbose=0, callbacks=[flow, Boom()])
    assert not flow.running and "apply" not in model.optimizer.__dict__
    assert not any("call" in layer.__dict__ for layer in model.layers)
    assert all(layer.trainable for layer in model.layers)
    model.fit(x, y, batch_size=16, verbose=0)  # the model still trains normally


def test_keras_flags_vanishing_and_dead():
    keras.utils.set_random_seed(0)
    deep = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(8, activation="sigmoid") for _ in range(12)]
                            + [keras.layers.Dense(3)])
    _keras_compile(deep, jit_compile=False)  # XLA compilation would dominate this test's time
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 4)).astype("float32"), rng.integers(0, 3, 48)
    flow = nd.watch(deep, every=1)
    deep.fit(x, y, batch_size=16, verbose=0, callbacks=[flow])
    vanishing = [f for f in flow.flags if f.kind == "vanishing"]
    assert vanishing and vanishing[0].layer == deep.layers[0].name and vanishing[0].step == 0

    dead = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(16, activation="relu", bias_initializer=keras.initializers.Constant(-100.0)),
                             keras.layers.Dense(3)])
    _keras_compile(dead, jit_compile=False)
    flow = nd.watch(dead, every=1, patience=1)
    dead.fit(x[:16], y[:16], batch_size=16, verbose=0, callbacks=[flow])
    assert [(f.layer, f.step) for f in flow.flags if f.kind == "dead"] == [(dead.layers[1].name, 0)]
    # no gradient passes a dead layer: the layers before it (and its own weights) get none
    assert flow.history["grad_norm"][0, :2].max() == 0 and flow.history["grad_norm"][0, 2] > 0


def test_torch_and_keras_give_the_same_statistics():
    tmodel = zoo.torch_mlp()
    kmodel = _keras_compile(zoo.keras_mlp())
    zoo.copy_dense_weights(tmodel, kmodel)
    (x, y), = _batches(1, (4,), 3)
    with nd.watch(tmodel, every=1) as tflow:
        _train_torch(tmodel, [(x, y)], tflow)
    kflow = nd.watch(kmodel, every=1)
    kmodel.fit(x, y, batch_size=16, verbose=0, shuffle=False, callbacks=[kflow])
    for stat in ("grad_mean_abs", "grad_max_abs", "grad_norm", "weight_norm", "update_ratio", "act_mean",
                 "act_std", "dead_fraction"):
        np.testing.assert_allclose(kflow.history[stat], tflow.history[stat], rtol=1e-4, atol=1e-7, err_msg=stat)
    assert kflow.history.loss[0] == pytest.approx(tflow.history.loss[0], rel=1e-5)


# -- widget, figure, export ----------------------------------------------------------------------
def test_widget_live_pushes_only_new_records_and_resyncs(tmp_path):
    model = _deep_sigmoid(depth=4)
    flow = nd.watch(model, every=1, name="live")
    widget = flow.widget()
    sent = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))
    widget._interval = 0.0  # push on every record in this test
    with flow:
        assert widget.running
        _train_torch(model, _batches(3, (4,), 3), flow)
        assert [c["start"] for c, _ in sent] == [0, 1]  # step 2 is read when the block exits
        content, buffers = sent[-1]
        assert content["n"] == 1 and content["n_layers"] == len(flow.layers)
        values = np.frombuffer(buffers[1], np.float32).reshape(1, len(flow.layers), len(STAT_NAMES))
        np.testing.assert_allclose(values[0], flow.history.values[1], rtol=1e-6)
        assert np.frombuffer(buffers[0], np.int32).tolist() == [1]
    # stopping syncs the full state through the traits (for redisplay and to_html)
    assert not widget.running and widget.values.shape == (3, len(flow.layers), len(STAT_NAMES))
    assert widget.steps.tolist() == [0, 1, 2] and len(widget.flags) == len(flow.flags)
    widget.values = None
    widget._on_message(widget, {"type": "resync"}, [])
    assert widget.values.shape[0] == 3


def test_widget_throttles_and_flushes_after_a_pause():
    model = zoo.torch_mlp()
    flow = nd.watch(model, every=1)
    widget = flow.widget()
    sent = []
    widget.send = lambda content, buffers=None: sent.append(content)
    widget._interval = 60.0
    widget._last_push = __import__("time").monotonic()
    with flow:
        _train_torch(model, _batches(5, (4,), 3), flow)
        assert sent == [] and widget._timer is not None  # throttled: one timer pending
        widget._timer.cancel()
        widget._push()  # what the timer does when it fires
        assert [(c["start"], c["n"]) for c in sent] == [(0, 4)]


def test_widget_step_scrubber_is_answered_by_python(tmp_path):
    model = _deep_sigmoid(depth=8)
    with nd.watch(model, every=2) as flow:
        _train_torch(model, _batches(6, (4,), 3), flow)
    widget = flow.widget()
    assert widget.step == -1 and widget.step_info.startswith("step 4")
    widget.step = 3  # what moving the scrubber does: the record at or before step 3 (step 2)
    assert widget.step_info.startswith("step 2") and "below 0.001" in widget.step_info
    widget.quantity = "update_ratio"
    assert "update_ratio" in widget.step_info
    html = flow.to_html(tmp_path / "flow.html")
    assert "nbd-watch" in html.read_text()
    for ext in ("png", "svg", "pdf"):
        assert flow.export(tmp_path / f"flow.{ext}").stat().st_size > 1000
    fig = flow.figure(stat="update_ratio", step=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert "update_ratio per layer and step" in titles and "update_ratio at step 2" in titles
    with pytest.raises(ValueError, match="stat"):
        flow.figure(stat="nope")


def test_compare_two_runs(tmp_path):
    runs = []
    for depth in (3, 10):
        model = _deep_sigmoid(depth=depth)
        with nd.watch(model, every=1, name=f"sig{depth}") as flow:
            _train_torch(model, _batches(4, (4,), 3), flow)
        runs.append(flow)
    comparison = runs[0].compare(runs[1])
    assert comparison is not None and nd.compare_runs(*runs).labels == ["sig3", "sig10"]
    widget = comparison.widget()
    assert widget.layers_b == runs[1].layers and widget.values_b.shape[1] == 11
    assert not widget.flags and widget.flags_b[0]["kind"] == "vanishing"
    assert comparison.export(tmp_path / "compare.png").stat().st_size > 1000
    assert comparison.to_html(tmp_path / "compare.html").stat().st_size > 1000
    with pytest.raises(TypeError, match="compare"):
        nd.compare_runs(runs[0], "run")


def test_import_nbdebug_does_not_load_frameworks():
    import subprocess
    import sys

    code = ("import sys, nbdebug as nd; nd.watch; import nbdebug.analysis.watch; "
            "print(any(m in sys.modules for m in ('torch', 'tensorflow', 'keras', 'matplotlib.pyplot')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
