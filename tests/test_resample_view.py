"""Tests for the resampling widgets and figures (no browser: state, recompute, export)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

import nbdebug as nd
from nbdebug.views._base import array_to_json
from nbdebug.views.resample import Projection, ResampleSearchWidget, ResampleWidget, plot_state


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=2, n_informative=2, n_redundant=0, weights=[0.9, 0.1],
        n_clusters_per_class=1, flip_y=0.03, random_state=2,
    )
    return X, np.where(y == 1, "rare", "common")


def test_widget_state_matches_report(data):
    X, y = data
    rep = nd.resample(X, y, "smote_tomek", seed=1)
    w = rep.widget()
    assert isinstance(w, ResampleWidget) and rep.widget() is w
    assert w.classes == ["common", "rare"]
    assert w.sampler == "smote_tomek" and w.k_neighbors == 5 and w.controls_enabled
    # 2-D data are drawn on their own axes: the projection is the identity
    np.testing.assert_allclose(w.before_xy, X.astype(np.float32))
    # the after panel holds exactly the resampled rows
    np.testing.assert_allclose(w.after_xy, rep.X.astype(np.float32))
    assert w.after_synthetic.sum() == rep.n_synthetic
    assert w.before_removed.sum() == rep.removed.size
    assert w.tomek_xy.shape == (len(rep.tomek_pairs), 2, 2)
    assert w.ghost_xy.shape[0] == rep.removed.size + rep.removed_synthetic.size
    assert w.counts_before == rep.counts_before.tolist()
    assert w.summary["n_synthetic"] == rep.n_synthetic
    # arrays cross as binary float32 / int32 buffers, never lists
    msg = array_to_json(w.after_xy)
    assert msg["dtype"] == "float32" and isinstance(msg["buffer"], memoryview)
    assert w.syn_parents.dtype == np.int32 and w.syn_parents.shape == (rep.n_synthetic, 2)


def test_pca_is_fitted_on_original_and_applied_to_both(data):
    X, y = data
    X5 = np.column_stack([X, X @ np.array([[0.3, 1.0, -0.2], [0.7, -0.4, 1.1]])])
    rep = nd.resample(X5, y, "smote", seed=0)
    proj = Projection(X5, "pca")
    from sklearn.decomposition import PCA

    ref = PCA(n_components=2, random_state=0).fit(X5)
    np.testing.assert_allclose(proj.xy, ref.transform(X5), rtol=1e-4, atol=1e-5)
    state = plot_state(rep, proj)
    np.testing.assert_allclose(state["after_xy"], ref.transform(rep.X), rtol=1e-4, atol=1e-4)


def test_controls_recompute_through_resample(data):
    X, y = data
    rep = nd.resample(X, y, "smote", seed=0)
    w = ResampleWidget(rep)
    w.k_neighbors = 2
    w.seed = 7
    w.request_id = 1
    assert w.response_id == 1 and w.error == ""
    assert w.report.sampler.k_neighbors == 2 and w.report.seed == 7
    ref = nd.resample(X, y, "smote", seed=7, k_neighbors=2)
    np.testing.assert_allclose(w.after_xy, ref.X.astype(np.float32))
    w.sampler, w.sampling_ratio = "random_under", 0.5
    w.request_id = 2
    assert w.response_id == 2 and w.counts_after == [int(round((y == "rare").sum() / 0.5)), int((y == "rare").sum())]
    w.sampler = "tomek"
    w.request_id = 3
    assert w.summary["n_tomek_pairs"] == len(nd.resample(X, y, "tomek").tomek_pairs)
    # a bad setting reports an error and keeps the last good state
    w.sampler, w.k_neighbors = "smote", 200
    before = w.after_xy.copy()
    w.request_id = 4
    assert w.response_id == 4 and "k_neighbors" in w.error
    np.testing.assert_array_equal(w.after_xy, before)


def test_user_sampler_disables_controls(data):
    from imblearn.over_sampling import ADASYN

    X, y = data
    rep = nd.resample(X, y, ADASYN(random_state=0))
    w = rep.widget()
    assert not w.controls_enabled and w.sampler == "ADASYN"
    w.request_id = 5
    assert w.response_id == 5 and w.report is rep


def test_image_gallery_and_audio_players():
    from nbdebug.datasets import digits_images, synthetic_audio

    X, y, names = digits_images()
    keep = (y != 3) | (np.arange(len(y)) % 25 == 0)
    rep = nd.resample(X[keep], y[keep], "smote", k_neighbors=3)
    w = rep.widget()
    assert w.gallery_kind == "image"
    assert w.gallery.dtype == np.uint8 and w.gallery.shape[1:] == (3, 8, 8, 1)
    info = w.gallery_info[0]
    # the middle image is the synthetic row, the outer ones its parents, scaled like the data
    g = w.gallery[0].astype(float) / 255
    np.testing.assert_allclose(g[0, ..., 0], X[keep][info["parent"], 0], atol=1 / 255)
    np.testing.assert_allclose(g[1, ..., 0], rep.X[info["row"], 0], atol=1 / 255)
    # rare class 3 dominates the gallery (it got most synthetic rows)
    assert sum(i["label"] == "3" for i in w.gallery_info) >= len(w.gallery_info) // 2

    A, ya, _, rate = synthetic_audio(n_per_class=12)
    keep = (ya != 4) | (np.arange(len(ya)) % 3 == 0)
    rep = nd.resample(A[keep], ya[keep], "smote", k_neighbors=2)
    w = ResampleWidget(rep, sample_rate=rate)
    assert w.gallery_kind == "audio" and w.gallery.dtype == np.float32
    assert w.gallery.shape[1:] == (3, A.shape[1])


def test_export_and_html(data, tmp_path):
    X, y = data
    rep = nd.resample(X, y, "smote_tomek", seed=1)
    for ext in ("png", "svg", "pdf"):
        path = rep.export(tmp_path / f"r.{ext}", dpi=40, point_size=6)
        assert path.stat().st_size > 1000
    html = rep.to_html(tmp_path / "r.html").read_text()
    assert "nbRsRenderResample" in html and "<script" in html
    fig = rep.figure(links=False)
    assert len(fig.axes) == 3
    assert "rare" in [t.get_text() for t in fig.axes[2].get_xticklabels()]


def test_search_widget_and_figure(data, tmp_path):
    X, y = data
    rep = nd.resample_search(X, y, samplers=["smote", "smote_enn"], trials=2, progress=False)
    w = rep.widget()
    assert isinstance(w, ResampleSearchWidget) and w.view == "search"
    assert w.changes.shape == (2, 2)
    assert w.best == [rep.samplers.index(rep.best_sampler), rep.best_trial]
    assert rep.export(tmp_path / "s.svg").stat().st_size > 1000
    assert "nbRsRenderSearch" in rep.to_html()
    ax = rep.figure(metric="expected_bits").axes[0]
    assert ax.get_ylabel() == "expected complexity (bits)"
    assert rep.best.widget().after_xy.shape[0] == rep.best.n_after
