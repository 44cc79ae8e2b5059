"""One conformance suite that every model adapter passes, on real torch and Keras models."""
from __future__ import annotations

import numpy as np
import pytest

import nbdebug as nd
from tests import zoo

TORCH = {
    "torch_mlp": (zoo.torch_mlp, (4,)),
    "torch_cnn": (zoo.torch_cnn, (1, 8, 8)),
    "torch_residual": (zoo.torch_residual, (1, 8, 8)),
    "torch_untraceable": (zoo.torch_untraceable, (4,)),
    "torch_shared": (zoo.torch_shared, (4,)),
}
KERAS = {
    "keras_mlp": (zoo.keras_mlp, (4,)),
    "keras_functional": (zoo.keras_functional, (8, 8, 1)),
    "keras_subclassed": (zoo.keras_subclassed, (4,)),
}
ALL = {**TORCH, **KERAS}


def fingerprint(model):
    """Everything the guard promises to keep: weights, modes, flags, hooks."""
    if hasattr(model, "state_dict"):
        return {
            "weights": {k: v.detach().clone().numpy() for k, v in model.state_dict().items()},
            "training": [m.training for m in model.modules()],
            "requires_grad": [p.requires_grad for p in model.parameters()],
            "grads": [None if p.grad is None else p.grad.clone().numpy() for p in model.parameters()],
            "hooks": [len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()],
        }
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    return {
        "weights": [w.numpy().copy() for w in model.weights],
        "trainable": [lay.trainable for lay in layers],
        "patched": ["call" in lay.__dict__ for lay in layers],
    }


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, dict):
            assert va.keys() == vb.keys()
            for k in va:
                np.testing.assert_array_equal(va[k], vb[k], err_msg=f"{key}/{k} changed")
        else:
            assert len(va) == len(vb)
            for x, y in zip(va, vb):
                if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                    np.testing.assert_array_equal(x, y, err_msg=f"{key} changed")
                else:
                    assert x == y, f"{key} changed"


def sample(shape, n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype(np.float32)


@pytest.fixture(params=sorted(ALL))
def case(request):
    if request.param.startswith("keras"):
        pytest.importorskip("keras")
    build, shape = ALL[request.param]
    model = build()
    return request.param, model, shape


def test_layer_graph_is_consistent(case):
    name, model, shape = case
    adapter = nd.as_model(model, input_shape=shape)
    layers = adapter.layers
    names = [n.name for n in layers]
    assert len(set(names)) == len(names), "layer names must be unique"
    assert layers[0].category == "input" and layers[0].output_shape == tuple(shape)
    seen = set()
    for node in layers:
        assert all(src in seen for src in node.inbound), f"{node.name} has an inbound layer not seen before it"
        assert node.category != "input" or not node.inbound
        if node.category != "input":
            assert node.inbound, f"{node.name} has no inbound layer"
        seen.add(node.name)
    # trainable parameters add up to the model's own count (shared layers counted once)
    assert sum(n.params for n in layers) == adapter.n_params
    # the last layer's output shape is the model's
    probs = adapter.predict_proba(sample(shape))
    assert layers[-1].output_shape == (probs.shape[1],)


def test_branches_and_skips_are_edges():
    adapter = nd.as_model(zoo.torch_residual(), input_shape=(1, 8, 8))
    by_name = {n.name: n for n in adapter.layers}
    assert adapter.graph_source == "fx"
    assert by_name["add"].inbound == ["relu", "conv_a"]
    assert by_name["cat"].inbound == ["add", "conv_b"]
    assert by_name["add"].category == "merge" and by_name["cat"].output_shape == (8, 8, 8)


def test_keras_functional_graph_edges():
    pytest.importorskip("keras")
    adapter = nd.as_model(zoo.keras_functional())
    by_name = {n.name: n for n in adapter.layers}
    assert adapter.graph_source == "keras-graph"
    assert by_name["add"].inbound == ["relu", "conv_a"]
    assert by_name["cat"].inbound == ["add", "conv_b"]
    assert by_name["cat"].output_shape == (8, 8, 8)


def test_untraceable_torch_model_uses_hooks():
    adapter = nd.as_model(zoo.torch_untraceable())
    assert [n.name for n in adapter.layers] == ["input", "l1", "l2"]
    assert adapter.graph_source == "hooks"
    assert adapter.layers[2].inbound == ["l1"]


def test_shared_module_counted_once():
    adapter = nd.as_model(zoo.torch_shared())
    calls = [n for n in adapter.layers if n.owner == "block"]
    assert [c.name for c in calls] == ["block", "block#2"]
    assert calls[0].params == 30 and calls[1].params == 0 and calls[1].shared


def test_predict_proba_matches_manual_softmax(case):
    name, model, shape = case
    x = sample(shape)
    probs = nd.as_model(model, input_shape=shape).predict_proba(x, batch_size=4)
    if name.startswith("torch"):
        import torch

        with torch.no_grad():
            model.eval()
            logits = model(torch.from_numpy(x)).numpy().astype(np.float64)
    else:
        logits = np.asarray(model(x, training=False), dtype=np.float64)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)


def test_input_gradient_matches_finite_differences(case):
    name, model, shape = case
    adapter = nd.as_model(model, input_shape=shape)
    x = sample(shape, n=2).astype(np.float64).astype(np.float32)
    y = np.array([0, 1])
    loss, grad = adapter.loss_input_gradient(x, y)
    assert loss.shape == (2,) and grad.shape == x.shape
    rng = np.random.default_rng(1)
    direction = rng.normal(size=x.shape).astype(np.float32)
    h = 1e-3
    plus, _ = adapter.loss_input_gradient(x + h * direction, y)
    minus, _ = adapter.loss_input_gradient(x - h * direction, y)
    numeric = (plus - minus) / (2 * h)
    analytic = (grad * direction).reshape(2, -1).sum(1)
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)


def test_activations_shape():
    adapter = nd.as_model(zoo.torch_residual(), input_shape=(1, 8, 8))
    acts = adapter.activations(sample((1, 8, 8)), "conv_a")
    assert acts.shape == (6, 4, 8, 8)
    with pytest.raises(ValueError, match="layer"):
        adapter.activations(sample((1, 8, 8)), "nope")


def test_keras_activations_and_no_patch_left():
    pytest.importorskip("keras")
    model = zoo.keras_functional()
    acts = nd.as_model(model).activations(sample((8, 8, 1)), "conv_b")
    assert acts.shape == (6, 8, 8, 4)
    assert not any("call" in lay.__dict__ for lay in model._flatten_layers())


def test_model_untouched_by_every_operation(case):
    name, model, shape = case
    if name.startswith("torch"):
        model.train()  # the user's mode: the adapter switches to eval inside and must switch back
    before = fingerprint(model)
    adapter = nd.as_model(model, input_shape=shape)
    _ = adapter.layers
    x = sample(shape)
    adapter.predict_proba(x)
    adapter.loss_input_gradient(x, np.arange(len(x)) % 2)
    assert_same(before, fingerprint(model))


def test_torch_guard_restores_after_exception():
    import torch

    model = zoo.torch_residual()
    model.train()
    model.head.weight.requires_grad_(False)
    before = fingerprint(model)
    rng_before = torch.get_rng_state()
    adapter = nd.as_model(model, input_shape=(1, 8, 8))
    with pytest.raises(RuntimeError, match="boom"):
        with adapter.guard(weights=True):
            model.eval()
            for p in model.parameters():
                p.requires_grad_(True)
                p.data.add_(1.0)
            model.stem.register_forward_hook(lambda *a: None)
            model.register_forward_pre_hook(lambda *a: None)
            torch.rand(3)
            raise RuntimeError("boom")
    assert_same(before, fingerprint(model))
    assert torch.equal(torch.get_rng_state(), rng_before)


def test_torch_guard_restores_after_keyboard_interrupt():
    model = zoo.torch_mlp()
    before = fingerprint(model)
    adapter = nd.as_model(model)
    with pytest.raises(KeyboardInterrupt):
        with adapter.guard():
            model.eval()
            model[0].register_forward_hook(lambda *a: None)
            raise KeyboardInterrupt
    assert_same(before, fingerprint(model))


def test_keras_guard_restores_after_exception():
    pytest.importorskip("keras")
    model = zoo.keras_functional()
    before = fingerprint(model)
    adapter = nd.as_model(model)
    with pytest.raises(RuntimeError):
        with adapter.guard(weights=True):
            model.get_layer("stem").trainable = False
            for w in model.weights:
                w.assign(w.numpy() + 1)
            raise RuntimeError("boom")
    assert_same(before, fingerprint(model))


def test_torch_and_keras_agree_on_the_same_weights():
    pytest.importorskip("keras")
    tm, km = zoo.torch_mlp(), zoo.keras_mlp()
    zoo.copy_dense_weights(tm, km)
    x = sample((4,), n=10)
    t, k = nd.as_model(tm), nd.as_model(km)
    np.testing.assert_allclose(t.predict_proba(x), k.predict_proba(x), rtol=1e-5, atol=1e-6)
    lt, gt = t.loss_input_gradient(x, np.arange(10) % 3)
    lk, gk = k.loss_input_gradient(x, np.arange(10) % 3)
    np.testing.assert_allclose(lt, lk, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gt, gk, rtol=1e-4, atol=1e-6)
    assert [n.params for n in t.layers if n.params] == [n.params for n in k.layers if n.params]


def test_softmax_output_is_detected():
    import torch.nn as nn

    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    probs = nd.as_model(model).predict_proba(sample((4,)))
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-6)
    direct = model(__import__("torch").from_numpy(sample((4,)))).detach().numpy()
    np.testing.assert_allclose(probs, direct, rtol=1e-5)


def test_bad_models_and_shapes():
    with pytest.raises(TypeError, match="model"):
        nd.as_model(object())
    with pytest.raises(TypeError, match="model"):
        nd.as_model(np.zeros(3))
    with pytest.raises(ValueError, match="input_shape"):
        nd.as_model(zoo.torch_cnn()).layers
    with pytest.raises(ValueError, match="input_shape"):
        nd.as_model(zoo.torch_mlp(), input_shape=(0, 3))
    with pytest.raises(ValueError, match="output"):
        nd.as_model(zoo.torch_mlp(), output="scores")


def test_framework_detection_does_not_import_frameworks():
    import subprocess
    import sys

    code = (
        "import sys; import nbdebug as nd\n"
        "class Fake: pass\n"
        "try:\n    nd.as_model(Fake())\nexcept TypeError as e:\n    print('TypeError', e)\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "TypeError model" in out and out.strip().endswith("[]")
