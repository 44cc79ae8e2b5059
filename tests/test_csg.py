"""CSG (Cumulative Spectral Gradient): against spectral-metric, Table 1, a slow obvious
re-implementation, bad input, no mutation, determinism and the embedding cache."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs

import nbdebug as nd
from nbdebug.analysis import csg as csg_mod

spectral_metric = pytest.importorskip("spectral_metric")
from spectral_metric.estimator import CumulativeGradientEstimator  # noqa: E402
from spectral_metric.lib import find_samples  # noqa: E402


def reference(X, y, k, M):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = np.random.get_state()  # the reference reseeds the global RNG; put it back
        try:
            est = CumulativeGradientEstimator(M_sample=M, k_nearest=k).fit(X, y)
        finally:
            np.random.set_state(state)
    return est


def digits_subset():
    d = load_digits()
    # digits are integers 0..16, so distances tie everywhere; the reference breaks those ties by
    # the order of an unstable sort. A tiny jitter makes the neighbour sets well defined.
    rng = np.random.default_rng(0)
    return d.data[:400] + rng.normal(0, 1e-3, (400, 64)), d.target[:400]


DATASETS = {
    "digits": digits_subset,
    "blobs_5d": lambda: make_blobs(500, 5, centers=4, cluster_std=3.0, random_state=0),
    "blobs_40d": lambda: make_blobs(600, 40, centers=5, cluster_std=7.0, random_state=1),
    **{name: (lambda name=name: nd.datasets.friedland_2d(name)) for name in ("spiral", "xor", "circle", "gauss", "moon")},
}


@pytest.mark.parametrize("name", list(DATASETS))
def test_equals_reference_when_M_covers_every_class(name):
    X, y = DATASETS[name]()
    k = 2 if X.shape[1] == 2 else 3
    ref = reference(X, y, k, 10**6)
    ours = nd.csg(X, y, k=k, M=None, reference_compatible=True)
    np.testing.assert_allclose(ours.similarity, ref.S, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.W, ref.W, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.eigenvalues, ref.evals, rtol=0, atol=1e-9)
    assert isinstance(ours.score, float)
    assert ours.score == pytest.approx(float(ref.csg[0]), abs=1e-9)
    # per-sample posteriors equal the reference's kNN class proportions
    ref_post = {i: a.sample_probability for c in ref.similarity_arrays for i, a in ref.similarity_arrays[c].items()}
    got = dict(zip(ours.sample_index.tolist(), ours.posteriors))
    for i in list(ref_post)[:50]:
        np.testing.assert_allclose(got[i], ref_post[i], atol=1e-12)
    # without duplicated points the default differs from the reference only in rounding
    if name != "spiral":
        default = nd.csg(X, y, k=k, M=None)
        np.testing.assert_allclose(default.similarity, ref.S, rtol=0, atol=1e-9)
        assert default.score == pytest.approx(float(ref.csg[0]), abs=1e-9)


def test_equals_reference_with_the_same_class_samples():
    """With M below the class sizes, the compatible mode draws like find_samples(seed=...)."""
    X, y = make_blobs(400, 6, centers=4, cluster_std=3.0, random_state=3)
    est = CumulativeGradientEstimator(M_sample=30, k_nearest=4)
    est.n_class = 4
    samples, est.class_indices = find_samples(X, y, 4, M=30, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.compute(X, y, samples)
    ours = nd.csg(X, y, k=4, M=30, seed=7, reference_compatible=True)
    assert set(ours.sample_index.tolist()) == {int(i) for c in est.class_indices.values() for i in c}
    np.testing.assert_allclose(ours.similarity, est.S, atol=1e-9)
    assert ours.score == pytest.approx(float(est.csg[0]), abs=1e-9)


def test_seeded_subsampling_agrees_with_reference_mean():
    X, y = make_blobs(600, 8, centers=3, cluster_std=4.0, random_state=5)
    ref = np.array([float(reference(X, y, 3, 40).csg[0]) for _ in range(12)])
    ours = np.array([nd.csg(X, y, k=3, M=40, seed=s).score for s in range(12)])
    spread = 3 * np.sqrt(ref.var(ddof=1) / ref.size + ours.var(ddof=1) / ours.size)
    assert abs(ours.mean() - ref.mean()) <= spread + 1e-12
    assert ours.std() > 0, "different seeds draw different samples"


# main paper, Table 1 (2-D rows), at its printed precision
TABLE1 = {"spiral": 0.431, "xor": 0.00609, "circle": 0.0, "gauss": 0.0, "moon": 0.0}


def _printed(value, like):
    if like == 0:
        return round(value, 3)
    return float(f"{value:.3g}")


@pytest.mark.parametrize("name", list(TABLE1))
def test_table1(name):
    X, y = nd.datasets.friedland_2d(name)
    compatible = nd.csg(X, y, k=2, M=None, reference_compatible=True)
    assert _printed(compatible.score, TABLE1[name]) == TABLE1[name]
    default = nd.csg(X, y, k=2, M=None)
    if name == "spiral":
        # (0, 0) is in the file twice, once per class. The reference drops the first of the
        # k + 1 nearest, i.e. the other copy, and counts the sample as its own neighbour;
        # ours excludes the sample itself.
        assert np.isclose(default.score, 0.5288, atol=1e-4)
    else:
        assert _printed(default.score, TABLE1[name]) == TABLE1[name]


def naive_csg(X, y, k):
    """The definition, written out: full sort per sample, log volumes, dense Laplacian."""
    X = np.asarray(X, float)
    K = int(y.max()) + 1
    S = np.zeros((K, K))
    for c in range(K):
        logw, posts = [], []
        for i in np.flatnonzero(y == c):
            dist = np.sqrt(((X - X[i]) ** 2).sum(1))
            dist[i] = np.inf
            nb = np.lexsort((np.arange(len(X)), dist))[:k]
            posts.append(np.bincount(y[nb], minlength=K) / k)
            side = 2 * np.abs(X[nb] - X[i]).max(0)
            with np.errstate(divide="ignore"):
                logw.append(-max(np.log(side).sum(), np.log(1e-4)))
        logw = np.array(logw)
        row = (np.exp(logw - logw.max())[:, None] * np.array(posts)).sum(0)
        S[c] = row / row.sum()
    W = np.array([[1 - np.abs(a - b).sum() / np.abs(a + b).sum() for b in S] for a in S])
    L = np.diag(W.sum(1) - np.diag(W)) - (W - np.diag(np.diag(W)))
    ev = np.linalg.eigvalsh(L)
    gaps = np.diff(ev) / (K - np.arange(K - 1))
    return S, ev, np.maximum.accumulate(gaps).sum()


def test_d784_is_finite_where_reference_is_nan():
    X, y = make_blobs(300, 784, centers=3, cluster_std=3.0, random_state=0)
    ref = reference(X, y, 5, 10**6)
    assert np.isnan(ref.csg).all(), "the reference overflows here"
    ours = nd.csg(X, y, k=5, M=None)
    assert np.isfinite(ours.score) and np.isfinite(ours.similarity).all()
    S, ev, score = naive_csg(X, y, 5)
    np.testing.assert_allclose(ours.similarity, S, atol=1e-9)
    np.testing.assert_allclose(ours.eigenvalues, ev, atol=1e-9)
    assert ours.score == pytest.approx(score, abs=1e-9)
    # the compatible mode reproduces the reference's NaN
    assert np.isnan(nd.csg(X, y, k=5, M=None, reference_compatible=True).score)


def test_overlapping_classes_match_naive_on_both_search_paths(monkeypatch):
    X, y = make_blobs(300, 6, centers=3, cluster_std=6.0, random_state=2)
    S, ev, score = naive_csg(X, y, 3)
    kd = nd.csg(X, y, k=3, M=None)
    monkeypatch.setattr(csg_mod, "_KDTREE_MAX_DIM", 0)  # force the BLAS + pruning search
    blas = nd.csg(X, y, k=3, M=None)
    for r in (kd, blas):
        np.testing.assert_allclose(r.similarity, S, atol=1e-9)
        assert r.score == pytest.approx(score, abs=1e-9)
    np.testing.assert_array_equal(kd.neighbors, blas.neighbors)


def test_labels_with_gaps_and_strings():
    X, y = make_blobs(300, 4, centers=3, cluster_std=3.0, random_state=4)
    base = nd.csg(X, y, k=3, M=None)
    gapped = nd.csg(X, np.array([0, 5, 9])[y], k=3, M=None)
    named = nd.csg(X, np.array(["cat", "dog", "eel"])[y], k=3, M=None)
    for r in (gapped, named):
        np.testing.assert_allclose(r.similarity, base.similarity, atol=1e-12)
        assert r.score == pytest.approx(base.score)
    assert gapped.classes == [0, 5, 9] and named.classes == ["cat", "dog", "eel"]
    # the reference makes max + 1 classes: empty rows, NaN
    assert np.isnan(nd.csg(X, np.array([0, 5, 9])[y], k=3, M=None, reference_compatible=True).score)


def test_M_means_samples():
    X, y = make_blobs(300, 4, centers=3, random_state=0)
    one = nd.csg(X, y, k=3, M=1)
    assert np.bincount(one.sample_class).tolist() == [1, 1, 1]
    assert nd.csg(X, y, k=3, M=10_000).sample_index.size == 300
    # the reference reads M <= 1 as a fraction
    assert nd.csg(X, y, k=3, M=1, reference_compatible=True).sample_index.size == 300
    assert nd.csg(X, y, k=3, M=0.5, reference_compatible=True).sample_index.size == 150


def test_determinism_and_seed():
    X, y = make_blobs(400, 5, centers=4, cluster_std=3.0, random_state=0)
    a = nd.csg(X, y, k=3, M=20, seed=11)
    b = nd.csg(X, y, k=3, M=20, seed=11)
    c = nd.csg(X, y, k=3, M=20, seed=12)
    np.testing.assert_array_equal(a.sample_index, b.sample_index)
    assert a.score == b.score
    assert not np.array_equal(a.sample_index, c.sample_index)
    state = np.random.get_state()[1].copy()
    nd.csg(X, y, k=3, M=20, seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_inputs_not_mutated():
    X, y = make_blobs(200, 5, centers=3, random_state=0)
    X_copy, y_copy = X.copy(), y.copy()
    emb = X[:, :3] * 2.0
    emb_copy = emb.copy()
    nd.csg(X, y, k=3, M=None, embedding=emb)
    nd.csg(X, y, k=3, M=50, embedding="pca", n_components=3)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(emb, emb_copy)
    assert X.flags.writeable and y.flags.writeable


def test_embedding_cache_reused_across_k_and_M():
    X, y = make_blobs(200, 10, centers=3, random_state=0)
    calls = []

    def features(data):
        calls.append(1)
        return np.asarray(data)[:, :4] ** 2

    r1 = nd.csg(X, y, k=3, M=None, embedding=features)
    r2 = nd.csg(X, y, k=5, M=30, embedding=features)
    assert len(calls) == 1 and r1.features is r2.features and r1.n_features == 4
    p1 = nd.csg(X, y, k=3, embedding="pca", n_components=5)
    p2 = nd.csg(X, y, k=4, M=20, embedding="pca", n_components=5)
    assert p1.features is p2.features
    assert nd.csg(X, y, embedding="pca", n_components=4).features is not p1.features


def test_interrupt_leaves_cache_unchanged():
    X, y = make_blobs(100, 4, centers=2, random_state=0)

    def stop(data):
        raise KeyboardInterrupt

    before = dict(csg_mod._CACHE)
    with pytest.raises(KeyboardInterrupt):
        nd.csg(X, y, embedding=stop)
    assert dict(csg_mod._CACHE) == before


def test_tsne_embedding_and_display():
    X, y = make_blobs(120, 8, centers=3, random_state=0)
    r = nd.csg(X, y, k=3, M=None, embedding="tsne", embedding_kwargs={"max_iter": 250})
    assert r.n_features == 2 and r.coords.shape == (120, 2) and np.isfinite(r.score)
    raw = nd.csg(X, y, k=3, M=None)
    assert raw.coords.shape == (120, 2) and raw.coords.dtype == np.float32
    custom = nd.csg(X, y, display=X[:, :2])
    np.testing.assert_allclose(custom.coords, X[:, :2].astype(np.float32))


def test_result_fields_and_helpers():
    X, y = make_blobs(300, 4, centers=4, cluster_std=4.0, random_state=0)
    r = nd.csg(X, y, k=3, M=None)
    K = 4
    assert r.similarity.shape == r.W.shape == (K, K)
    np.testing.assert_allclose(r.similarity.sum(1), 1)
    np.testing.assert_allclose(r.posteriors.sum(1), 1)
    assert r.gaps.shape == r.cumulative_max.shape == (K - 1,)
    assert r.score == pytest.approx(r.cumulative_max.sum())
    assert sorted(r.class_order.tolist()) == list(range(K))
    assert r.neighbors.shape == (300, 3) and not (r.neighbors == r.sample_index[:, None]).any()
    pair = r.overlap_samples(0, 1, n=6)
    assert len(pair) <= 6 and set(r.y[pair]) <= {0, 1}
    frame = r.to_frame()
    assert frame.shape == (K, K)
    assert "CSGReport(score=" in repr(r)


def test_duplicates_exclude_the_sample_itself():
    X = np.array([[0.0, 0], [0, 0], [1, 0], [5, 5], [5, 6], [6, 5]])
    y = np.array([0, 1, 0, 1, 1, 0])
    r = nd.csg(X, y, k=1, M=None)
    nb = dict(zip(r.sample_index.tolist(), r.neighbors[:, 0].tolist()))
    assert nb[0] == 1 and nb[1] == 0


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(k=0), ValueError, "k"),
        (dict(k=2.5), TypeError, "k"),
        (dict(k=500), ValueError, "k"),
        (dict(M=0), ValueError, "M"),
        (dict(M=0.5), TypeError, "M"),
        (dict(embedding="isomap"), ValueError, "embedding"),
        (dict(embedding=np.zeros((7, 2))), ValueError, "embedding"),
        (dict(display=np.zeros((7, 2))), ValueError, "display"),
        (dict(display="mds"), ValueError, "display"),
        (dict(device="tpu"), ValueError, "device"),
        (dict(seed="x"), TypeError, "seed"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    X, y = make_blobs(100, 3, centers=2, random_state=0)
    with pytest.raises(exc, match=match):
        nd.csg(X, y, **kwargs)


def test_bad_data():
    X, y = make_blobs(100, 3, centers=2, random_state=0)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X"):
        nd.csg(bad, y)
    with pytest.raises(ValueError, match="y"):
        nd.csg(X, y[:-1])
    with pytest.raises(ValueError, match="y"):
        nd.csg(X, np.zeros(100, int))
    with pytest.raises(TypeError, match="X"):
        nd.csg(None, y)
    with pytest.raises(ValueError, match="y"):
        nd.csg(X, np.array(["a", "b"] * 50), reference_compatible=True)


# -- viewer ------------------------------------------------------------------------------------
def test_widget_state_gallery_and_recompute():
    X, y, names = nd.datasets.digits_images()
    X, y = X[:600], np.asarray(names)[y[:600]]
    r = nd.csg(X, y, k=3, M=None, embedding="pca", n_components=10)
    w = r.widget()
    assert w is r.widget()
    assert w.modality == "image" and w.coords.shape == (600, 2) and w.coords.dtype == np.float32
    assert w.similarity.shape == (10, 10) and w.classes == [str(c) for c in r.classes]
    i, j = np.unravel_index(np.argmax(r.similarity - np.diag(np.diag(r.similarity))), r.similarity.shape)
    w.selected_pair = [int(i), int(j)]
    assert w.gallery_pair == [i, j]
    assert w.gallery_images.dtype == np.uint8 and w.gallery_images.shape[1:] == (8, 8, 1)
    assert set(w.gallery_labels.tolist()) <= {i, j} and w.gallery_index.size > 0
    with pytest.raises(Exception, match="selected_pair"):
        w.selected_pair = [0, 99]
    # exclude two classes, change k and M: recomputed through csg() on the cached embedding
    w.included = [True] * 8 + [False] * 2
    w.k, w.M = 4, 30
    w.request += 1
    assert not w.busy and w.status == ""
    assert w.similarity.shape == (8, 8) and w.active.tolist() == list(range(8))
    expected = nd.csg(r.features[np.isin(r.y, range(8))], r.y[np.isin(r.y, range(8))], k=4, M=30, seed=0)
    assert w.score == pytest.approx(expected.score)
    w.included = [True] + [False] * 9
    w.request += 1
    assert "two classes" in w.status and w.similarity.shape == (8, 8)
    bundle = r._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_widget_audio_and_tabular_galleries():
    Xa, ya, names, sr = nd.datasets.synthetic_audio(8)
    ra = nd.csg(Xa, ya, k=3, embedding=lambda X: np.abs(np.fft.rfft(X, axis=1))[:, ::16], classes=names, sample_rate=sr)
    wa = ra.widget()
    wa.selected_pair = [0, 1]
    assert wa.modality == "audio"
    off = wa.gallery_audio_offsets
    assert off.size == wa.gallery_index.size + 1
    assert bytes(wa.gallery_audio[off[0]:off[1]][:4]) == b"RIFF"
    # a spectrogram per clip, on one dB scale: the loudest bin of the gallery is 255
    spec = wa.gallery_spectrograms
    assert spec.dtype == np.uint8 and spec.ndim == 3 and spec.shape[0] == wa.gallery_index.size and spec.max() == 255
    from nbdebug.views._base import spectrogram_db

    first = spectrogram_db(np.asarray(Xa[wa.gallery_index[:1]], dtype=np.float64), sr)[0]
    assert spec.shape[1:] == first.shape
    # the image is that clip's spectrogram: its loudest frequency row is the same
    assert spec[0].mean(1).argmax() == first.mean(1).argmax()
    Xt, yt = make_blobs(200, 5, centers=3, cluster_std=4.0, random_state=0)
    wt = nd.csg(Xt, yt).widget()
    wt.selected_pair = [0, 1]
    assert wt.modality == "tabular" and wt.gallery_rows.shape[1] == 5 and wt.gallery_columns[0] == "x0"
    assert wt.gallery_spectrograms is None


def test_exports_and_page(tmp_path):
    X, y = make_blobs(3000, 6, centers=30, cluster_std=3.0, random_state=0)
    r = nd.csg(X, [f"<b>c{i}</b>" for i in y], k=3, M=40)
    assert r.widget().spectral_order  # many classes: heatmap in spectral order
    for ext in ("png", "svg", "pdf"):
        assert r.export(tmp_path / f"csg.{ext}").stat().st_size > 1000
    page = r.to_html(tmp_path / "csg.html").read_text()
    assert "<b>c1</b>" not in page, "class names are data, never markup"


def test_cache_tells_callables_apart():
    X, y = make_blobs(150, 6, centers=3, random_state=0)
    scores = set()
    for j in range(3):
        r = nd.csg(X, y, k=3, M=None, embedding=lambda data, j=j: np.asarray(data)[:, j:j + 2])
        scores.add(round(r.score, 12))
        np.testing.assert_array_equal(r.features, X[:, j:j + 2])


def test_torch_block_path_matches_numpy():
    """The GPU path's code (torch matmul + topk) run on torch's CPU device."""
    pytest.importorskip("torch")
    X, y = make_blobs(400, 20, centers=4, cluster_std=5.0, random_state=0)
    queries = np.arange(400)
    ref = csg_mod._knn_blockwise(X, y, 4, queries, 3, False)
    via_torch = csg_mod._knn_blockwise(X, y, 4, queries, 3, False, device="cpu")
    np.testing.assert_array_equal(ref, via_torch)
    with pytest.raises(ValueError, match="device"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("a GPU is present")
        nd.csg(X, y, device="cuda")


def test_float32_search_is_certified_and_falls_back(monkeypatch):
    """d >= 128 searches in float32; answers the error bound cannot certify are redone in float64."""
    X, y = make_blobs(800, 200, centers=4, cluster_std=8.0, random_state=0)
    queries = np.arange(800)
    f32 = csg_mod._knn_blockwise(X, y, 4, queries, 3, False)
    monkeypatch.setattr(csg_mod, "_F32_MIN_DIM", 10**9)
    f64 = csg_mod._knn_blockwise(X, y, 4, queries, 3, False)
    np.testing.assert_array_equal(f32, f64)
    monkeypatch.setattr(csg_mod, "_F32_MIN_DIM", 128)
    monkeypatch.setattr(csg_mod, "_U32", 1e-2)  # a bound so loose that nothing is certified
    calls = []
    fallback = csg_mod._knn_exact_fallback
    monkeypatch.setattr(csg_mod, "_knn_exact_fallback", lambda *a: calls.append(1) or fallback(*a))
    np.testing.assert_array_equal(csg_mod._knn_blockwise(X, y, 4, queries, 3, False), f64)
    assert calls


def test_float32_search_exact_at_ties_and_near_ties(monkeypatch):
    """Integer pixels (many equal distances) and copies nudged below float32 resolution."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 17, size=(300, 160)).astype(np.float64)
    near = base[:100] + rng.normal(scale=1e-6, size=(100, 160))  # float32 cannot tell these apart
    X = np.vstack([base, near, base[:50]])  # and 50 exact duplicates
    y = np.arange(X.shape[0]) % 3
    queries = np.arange(X.shape[0])
    f32 = csg_mod._knn_blockwise(X, y, 3, queries, 4, False)
    monkeypatch.setattr(csg_mod, "_F32_MIN_DIM", 10**9)
    f64 = csg_mod._knn_blockwise(X, y, 3, queries, 4, False)
    np.testing.assert_array_equal(f32, f64)
    # and against a brute force in float64 (distance, then index)
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    brute = np.lexsort((np.broadcast_to(np.arange(X.shape[0]), d2.shape), d2))[:, :5]
    np.testing.assert_array_equal(f64, brute)


def test_model_layer_embedding_uses_the_adapter_and_its_cache():
    import torch
    import torch.nn as nn

    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(np.float32)
    y = y[:300]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    forward_passes = []
    model[0].register_forward_hook(lambda *args: forward_passes.append(1))
    rep = nd.csg(X, y, k=3, M=None, embedding=(model, "1"))
    with torch.no_grad():
        hidden = model[1](model[0](torch.from_numpy(X))).numpy()
    expected = nd.csg(X, y, k=3, M=None, embedding=hidden)
    assert rep.score == pytest.approx(expected.score, abs=1e-9)
    seen = len(forward_passes)
    nd.csg(X, y, k=5, M=None, embedding=(model, "1"))
    assert len(forward_passes) == seen, "changing k reuses the cached activations"
    with torch.no_grad():
        model[0].weight.add_(1.0)  # trained in place: features must be recomputed
    nd.csg(X, y, k=5, M=None, embedding=(model, "1"))
    assert len(forward_passes) > seen
