"""Attacks: equality with torchattacks, torch = Keras on identical weights, the fewest-pixels
search, perceptual metrics against scikit-image, the model left as found, bad input."""
from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchattacks = pytest.importorskip("torchattacks")
nn = torch.nn

import nbdebug as nd  # noqa: E402
from nbdebug.analysis import perceptual  # noqa: E402
from nbdebug.analysis.attack import eps_at_half, resolve_channel_axis  # noqa: E402


# -- fixtures ---------------------------------------------------------------------------------------
_TRAINED = {}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # the models here are tiny: one thread avoids spinning against other processes on 2 cores
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _digits_cnn():
    """A fresh copy of a small CNN trained on digits (trained once per session)."""
    import copy

    if "model" not in _TRAINED:
        with torch.random.fork_rng():
            _TRAINED["model"] = _train_digits_cnn()
    return copy.deepcopy(_TRAINED["model"])


def _train_digits_cnn():
    X, y, _ = nd.datasets.digits_images()
    gen = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 10))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    Xt, yt = torch.tensor(X[:600]), torch.tensor(y[:600])
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(model(Xt), yt).backward()
        opt.step()
    for p in model.parameters():
        p.grad = None
    return model.eval()


@pytest.fixture(scope="module")
def digits():
    X, y, names = nd.datasets.digits_images()
    return X[:48].copy(), y[:48].copy(), names


@pytest.fixture(scope="module")
def cnn():
    return _digits_cnn()


def _ta(attack_cls, model, x, y, **kw):
    return attack_cls(model, **kw)(torch.tensor(x), torch.tensor(y)).numpy()


# -- torchattacks equality --------------------------------------------------------------------------
def test_model_is_accurate_enough_for_the_attack_tests(cnn, digits):
    x, y, _ = digits
    acc = (cnn(torch.tensor(x)).argmax(1).numpy() == y).mean()
    assert acc > 0.9


def test_fgsm_equals_torchattacks(cnn, digits):
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "fgsm", eps=0.1)
    ref = _ta(torchattacks.FGSM, cnn, x, y, eps=0.1)
    np.testing.assert_array_equal(rep.adversarial, ref)
    assert rep.success.any() and not rep.success.all()


@pytest.mark.parametrize("norm,cls,eps,alpha", [("linf", torchattacks.PGD, 0.1, 0.02),
                                                 ("l2", torchattacks.PGDL2, 0.8, 0.2)])
def test_pgd_equals_torchattacks_without_random_start(cnn, digits, norm, cls, eps, alpha):
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "pgd", eps=eps, alpha=alpha, steps=7, norm=norm, random_start=False)
    ref = _ta(cls, cnn, x, y, eps=eps, alpha=alpha, steps=7, random_start=False)
    np.testing.assert_array_equal(rep.adversarial, ref)
    pred = cnn(torch.tensor(ref)).argmax(1).numpy()
    np.testing.assert_array_equal(rep.label_after, pred)
    assert rep.robust_accuracy == pytest.approx((pred == y).mean())


@pytest.mark.parametrize("norm,cls,eps,alpha", [("linf", torchattacks.PGD, 0.1, 0.02),
                                                 ("l2", torchattacks.PGDL2, 0.8, 0.2)])
def test_seeded_random_start_equals_torchattacks_on_the_same_stream(cnn, digits, norm, cls, eps, alpha):
    # our generator is torch.Generator().manual_seed(seed); torchattacks draws from the global
    # generator, which torch.manual_seed(seed) puts in the same state
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "pgd", eps=eps, alpha=alpha, steps=3, norm=norm, seed=5)
    with torch.random.fork_rng():
        torch.manual_seed(5)
        ref = _ta(cls, cnn, x, y, eps=eps, alpha=alpha, steps=3, random_start=True)
    np.testing.assert_array_equal(rep.adversarial, ref)


def test_random_start_is_seeded_and_leaves_global_rng_alone(cnn, digits):
    x, y, _ = digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=2, seed=1)
    b = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=2, seed=1)
    c = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=2, seed=2)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    np.testing.assert_array_equal(a.adversarial, b.adversarial)
    assert not np.array_equal(a.adversarial, c.adversarial)
    assert a.linf.max() <= 0.1 + 1e-6
    assert a.adversarial.min() >= 0 and a.adversarial.max() <= 1


def test_normalize_inside_the_forward_equals_torchattacks_on_a_normalising_wrapper(cnn, digits):
    x, y, _ = digits

    class Norm(nn.Module):
        def forward(self, t):
            return (t - 0.3) / 0.4

    rep = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=4, random_start=False,
                    normalize=(0.3, 0.4))
    ref = _ta(torchattacks.PGD, nn.Sequential(Norm(), cnn), x, y, eps=0.1, alpha=0.02, steps=4,
              random_start=False)
    np.testing.assert_allclose(rep.adversarial, ref, atol=1e-6)


def test_gpu_options_are_no_ops_on_cpu(cnn, digits):
    # CUDA graphs and bf16 autocast apply on CUDA only; elsewhere the eager fp32 loop runs unchanged
    x, y, _ = digits
    plain = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=3, seed=4)
    fast = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=3, seed=4, cuda_graph=True, amp=True)
    np.testing.assert_array_equal(plain.adversarial, fast.adversarial)
    with pytest.raises(ValueError, match="cuda_graph"):
        nd.attack(cnn, x, y, "pgd", cuda_graph="always")


def test_batches_respect_the_ball_and_range(cnn, digits):
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "pgd", eps=0.05, alpha=0.02, steps=3, batch_size=7)
    assert rep.adversarial.shape == x.shape and rep.adversarial.dtype == x.dtype
    assert rep.linf.max() <= 0.05 + 1e-6
    l2 = nd.attack(cnn, x, y, "pgd", norm="l2", eps=0.5, alpha=0.2, steps=3, batch_size=10)
    assert l2.l2.max() <= 0.5 + 1e-5


# -- report fields ----------------------------------------------------------------------------------
def test_report_fields_agree_with_the_model(cnn, digits):
    x, y, names = digits
    rep = nd.attack(cnn, x, y, "pgd", eps=0.1, alpha=0.02, steps=5, classes=names)
    with torch.no_grad():
        p_after = torch.softmax(cnn(torch.tensor(rep.adversarial)), 1).numpy()
        p_before = torch.softmax(cnn(torch.tensor(x)), 1).numpy()
    np.testing.assert_allclose(rep.probs_after, p_after, atol=1e-5)
    np.testing.assert_allclose(rep.probs_before, p_before, atol=1e-5)
    np.testing.assert_array_equal(rep.success, p_after.argmax(1) != y)
    ok = p_before.argmax(1) == y
    assert rep.success_rate == pytest.approx(rep.success[ok].mean())
    d = (rep.adversarial - x).reshape(len(x), -1).astype(np.float64)
    np.testing.assert_allclose(rep.l2, np.sqrt((d**2).sum(1)), rtol=1e-9)
    np.testing.assert_allclose(rep.linf, np.abs(d).max(1), rtol=1e-9)
    np.testing.assert_array_equal(rep.l0_pixels, (np.abs(d) > 1e-6).sum(1))
    top = rep.topk(0, 3, after=True)
    assert [n for n, _ in top] == [names[i] for i in np.argsort(-p_after[0])[:3]]
    frame = rep.to_frame()
    assert list(frame["psnr_db"]) == list(rep.psnr) and len(frame) == len(x)
    assert "robust accuracy" in repr(rep)


def test_inputs_are_not_mutated(cnn, digits):
    x, y, _ = digits
    x0, y0 = x.copy(), y.copy()
    nd.attack(cnn, x, y, "pgd", eps=0.1, steps=2)
    nd.attack(cnn, x, y, "pixels", budget=3)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


# -- the fewest-pixels search -----------------------------------------------------------------------
def test_pixels_attack_flips_digits_with_few_pixels(cnn, digits):
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "pixels", budget=16)
    ok = rep.clean_correct
    flipped = rep.success & ~rep.l0_censored
    assert flipped[ok].mean() > 0.9
    assert np.median(rep.l0_pixels[ok]) <= 5
    # the reported count is the real number of changed positions and the flip is real
    changed = (np.abs(rep.adversarial - x) > 0).reshape(len(x), -1).sum(1)
    np.testing.assert_array_equal(rep.l0_pixels[flipped], changed[flipped])
    pred = cnn(torch.tensor(rep.adversarial)).argmax(1).numpy()
    assert np.all(pred[flipped] != y[flipped])
    # changed values sit at the ends of the range
    moved = rep.adversarial[np.abs(rep.adversarial - x) > 0]
    assert np.all((moved == 0) | (moved == 1))
    assert np.all(rep.l0_pixels[~ok] == 0)


def test_pixels_attack_is_locally_minimal(cnn, digits):
    # pruning leaves no changed pixel whose restoration keeps the example misclassified
    x, y, _ = digits
    rep = nd.attack(cnn, x[:12], y[:12], "pixels", budget=16)
    for i in np.nonzero(rep.success & ~rep.l0_censored & rep.clean_correct)[0]:
        for r, c in zip(*np.nonzero(rep.adversarial[i, 0] != x[i, 0])):
            trial = rep.adversarial[i].copy()
            trial[0, r, c] = x[i, 0, r, c]
            assert cnn(torch.tensor(trial[None])).argmax(1).item() == y[i]


def test_pixels_attack_failures_are_reported_as_at_least_the_budget(cnn, digits):
    x, y, _ = digits
    rep = nd.attack(cnn, x, y, "pixels", budget=1)
    ok = rep.clean_correct
    assert rep.l0_censored[ok].any()
    assert np.all(rep.l0_pixels[rep.l0_censored] == 1)
    assert not rep.success[rep.l0_censored].any()
    assert np.all(rep.l0_pixels <= 1)
    assert "≥ budget" in repr(rep)


def test_pixels_are_positions_not_channels():
    gen = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 36, 4))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.7, (10, 3, 6, 6)).astype(np.float32)
    y = model(torch.tensor(x)).argmax(1).numpy()
    rep = nd.attack(model, x, y, "pixels", budget=36)
    ch_changes = (rep.adversarial != x).reshape(10, 3, -1)
    np.testing.assert_array_equal(rep.l0_pixels[rep.success], ch_changes.any(1).sum(1)[rep.success])
    assert ch_changes.sum() > ch_changes.any(1).sum()  # positions change several channels at once
    assert rep.changed_mask.shape == (10, 6, 6)


# -- Keras gives the same adversarials --------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_twin(cnn):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras is not on the TensorFlow backend")
    km = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.ReLU(),
                           keras.layers.Flatten(), keras.layers.Dense(10)])
    w, b = cnn[0].weight.detach().numpy(), cnn[0].bias.detach().numpy()
    km.layers[0].set_weights([w.transpose(2, 3, 1, 0), b])
    # torch flattens (C, H, W), Keras (H, W, C): reorder the dense rows to match
    dense = cnn[3].weight.detach().numpy().reshape(10, 4, 6, 6).transpose(2, 3, 1, 0).reshape(-1, 10)
    km.layers[3].set_weights([dense, cnn[3].bias.detach().numpy()])
    return km


@pytest.mark.parametrize("method,kw", [
    ("fgsm", dict(eps=0.1)),
    ("pgd", dict(eps=0.1, alpha=0.02, steps=5, random_start=False)),
    ("pgd", dict(eps=0.8, alpha=0.2, steps=5, random_start=False, norm="l2")),
    ("pixels", dict(budget=12)),
])
def test_keras_gives_the_same_adversarials_as_torch(cnn, keras_twin, digits, method, kw):
    x, y, _ = digits
    xk = x.transpose(0, 2, 3, 1).copy()
    rt = nd.attack(cnn, x, y, method, **kw)
    rk = nd.attack(keras_twin, xk, y, method, **kw)
    assert rk.framework == "keras" and rk.channel_axis == 2
    # L2 steps divide by a gradient norm, so the last bits differ between the frameworks
    atol = 1e-3 if kw.get("norm") == "l2" else 0
    np.testing.assert_allclose(rk.adversarial, rt.adversarial.transpose(0, 2, 3, 1), atol=atol, rtol=0)
    np.testing.assert_array_equal(rk.label_after, rt.label_after)
    if kw.get("norm") == "l2":  # components near zero may fall either side of the L0 tolerance
        assert np.abs(rk.l0_pixels - rt.l0_pixels).max() <= 2
    else:
        np.testing.assert_array_equal(rk.l0_pixels, rt.l0_pixels)
    np.testing.assert_allclose(rk.ssim, rt.ssim, atol=1e-4)


def test_keras_random_start_is_seeded_and_model_untouched(keras_twin, digits):
    x, y, _ = digits
    xk = x.transpose(0, 2, 3, 1).copy()
    before = [w.copy() for w in keras_twin.get_weights()]
    a = nd.attack(keras_twin, xk, y, "pgd", eps=0.1, alpha=0.02, steps=2, seed=3)
    b = nd.attack(keras_twin, xk, y, "pgd", eps=0.1, alpha=0.02, steps=2, seed=3)
    np.testing.assert_array_equal(a.adversarial, b.adversarial)
    assert a.linf.max() <= 0.1 + 1e-6
    for w0, w1 in zip(before, keras_twin.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert all(layer.trainable for layer in keras_twin.layers)


# -- perceptual metrics against scikit-image ---------------------------------------------------------
@pytest.mark.parametrize("shape,channel_axis", [((4, 1, 8, 8), 0), ((3, 3, 20, 17), 0), ((3, 16, 16, 3), 2),
                                                ((2, 5, 5), None), ((3, 400), None)])
def test_ssim_and_psnr_match_scikit_image(shape, channel_axis):
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, shape)
    b = np.clip(a + rng.normal(0, 0.05, shape), 0, 1)
    ours = perceptual.ssim(a, b, 1.0, channel_axis)
    ours_psnr = perceptual.psnr(a, b, 1.0)
    for i in range(shape[0]):
        win = min(7, min(s for k, s in enumerate(shape[1:]) if k != channel_axis))
        win = win if win % 2 else win - 1
        ref = metrics.structural_similarity(a[i], b[i], data_range=1.0, channel_axis=channel_axis, win_size=win)
        assert ours[i] == pytest.approx(ref, abs=1e-10)
        assert ours_psnr[i] == pytest.approx(metrics.peak_signal_noise_ratio(a[i], b[i], data_range=1.0), abs=1e-10)


def test_identical_inputs_give_infinite_psnr_and_unit_ssim():
    a = np.random.default_rng(0).uniform(0, 1, (2, 1, 8, 8))
    assert np.all(np.isinf(perceptual.psnr(a, a, 1.0)))
    np.testing.assert_allclose(perceptual.ssim(a, a, 1.0, 0), 1.0)
    assert perceptual.l0_pixels(a, a, 0).tolist() == [0, 0]


def test_channel_axis_resolution():
    assert resolve_channel_axis("torch", (3, 32, 32)) == 0
    assert resolve_channel_axis("keras", (32, 32, 3)) == 2
    assert resolve_channel_axis("torch", (1, 4000)) == 0
    assert resolve_channel_axis("keras", (4000, 1)) == 1
    assert resolve_channel_axis("torch", (8, 8)) is None
    assert resolve_channel_axis("torch", (4000,)) is None
    assert resolve_channel_axis("torch", (3, 8, 8), -3) == 0


# -- robust accuracy curve --------------------------------------------------------------------------
def test_robust_accuracy_curve_matches_single_attacks(cnn, digits):
    x, y, _ = digits
    curve = nd.robust_accuracy_curve(cnn, x, y, [0.02, 0.1, 0.3], steps=3, seed=0)
    for e, acc in zip(curve.eps, curve.robust_accuracy):
        rep = nd.attack(cnn, x, y, "pgd", eps=e, alpha=2.5 * e / 3, steps=3, seed=0)
        assert acc == pytest.approx(rep.robust_accuracy)
    assert curve.robust_accuracy[-1] < curve.clean_accuracy
    assert len(curve.to_frame()) == 3


def test_eps_at_half_interpolates():
    assert eps_at_half(np.array([1.0, 2.0]), np.array([0.8, 0.2]), 1.0) == pytest.approx(1.5)
    assert eps_at_half(np.array([1.0]), np.array([0.4]), 1.0) == pytest.approx(1 / 0.6 * 0.5)
    assert eps_at_half(np.array([1.0, 2.0]), np.array([0.9, 0.8]), 1.0) == float("inf")


# -- the model is left exactly as found -------------------------------------------------------------
def _snapshot(model):
    return ({k: v.clone() for k, v in model.state_dict().items()}, [m.training for m in model.modules()],
            [p.requires_grad for p in model.parameters()], [None if p.grad is None else p.grad.clone() for p in model.parameters()])


def _assert_same(model, snap):
    state, modes, req, grads = snap
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == req
    for p, g in zip(model.parameters(), grads):
        assert (p.grad is None and g is None) or torch.equal(p.grad, g)
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks


def test_model_untouched_after_attacks():
    model = _digits_cnn().train()
    model[0].weight.requires_grad_(False)
    model[3].bias.grad = torch.ones_like(model[3].bias)
    snap = _snapshot(model)
    X, y, _ = nd.datasets.digits_images()
    for method in ("fgsm", "pgd", "pixels"):
        nd.attack(model, X[:16], y[:16], method, steps=2, budget=3)
        _assert_same(model, snap)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_model_untouched_after_an_exception(error):
    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _digits_cnn()
            self.calls = 0

        def forward(self, t):
            self.calls += 1
            if self.calls > 3:
                raise error("boom in the middle of the attack")
            return self.body(t)

    model = Fails().train()
    snap = _snapshot(model)
    X, y, _ = nd.datasets.digits_images()
    with pytest.raises(error, match="boom"):
        nd.attack(model, X[:8], y[:8], "pgd", steps=10)
    _assert_same(model, snap)


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(method="cw"), ValueError, "method"),
    (dict(norm="l1"), ValueError, "norm"),
    (dict(method="fgsm", norm="l2"), ValueError, "norm"),
    (dict(eps=-0.1), ValueError, "eps"),
    (dict(eps="big"), TypeError, "eps"),
    (dict(alpha=0), ValueError, "alpha"),
    (dict(steps=1.5), TypeError, "steps"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(clip=(1, 0)), ValueError, "clip"),
    (dict(clip="x"), TypeError, "clip"),
    (dict(clip=None, method="pixels"), ValueError, "clip"),
    (dict(normalize=([0.1, 0.2], [1, 1])), ValueError, "normalize"),
    (dict(normalize=(0.1, 0.0)), ValueError, "normalize"),
    (dict(seed="a"), TypeError, "seed"),
    (dict(channel_axis=5), ValueError, "channel_axis"),
    (dict(random_start="yes"), TypeError, "random_start"),
    (dict(classes=["a", "b"]), ValueError, "classes"),
])
def test_bad_arguments(cnn, digits, kwargs, exc, match):
    x, y, _ = digits
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "pgd")
    with pytest.raises(exc, match=match):
        nd.attack(cnn, x[:4], y[:4], method, steps=1, **kwargs)


def test_bad_data(cnn, digits):
    x, y, _ = digits
    bad = x[:4].copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x: .*NaN"):
        nd.attack(cnn, bad, y[:4])
    with pytest.raises(ValueError, match="outside clip"):
        nd.attack(cnn, x[:4] * 255, y[:4])
    with pytest.raises(ValueError, match="y: has 3 labels"):
        nd.attack(cnn, x[:4], y[:3])
    with pytest.raises(ValueError, match="one-hot"):
        nd.attack(cnn, x[:4], np.eye(10)[y[:4]])
    with pytest.raises(ValueError, match="y: .*integer"):
        nd.attack(cnn, x[:4], y[:4] + 0.5)
    with pytest.raises(ValueError, match="not a class"):
        nd.attack(cnn, x[:4], np.array([1, 2, 3, 12]))
    with pytest.raises(TypeError, match="model"):
        nd.attack(object(), x[:4], y[:4])
    with pytest.raises(TypeError, match="x"):
        nd.attack(cnn, None, y[:4])
    with pytest.raises(ValueError, match="x: samples have shape"):
        nd.attack(cnn, x[:4, :, :6, :6], y[:4], input_shape=(1, 8, 8))


# -- the view ----------------------------------------------------------------------------------------
def test_widget_builds_and_exports(cnn, digits, tmp_path):
    pytest.importorskip("anywidget")
    from nbdebug.views.attack import METRICS, AttackWidget

    x, y, names = digits
    rep = nd.attack(cnn, x[:20], y[:20], "pixels", budget=8, classes=names)
    w = rep.widget()
    assert isinstance(w, AttackWidget) and rep.widget() is w
    assert w.originals.dtype == np.uint8 and w.originals.shape == (20, 8, 8, 1)
    assert w.changed.shape == (20, 8, 8) and w.changed.sum() == rep.changed_mask.sum()
    # the int8 difference times its scale gives back the signed change (in units of the range)
    back = w.diff.astype(np.float64) / 127 * w.diff_scale[:, None, None]
    np.testing.assert_allclose(back, (rep.adversarial - x[:20])[:, 0], atol=1 / 127 + 1e-6)
    state = w.get_state()
    assert isinstance(state["originals"]["buffer"], memoryview)  # binary, not a JSON list
    w.sort_by = "l0_pixels"
    order = w.gallery_order()
    assert np.all(np.diff(rep.l0_pixels[order]) >= 0)
    w.index = 3
    with pytest.raises(Exception, match="index"):
        w.index = 99
    with pytest.raises(Exception, match="sort_by"):
        w.sort_by = "colour"
    html = rep.to_html(tmp_path / "attack.html")
    text = html.read_text()
    assert "nba-gallery" in text and "nbd-state" in text
    for ext in ("png", "pdf"):
        out = rep.export(tmp_path / f"attack.{ext}", index=2)
        assert out.stat().st_size > 1000
    assert set(METRICS) == set(w.metric_names)


def test_widget_for_colour_images_and_audio(tmp_path):
    pytest.importorskip("anywidget")
    rng = np.random.default_rng(0)
    gen = torch.Generator().manual_seed(1)
    color = nn.Sequential(nn.Conv2d(3, 4, 5, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    audio = nn.Sequential(nn.Conv1d(1, 4, 32, stride=8), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(4, 5))
    with torch.no_grad():
        for p in list(color.parameters()) + list(audio.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    x = rng.uniform(0, 1, (2, 3, 224, 224)).astype(np.float32)
    rep = nd.attack(color, x, np.array([0, 1]), "fgsm", eps=2 / 255)
    w = rep.widget()
    assert w.originals.shape == (2, 224, 224, 3) and rep.modality == "image"
    rep.export(tmp_path / "colour.png")
    X, Y, classes, sr = nd.datasets.synthetic_audio(2)
    rep = nd.attack(audio, X[:, None], Y, "pgd", eps=0.02, alpha=0.005, steps=3, clip=(-1, 1),
                    classes=classes, sample_rate=sr)
    assert rep.modality == "audio"
    w = rep.widget()
    assert w.originals.dtype == np.float32 and w.originals.shape == X.shape
    assert w.spec_originals.dtype == np.uint8 and w.spec_originals.ndim == 3 and w.sample_rate == sr
    assert rep.to_html(tmp_path / "audio.html").stat().st_size > 10_000
    rep.export(tmp_path / "audio.svg")


def test_curve_widget_and_figure(cnn, digits, tmp_path):
    pytest.importorskip("anywidget")
    x, y, _ = digits
    curve = nd.robust_accuracy_curve(cnn, x[:16], y[:16], [0.05, 0.2], method="fgsm")
    w = curve.widget()
    assert w.view == "curves" and w.x.tolist() == pytest.approx([0, 0.05, 0.2])
    assert w.ys[0, 0] == pytest.approx(curve.clean_accuracy)
    curve.to_html(tmp_path / "curve.html")
    assert curve.export(tmp_path / "curve.png").stat().st_size > 1000


# -- robustness vs capacity ---------------------------------------------------------------------------
def test_robustness_sweep_trains_attacks_and_charts(tmp_path):
    X, y, _ = nd.datasets.digits_images()

    def build(width):
        gen = torch.Generator().manual_seed(width)
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
        return model

    def train(model, Xtr, ytr):
        opt = torch.optim.Adam(model.parameters(), 2e-2)
        for _ in range(30):
            opt.zero_grad()
            nn.functional.cross_entropy(model(torch.tensor(Xtr)), torch.tensor(ytr)).backward()
            opt.step()

    def bits(model, input_shape):
        return sum(p.numel() for p in model.parameters())

    sweep = nd.robustness_sweep(build, train, (X[:500], y[:500], X[500:560], y[500:560]), [4, 16],
                                n_attack=20, budget=6, eps_list=[0.05, 0.2], steps=3, capacity_fn=bits)
    assert sweep.capacity_bits.tolist() == [64 * 4 + 4 + 4 * 10 + 10, 64 * 16 + 16 + 16 * 10 + 10]
    assert sweep.capacity_source == "bits"
    assert sweep.robust_accuracy.shape == (2, 2) and np.all(sweep.accuracy > 0.5)
    for rep, med in zip(sweep.pixel_reports, sweep.median_pixels_to_flip):
        assert med == np.median(rep.pixels_to_flip())
    assert len(sweep.to_frame()) == 2 and "bits" in repr(sweep)
    w = sweep.widget()
    assert w.ys.shape == (3, 2)
    assert sweep.export(tmp_path / "sweep.png").stat().st_size > 1000
    with pytest.raises(TypeError, match="data"):
        nd.robustness_sweep(build, train, X, [4])
    with pytest.raises(ValueError, match="capacities"):
        nd.robustness_sweep(build, train, (X, y, X, y), [])


def test_feature_vectors_are_drawn_as_square_images(tmp_path):
    pytest.importorskip("anywidget")
    X, y, _ = nd.datasets.digits_images()
    gen = torch.Generator().manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    with torch.no_grad():
        for p in mlp.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    flat = X[:6].reshape(6, 64).copy()
    rep = nd.attack(mlp, flat, y[:6], "pixels", budget=10)
    assert rep.modality == "vector" and rep.channel_axis is None
    w = rep.widget()
    assert w.modality == "image" and w.originals.shape == (6, 8, 8, 1)
    np.testing.assert_array_equal(w.changed.reshape(6, -1), (rep.adversarial != flat))
    rep.export(tmp_path / "vector.png")
