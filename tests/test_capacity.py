"""Network capacity: every rule on hand-computed cases, torch/Keras agreement, the paper's rule."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nbdebug as nd
from nbdebug.analysis.capacity import LayerCapacity
from nbdebug.datasets import TABLE1_2D, friedland_2d
from tests import zoo


def caps(report):
    return [layer.capacity_bits for layer in report.layers]


def neuron_caps(report):
    """Capacities of the layers with parameters, in order (framework-neutral comparison)."""
    return [(layer.params, layer.capacity_bits) for layer in report.layers if layer.params]


# -- torch models built for the hand computations --------------------------------------------------
def mlp_2_4_2_1():
    import torch.nn as nn

    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1))


def two_branches(merge: str):
    """x(10) -> Linear(10, 2) and Linear(10, 3 or 2) -> cat / add -> Linear(., 4)."""
    import torch
    import torch.nn as nn

    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(10, 2)
            self.b = nn.Linear(10, 3 if merge == "cat" else 2)
            self.head = nn.Linear(5 if merge == "cat" else 2, 4)

        def forward(self, x):
            a, b = self.a(x), self.b(x)
            return self.head(torch.cat([a, b], dim=1) if merge == "cat" else a + b)

    return TwoBranches()


def narrow_and_wide():
    """One branch narrows to 1 unit, the other stays 50 wide: per-path vs global bottleneck."""
    import torch
    import torch.nn as nn

    class NarrowWide(nn.Module):
        def __init__(self):
            super().__init__()
            self.narrow = nn.Linear(10, 1)
            self.narrow_out = nn.Linear(1, 8)
            self.wide = nn.Linear(10, 50)
            self.wide_out = nn.Linear(50, 3)

        def forward(self, x):
            return torch.cat([self.narrow_out(self.narrow(x)), self.wide_out(self.wide(x))], dim=1)

    return NarrowWide()


# -- the default rule ------------------------------------------------------------------------------
def test_mlp_2_4_2_1_is_18_bits():
    rep = nd.capacity(mlp_2_4_2_1())
    assert rep.total_bits == 18
    assert caps(rep) == [0, 12, 0, 4, 0, 2]
    assert [la.bits_out for la in rep.layers] == [math.inf, 4, 4, 2, 2, 1]
    assert rep.layers[0].bits_in == math.inf, "the input delivers unbounded bits"
    assert rep.layers[3].limited_by_input and not rep.layers[1].limited_by_input
    assert isinstance(rep.layers[3], LayerCapacity)
    assert "total_bits=18" in repr(rep)


def test_concatenation_receives_the_bits_of_every_branch():
    rep = nd.capacity(two_branches("cat"))
    assert rep.layer("cat").bits_in == 2 + 3
    # head: 24 parameters but only 5 bits reach it (a max over branches would give 3)
    assert rep.layer("head").capacity_bits == 5
    assert rep.total_bits == 22 + 33 + 5


def test_addition_sums_inbound_bits_and_its_units_bound_them():
    rep = nd.capacity(two_branches("add"))
    add = rep.layer("add")
    assert (add.bits_in, add.bits_out) == (4, 2)
    assert rep.layer("head").capacity_bits == 2
    assert rep.total_bits == 22 + 22 + 2


def test_bottleneck_is_per_path():
    rep = nd.capacity(narrow_and_wide())
    assert rep.layer("narrow_out").capacity_bits == 1
    assert rep.layer("wide_out").capacity_bits == 50, "the narrow branch must not limit the wide one"
    assert rep.total_bits == 11 + 1 + 550 + 50
    paper = nd.capacity(narrow_and_wide(), rule="paper")
    assert paper.layer("wide_out").capacity_bits <= 1, "the paper's global bottleneck limits every branch"


def test_normalisation_adds_nothing_but_bounds_the_flow():
    import torch.nn as nn

    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 5))
    rep = nd.capacity(model)
    assert caps(rep) == [0, 15, 0, 3]
    bn = rep.layers[2]
    assert bn.params == 6 and bn.capacity_bits == 0 and bn.bits_out == 3 and bn.supported


def test_pooling_bounds_the_flow():
    import torch.nn as nn

    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(8, 1000))
    rep = nd.capacity(model, input_shape=(1, 8, 8))
    assert caps(rep) == [0, 20, 0, 0, 8]
    assert rep.layers[1].bits_out == 2 * 8 * 8 and rep.layers[2].bits_out == 2 * 2 * 2
    assert rep.bottleneck.name == rep.layers[2].name, "the pooling layer is where the flow narrows"


def test_residual_network_by_hand():
    rep = nd.capacity(zoo.torch_residual(), input_shape=(1, 8, 8))
    by = {la.name: la for la in rep.layers}
    assert by["stem"].capacity_bits == 40 and by["stem"].bits_out == 256
    assert by["conv_a"].capacity_bits == 148
    assert (by["add"].bits_in, by["add"].bits_out) == (512, 256)
    assert (by["cat"].bits_in, by["cat"].bits_out) == (512, 512)
    assert by["head"].capacity_bits == 8
    assert rep.total_bits == 40 + 148 + 20 + 8


def test_shared_module_counted_once():
    rep = nd.capacity(zoo.torch_shared())
    by = {la.name: la for la in rep.layers}
    assert by["block"].capacity_bits == 5 and by["block#2"].capacity_bits == 0
    assert "counted once" in by["block#2"].note and by["block#2"].supported
    assert rep.total_bits == 25 + 5 + 5


def test_keras_shared_layer_matches_torch():
    keras = pytest.importorskip("keras")
    inp = keras.Input((4,))
    x = keras.layers.Dense(5, activation="relu")(inp)
    block = keras.layers.Dense(5, activation="relu")
    x = block(block(x))
    out = keras.layers.Dense(2)(x)
    rep = nd.capacity(keras.Model(inp, out))
    assert rep.total_bits == nd.capacity(zoo.torch_shared()).total_bits == 35
    assert [la.capacity_bits for la in rep.layers if la.category == "dense"] == [25, 5, 0, 5]


def test_untraceable_torch_model_uses_hooks():
    model = zoo.torch_untraceable()
    rep = nd.capacity(model)
    assert rep.graph_source == "hooks"
    assert rep.total_bits == 30 + 6


def _custom_torch_model():
    """A custom leaf module with a parameter inside a model fx cannot trace."""
    import torch
    import torch.nn as nn

    class Gain(nn.Module):  # a kind nbdebug cannot know
        def __init__(self):
            super().__init__()
            self.gain = nn.Parameter(torch.ones(6))

        def forward(self, x):
            return x * self.gain

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.gain, self.l2 = nn.Linear(4, 6), Gain(), nn.Linear(6, 3)

        def forward(self, x):
            h = self.gain(self.l1(x))
            if bool((h > -1e9).all()):  # data-dependent: hooks see Gain as a leaf
                h = torch.relu(h)
            return self.l2(h)

    return Net()


def test_unsupported_layer_is_marked_and_warned_never_a_crash():
    with pytest.warns(UserWarning, match="unsupported"):
        rep = nd.capacity(_custom_torch_model())
    gain = rep.layer("gain")
    assert not gain.supported and gain.capacity_bits == 0 and gain.params == 6
    assert gain.bits_out == 6, "an unsupported layer still bounds the flow by its units"
    assert rep.total_bits == 30 + 6
    assert rep.unsupported == [gain] and "gain" in rep.warnings[0]


def test_keras_custom_layer_is_unsupported():
    keras = pytest.importorskip("keras")

    class Gain(keras.layers.Layer):
        def build(self, shape):
            self.gain = self.add_weight(shape=(shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.gain

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6), Gain(name="gain"), keras.layers.Dense(3)])
    with pytest.warns(UserWarning, match="gain"):
        rep = nd.capacity(model)
    assert not rep.layer("gain").supported and rep.total_bits == 30 + 6


def test_parameter_free_unknown_op_is_supported():
    rep = nd.capacity(zoo.torch_residual(), input_shape=(1, 8, 8))
    mean = rep.layer("mean")
    assert mean.category == "other" and mean.supported and mean.bits_out == 8


def test_functional_matmul_with_a_parameter_counts_as_neurons():
    import torch
    import torch.nn as nn

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(4, 3))

        def forward(self, x):
            return torch.relu(x @ self.w) @ torch.ones(3, 2)

    rep = nd.capacity(Functional(), input_shape=(4,))
    assert rep.total_bits == 12 and not rep.warnings


# -- torch and Keras agree -------------------------------------------------------------------------
def keras_cnn():
    import keras

    return keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10),
    ])


@pytest.mark.parametrize("pair", ["mlp", "cnn", "residual"])
def test_torch_and_keras_give_identical_numbers(pair):
    pytest.importorskip("keras")
    torch_model, keras_model, shape = {
        "mlp": (zoo.torch_mlp, zoo.keras_mlp, (4,)),
        "cnn": (zoo.torch_cnn, keras_cnn, (1, 8, 8)),
        "residual": (zoo.torch_residual, zoo.keras_functional, (1, 8, 8)),
    }[pair]
    t = nd.capacity(torch_model(), input_shape=shape)
    k = nd.capacity(keras_model())
    assert t.total_bits == k.total_bits
    assert neuron_caps(t) == neuron_caps(k)
    flow = lambda r: [(la.bits_in, la.bits_out) for la in r.layers if la.category in ("dense", "conv")]  # noqa: E731
    assert flow(t) == flow(k)
    assert t.bottleneck.bits_out == k.bottleneck.bits_out


def test_keras_subclassed_model():
    pytest.importorskip("keras")
    rep = nd.capacity(zoo.keras_subclassed())
    assert rep.graph_source == "keras-calls" and rep.total_bits == 30 + 6


# -- the paper's Algorithm 1 -----------------------------------------------------------------------
def keras_small_alexnet():
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((32, 32, 3)), layers.Conv2D(8, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(32, activation="relu"), layers.Dense(10),
    ])


def test_paper_rule_on_an_alexnet_shaped_model_by_hand():
    pytest.importorskip("keras")
    rep = nd.capacity(keras_small_alexnet(), rule="paper")
    # input sum(32, 32, 3) = 67 caps conv1 (608 params); the global bottleneck then falls to
    # sum(28, 28, 8) = 64, sum(14, 14, 8) = 36, sum(6, 6, 16) = 28, sum(10) = 10
    assert caps(rep) == [0, 67, 0, 36, 0, 0, 28, 28]
    assert [la.bits_out for la in rep.layers] == [67, 64, 36, 36, 28, 28, 28, 10]
    assert rep.total_bits == 159 and all(la.supported for la in rep.layers)
    default = nd.capacity(keras_small_alexnet())
    assert caps(default) == [0, 608, 0, 1168, 0, 0, 576, 32]
    assert default.total_bits == 2384


def test_paper_rule_takes_max_at_merges_and_counts_all_weights():
    keras = pytest.importorskip("keras")
    from keras import layers

    inp = keras.Input((10,))
    a, b = layers.Dense(2)(inp), layers.Dense(3)(inp)
    x = layers.Concatenate()([a, b])
    x = layers.BatchNormalization()(x)
    out = layers.Dense(4)(x)
    rep = nd.capacity(keras.Model(inp, out), rule="paper")
    # input: sum = 10 recorded for it; a: min(10, 22) = 10, global bottleneck 2; b reads the
    # input's 10: min(10, 33) = 10; concat: max(2, 2) = 2, 0 weights; batch norm: min(2, 4 * 5
    # weights, moving statistics included); head: min(2, 24)
    assert caps(rep) == [0, 10, 10, 0, 2, 2]
    default = nd.capacity(keras.Model(inp, out))
    assert caps(default) == [0, 22, 33, 0, 0, 5]


def test_mlp_paper_rule():
    rep = nd.capacity(mlp_2_4_2_1(), rule="paper")
    assert caps(rep) == [0, 2, 0, 2, 0, 2] and rep.total_bits == 6


# -- data, verdict, Table 1 --------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(TABLE1_2D))
def test_table1_rows_beside_the_paper(name):
    X, y = friedland_2d(name)
    ours = nd.complexity(X, y).expected_bits
    paper = TABLE1_2D[name][1]
    assert ours == paper, f"{name}: ours {ours} vs paper {paper}"


def test_verdict_over_under_match():
    X, y = friedland_2d("spiral")  # 12 bits
    import torch.nn as nn

    over = nd.capacity(nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1)), data=(X, y))
    assert over.expected_bits == 12 and over.verdict_level == "over"
    assert over.verdict == (f"model capacity {over.total_bits:,} bits vs dataset needs 12 bits — "
                            f"{over.total_bits / 12:.3g}× over: expect memorisation; consider a narrower model")
    under = nd.capacity(nn.Sequential(nn.Linear(2, 1)), data=(X, y))
    assert under.verdict_level == "under" and "4× under" in under.verdict and "wider" in under.verdict
    match = nd.capacity(mlp_2_4_2_1(), data=nd.as_dataset(X, y))
    assert match.verdict_level == "match" and match.ratio == pytest.approx(18 / 12)


def test_verdict_wording_of_the_issue():
    from nbdebug.analysis.capacity import verdict_text

    text, level, ratio = verdict_text(252_128, 704)
    assert text == ("model capacity 252,128 bits vs dataset needs 704 bits — 358× over: expect "
                    "memorisation; consider a narrower model")
    assert level == "over" and ratio == pytest.approx(358.136, abs=1e-3)


def test_data_as_complexity_report_and_bad_inputs():
    X, y = friedland_2d("xor")
    comp = nd.complexity(X, y)
    rep = nd.capacity(mlp_2_4_2_1(), data=comp)
    assert rep.complexity is comp and rep.expected_bits == 10
    with pytest.raises(ValueError, match="rule"):
        nd.capacity(mlp_2_4_2_1(), rule="max")
    with pytest.raises(TypeError, match="data"):
        nd.capacity(mlp_2_4_2_1(), data=np.zeros((4, 2)))
    with pytest.raises(TypeError, match="model"):
        nd.capacity("not a model")
    with pytest.raises(ValueError, match="input_shape"):
        nd.capacity(zoo.torch_cnn())


def test_multiclass_data_carries_the_heuristics_caveat():
    X, y, _ = nd.datasets.digits_images()
    import torch.nn as nn

    rep = nd.capacity(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), input_shape=(1, 8, 8), data=(X, y))
    assert rep.expected_bits == rep.complexity.expected_bits and any("classes" in w for w in rep.warnings)


# -- the model is left as it was -------------------------------------------------------------------
def test_torch_model_untouched():
    import torch

    model = zoo.torch_residual()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    nd.capacity(model, input_shape=(1, 8, 8))
    nd.capacity(zoo.torch_untraceable())
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks for m in model.modules())


def test_keras_model_untouched():
    pytest.importorskip("keras")
    model = zoo.keras_functional()
    before = [w.numpy().copy() for w in model.weights]
    model.layers[1].trainable = False
    nd.capacity(model)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))
    assert model.layers[1].trainable is False


def test_no_warning_for_supported_models():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nd.capacity(zoo.torch_residual(), input_shape=(1, 8, 8))


def test_to_frame():
    frame = nd.capacity(mlp_2_4_2_1()).to_frame()
    assert list(frame.columns[:3]) == ["name", "kind", "category"]
    assert frame.capacity_bits.sum() == 18 and frame.is_bottleneck.sum() == 1


# -- sizing ----------------------------------------------------------------------------------------
def build_mlp(width):
    """2-w-w-1: capacity 3w + min(w² + w, w) + min(w + 1, w) = 5w bits."""
    import torch.nn as nn

    return nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))


def test_size_to_finds_the_smallest_width_reaching_the_target():
    rep = nd.size_to(build_mlp, 1000)
    assert rep.best_multiplier == 200 and rep.total_bits[rep.best_index] == 1000 and rep.reached
    assert np.array_equal(rep.total_bits, 5 * rep.multipliers.astype(int))
    assert rep.total_bits[rep.best_index - 1] < 1000
    assert len(rep.multipliers) < 20, "doubling then bisection, not a scan"
    assert rep.best.total_bits == 1000 and rep.to_frame().best.sum() == 1


def test_size_to_a_dataset():
    X, y = friedland_2d("spiral")  # 12 bits
    rep = nd.size_to(build_mlp, (X, y))
    assert rep.target_bits == 12 and rep.best_multiplier == 3
    assert nd.size_to(build_mlp, nd.complexity(X, y)).best_multiplier == 3


def test_size_to_explicit_candidates_and_unreachable_target():
    rep = nd.size_to(lambda m: build_mlp(round(4 * m)), 10_000, multipliers=[2.5, 0.5, 1])
    assert list(rep.multipliers) == [0.5, 1, 2.5] and list(rep.total_bits) == [10, 20, 50]
    assert not rep.reached and rep.best_multiplier == 2.5 and "no candidate" in rep.warnings[0]
    capped = nd.size_to(build_mlp, 10_000, max_multiplier=8)
    assert capped.multipliers.max() == 8 and not capped.reached


def test_size_to_bad_inputs():
    with pytest.raises(TypeError, match="build_fn"):
        nd.size_to(42, 10)
    with pytest.raises(ValueError, match="target_bits"):
        nd.size_to(build_mlp, -3)
    with pytest.raises(TypeError, match="target_bits"):
        nd.size_to(build_mlp, "big")
    with pytest.raises(ValueError, match="multipliers"):
        nd.size_to(build_mlp, 10, multipliers=[0, 1])
    with pytest.raises(RuntimeError, match="multiplier 1"):
        nd.size_to(lambda m: 1 / 0, 10)


def test_meta_shape_propagation_matches_a_real_forward_and_runs_no_user_hook():
    import torch

    from nbdebug.adapters.torch_model import _meta_shapes

    model = zoo.torch_residual()
    calls = []
    handle = model.conv_a.register_forward_hook(lambda *a: calls.append(1))
    try:
        rep = nd.as_model(model, (1, 8, 8))
        layers = rep.layers
    finally:
        handle.remove()
    assert calls == [], "shapes come from meta tensors, not from running the user's model"
    model.eval()
    with torch.no_grad():
        h = torch.relu(model.bn(model.stem(torch.zeros(1, 1, 8, 8))))
    by = {n.name: n for n in layers}
    assert by["relu"].output_shape == tuple(h.shape[1:]) and by["cat"].output_shape == (8, 8, 8)
    assert by["head"].output_shape == (10,)
    # an op whose output shape depends on the data has no meta kernel: the real forward runs
    import torch.fx as fx

    class DataShaped(torch.nn.Module):
        def forward(self, x):
            return torch.nonzero(x + 1)

    traced = fx.symbolic_trace(DataShaped())
    assert _meta_shapes(traced, torch.zeros(1, 4)) is False
    assert nd.as_model(DataShaped(), (4,)).layers[-1].output_shape == (2,)


def test_layers_without_neurons_on_the_raw_input_keep_it_unbounded():
    import torch.nn as nn

    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 10))
    rep = nd.capacity(model, input_shape=(1, 8, 8))
    assert rep.layers[1].bits_out == math.inf and rep.layers[2].bits_out == math.inf
    assert caps(rep) == [0, 0, 0, 64 * 512 + 512, 0, 512]
    keras = pytest.importorskip("keras")
    k = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dropout(0.1),
                          keras.layers.Dense(512, activation="relu"), keras.layers.Dense(10)])
    assert nd.capacity(k).total_bits == rep.total_bits


def test_one_layer_feeding_twice_delivers_its_bits_once():
    keras = pytest.importorskip("keras")
    from keras import layers

    inp = keras.Input((6, 4))
    h = layers.Dense(3)(inp)
    att = layers.MultiHeadAttention(num_heads=1, key_dim=2)(h, h)  # query and value: the same layer
    out = layers.Dense(1)(layers.Flatten()(att))
    rep = nd.capacity(keras.Model(inp, out))
    assert rep.layers[2].inbound == [rep.layers[1].name] * 2 or len(set(rep.layers[2].inbound)) == 1
    assert rep.layers[2].bits_in == 6 * 3 and rep.layers[2].capacity_bits == 18


def test_embedding_recurrent_and_attention_layers_in_torch():
    import torch
    import torch.nn as nn

    from nbdebug.adapters.torch_model import TorchModel

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 8)
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.att = nn.MultiheadAttention(16, 2, batch_first=True)
            self.fc = nn.Linear(16, 2)

        def forward(self, x):
            h, _ = self.lstm(self.emb(x))
            a, _ = self.att(h, h, h)
            return self.fc(a[:, -1])

    rep = nd.capacity(TorchModel(Seq(), (12,), input_dtype=torch.long))
    by = {la.name: la for la in rep.layers}
    assert by["emb"].capacity_bits == 800 and by["emb"].bits_out == 12 * 8
    assert by["lstm"].capacity_bits == 96 and by["att"].capacity_bits == 96
    assert by["fc"].bits_in == 16 and rep.total_bits == 800 + 96 + 96 + 16
