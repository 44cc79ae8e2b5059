"""The model summary result, its widget, its exports and the standalone page."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import nbdebug as nd
from tests import zoo


@pytest.fixture
def torch_summary():
    return nd.summary(zoo.torch_residual(), input_shape=(1, 8, 8))


def test_rows_and_totals(torch_summary):
    s = torch_summary
    assert s.framework == "torch" and s.graph_source == "fx"
    assert s.n_params == sum(r["params"] for r in s.rows())
    assert s.n_branch_edges == 2  # relu -> add skips conv_a; add -> cat skips conv_b
    frame = s.to_frame()
    assert list(frame.columns[:3]) == ["name", "kind", "category"]
    assert frame.loc[frame.name == "cat", "inbound"].item() == "add, conv_b"
    assert "Trainable params" in repr(s)


def test_keras_summary_matches_keras_own_count():
    pytest.importorskip("keras")
    model = zoo.keras_functional()
    s = nd.summary(model)
    assert s.n_params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert s.n_params_non_trainable == 8  # batch-norm moving mean and variance
    assert [r["name"] for r in s.rows()][:3] == ["image", "stem", "bn"]


def test_widget_state_and_selection(torch_summary):
    w = torch_summary.widget()
    assert w is torch_summary.widget(), "the same widget is reused"
    assert [r["name"] for r in w.rows] == [n.name for n in torch_summary.layers]
    w.selected = "conv_a"
    with pytest.raises(Exception, match="selected"):
        w.selected = "no such layer"
    bundle = torch_summary._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/plain" in bundle


def test_exports(tmp_path, torch_summary):
    for ext in ("png", "svg", "pdf"):
        path = torch_summary.export(tmp_path / f"s.{ext}")
        assert path.stat().st_size > 1000
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="path"):
        torch_summary.export(tmp_path / "s.gif")


def test_standalone_html_embeds_state_and_escapes_user_strings(tmp_path):
    page = nd.summary(zoo.torch_evil_names()).to_html()
    assert "</script><img" not in page
    state = json.loads(re.search(r'id="nbd-state">(.*?)</script>', page, re.S).group(1))
    assert zoo.EVIL_NAME in [r["name"] for r in state["state"]["rows"]]
    assert "cdn" not in page.lower() and "https://" not in page
    path = nd.summary(zoo.torch_mlp()).to_html(tmp_path / "s.html")
    assert path.read_text().startswith("<!DOCTYPE html>")
