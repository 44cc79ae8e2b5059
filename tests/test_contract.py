"""The public contract of ARCHITECTURE.md: the calls and the result fields users code against."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import nbdebug as nd
from tests import zoo


def params(fn):
    return inspect.signature(fn).parameters


def test_signatures():
    assert list(params(nd.capacity))[:4] == ["model", "input_shape", "data", "rule"]
    assert params(nd.capacity)["rule"].default == "friedland"
    csg = params(nd.csg)
    assert [csg[n].default for n in ("k", "M", "embedding", "seed")] == [3, 100, "raw", 0]
    res = params(nd.resample)
    assert res["sampler"].default == "smote" and res["seed"].default == 0
    att = params(nd.attack)
    assert att["method"].default == "pgd" and att["random_start"].default is True and att["seed"].default == 0
    assert {"eps", "alpha", "steps"} <= set(att)
    assert list(params(nd.summary))[:2] == ["model", "input_shape"]
    assert list(params(nd.as_dataset))[:2] == ["data", "labels"]
    assert "every" in params(nd.watch)  # default 10: the overhead goal for the default schedule


def test_result_fields():
    X, y = nd.datasets.friedland_2d("xor")
    model = zoo.torch_mlp()

    layer = nd.as_model(model).layers[1]
    assert {"name", "kind", "params", "output_shape", "inbound"} <= set(vars(layer))
    ds = nd.as_dataset(X, y)
    assert (ds.X.shape, ds.y.dtype.kind, ds.classes, ds.modality) == ((100, 2), "i", [0, 1], "tabular")
    assert len(nd.summary(model).layers) == 4

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = nd.capacity(model)
    row = cap.layers[1]
    assert isinstance(cap.total_bits, (int, float, np.integer))
    for field in ("name", "kind", "params", "bits_in", "capacity_bits", "bits_out", "supported"):
        assert hasattr(row, field), field

    cx = nd.complexity(X, y)
    assert (cx.changes, cx.dims, cx.expected_bits) == (26, 2, 10) and cx.max_bits == 26 * 3 + 26

    c = nd.csg(X, y, k=2, M=None)
    assert isinstance(c.score, float) and c.similarity.shape == (2, 2)
    assert c.eigenvalues.shape == (2,) and list(c.classes) == [0, 1]

    r = nd.resample(X, np.r_[np.zeros(90, int), np.ones(10, int)], sampler="smote")
    m = len(r.X) - len(r.kept)
    assert r.synthetic_parents.shape == (m, 2) and r.synthetic_weights.shape == (m,)
    assert len(r.y) == len(r.X)

    x = np.random.default_rng(0).uniform(size=(4, 4)).astype(np.float32)
    a = nd.attack(model, x, np.array([0, 1, 2, 0]), method="fgsm", eps=0.1)
    for field in ("adversarial", "success", "l0_pixels", "l2", "linf", "psnr", "ssim"):
        assert hasattr(a, field), field
    assert a.adversarial.shape == x.shape


def test_watch_contract():
    import torch

    model = zoo.torch_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with nd.watch(model) as flow:
        for _ in range(3):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    assert flow.history is not None and isinstance(flow.flags, list)


def test_every_result_exports(tmp_path):
    X, y = nd.datasets.friedland_2d("circle")
    results = [nd.complexity(X, y), nd.csg(X, y, k=2, M=None), nd.resample(X, y, sampler="tomek")]
    for i, result in enumerate(results):
        for ext in ("png", "svg", "html"):
            path = result.export(tmp_path / f"r{i}.{ext}")
            assert path.stat().st_size > 500, (type(result).__name__, ext)
        assert "application/vnd.jupyter.widget-view+json" in result._repr_mimebundle_()


@pytest.mark.parametrize("name", ["capacity", "csg", "resample", "attack", "summary", "complexity", "as_model", "as_dataset"])
def test_public_calls_have_numpy_docstrings(name):
    doc = getattr(nd, name).__doc__ or ""
    assert "Parameters" in doc and "Returns" in doc, name
