"""Capacity, complexity and sizing views: widget state, selection traits, exports, offline pages."""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import nbdebug as nd
from nbdebug.datasets import friedland_2d
from tests import zoo
from tests.test_capacity import _custom_torch_model, build_mlp, mlp_2_4_2_1


def page_state(html: str) -> dict:
    return json.loads(re.search(r'id="nbd-state">(.*?)</script>', html, re.S).group(1))["state"]


@pytest.fixture(scope="module")
def report():
    X, y = friedland_2d("spiral")
    return nd.capacity(mlp_2_4_2_1(), data=(X, y))


def test_capacity_widget_state(report):
    w = report.widget()
    assert w is report.widget()
    assert [r["name"] for r in w.layer_info] == report.names
    assert list(w.capacity_bits) == [0, 12, 0, 4, 0, 2] and w.total_bits == 18
    assert w.bits_out[0] == -1, "unbounded bits travel as -1"
    assert w.expected_bits == 12 and w.verdict == report.verdict and w.banner == "ok"
    assert w.log_scale is True and w.show_all is False


def test_selected_layer_and_toggles(report):
    w = report.widget()
    w.selected_layer = "2"
    assert w.selected_layer == "2"
    with pytest.raises(Exception, match="selected_layer"):
        w.selected_layer = "no such layer"
    w.log_scale = False
    w.selected_layer = ""


def test_arrays_are_binary_buffers(report):
    state = report.widget().get_state()
    for key in ("capacity_bits", "bits_in", "bits_out", "params"):
        assert isinstance(state[key]["buffer"], memoryview)


def test_banner_levels():
    X, y = friedland_2d("spiral")
    import torch.nn as nn

    under = nd.capacity(nn.Sequential(nn.Linear(2, 1)), data=(X, y)).widget()
    assert under.banner == "bad" and "under" in under.verdict
    plain = nd.capacity(mlp_2_4_2_1()).widget()
    assert plain.verdict == "" and plain.expected_bits is None


def test_unsupported_rows_reach_the_widget():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = nd.capacity(_custom_torch_model())
    w = rep.widget()
    row = next(r for r in w.layer_info if r["name"] == "gain")
    assert row["supported"] is False and any("unsupported" in n for n in w.notes)


def test_capacity_exports_and_page(tmp_path, report):
    for ext in ("png", "svg", "pdf"):
        assert report.export(tmp_path / f"c.{ext}").stat().st_size > 1000
    svg = (tmp_path / "c.svg").read_text()
    assert "dataset needs 12 bits" in svg
    page = report.to_html()
    assert "https://" not in page and page_state(page)["verdict"] == report.verdict
    assert report.to_html(tmp_path / "c.html").read_text().startswith("<!DOCTYPE html>")


def test_layer_names_are_text_not_html():
    page = nd.capacity(zoo.torch_evil_names()).to_html()
    assert "</script><img" not in page
    assert zoo.EVIL_NAME in [r["name"] for r in page_state(page)["layer_info"]]


def test_complexity_widget_and_figure(tmp_path):
    X, y = friedland_2d("xor")
    comp = nd.complexity(X, y)
    w = comp.widget()
    assert len(w.change_points) == comp.changes and w.points.shape == (100, 2)
    assert np.array_equal(w.sorted_labels, comp.y[comp.order])
    assert np.all(np.diff(w.sorted_projection) >= 0)
    w.selected_sample = 5
    with pytest.raises(Exception, match="selected_sample"):
        w.selected_sample = 100
    fig = comp.figure()
    assert len(fig.axes) == 2
    assert comp.export(tmp_path / "x.png").stat().st_size > 1000
    frame = comp.to_frame()
    assert frame.change.sum() == comp.changes and list(frame["sample"]) == list(comp.order)


def test_complexity_of_images_has_no_scatter():
    X, y, _ = nd.datasets.digits_images()
    comp = nd.complexity(X[:200], y[:200])
    assert comp.points is None and comp.widget().points is None
    assert len(comp.figure().axes) == 1


def test_sizing_widget_and_figure(tmp_path):
    rep = nd.size_to(build_mlp, 100)
    w = rep.widget()
    assert w.best_index == rep.best_index and w.target_bits == 100 and w.banner == "ok"
    assert list(w.total_bits) == list(rep.total_bits)
    w.selected_index = 0
    with pytest.raises(Exception, match="selected_index"):
        w.selected_index = len(rep.multipliers)
    assert rep.export(tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    assert "multiplier" in rep.to_html()


def test_figure_styles_do_not_recompute(report):
    before = report.total_bits
    fig = report.figure(log_scale=False, color="black")
    assert fig.axes[0].get_yscale() == "linear" and report.total_bits == before


def test_rule_toggle_recomputes_through_the_analysis_api():
    X, y = friedland_2d("spiral")
    rep = nd.capacity(mlp_2_4_2_1(), data=(X, y))
    w = rep.widget()
    w.selected_layer = "2"
    w.rule = "paper"
    paper = nd.capacity(mlp_2_4_2_1(), data=(X, y), rule="paper")
    assert w.report.rule == "paper" and w.total_bits == paper.total_bits == 6
    assert list(w.capacity_bits) == list(paper.capacity_bits) and w.verdict == paper.verdict
    assert "Algorithm 1" in w.subtitle and w.selected_layer == "2"
    w.rule = "friedland"
    assert w.total_bits == 18 and rep.total_bits == 18, "the original report is not changed"
    with pytest.raises(Exception):
        w.rule = "max"


def test_with_rule_matches_a_fresh_computation():
    from tests import zoo

    rep = nd.capacity(zoo.torch_residual(), input_shape=(1, 8, 8))
    again = rep.with_rule("paper")
    fresh = nd.capacity(zoo.torch_residual(), input_shape=(1, 8, 8), rule="paper")
    assert list(again.capacity_bits) == list(fresh.capacity_bits) and again.total_bits == fresh.total_bits
    assert again.with_rule("friedland").total_bits == rep.total_bits
