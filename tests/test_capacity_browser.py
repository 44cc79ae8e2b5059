"""The capacity views in a real headless Chromium (standalone pages, no kernel)."""
from __future__ import annotations

import warnings

import nbdebug as nd
from nbdebug.datasets import friedland_2d
from tests.conftest import open_html
from tests.test_capacity import _custom_torch_model, build_mlp


def open_page(browser, result, tmp_path, name):
    page = open_html(browser, result.to_html(tmp_path / f"{name}.html"))
    return page, page.page_errors


def test_capacity_view(browser, tmp_path):
    X, y = friedland_2d("spiral")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = nd.capacity(_custom_torch_model(), data=(X[:, :1].repeat(4, 1), y))
    page, errors = open_page(browser, rep, tmp_path, "cap")
    assert page.locator(".nbd-bar").count() == 4
    assert page.locator(".nbd-bar.nbd-unsupported").count() == 1
    assert page.locator(".nbd-flow").count() == 1 and page.locator(".nbd-expected").count() == 1
    assert page.locator(".nbd-banner").inner_text() == rep.verdict
    assert page.locator(".nbd-layer-table tr.nbd-row").count() == len(rep.layers)
    bar = page.locator('.nbd-bar[data-name="l1"]')
    bar.hover()
    assert "l1 (Linear)" in page.locator(".nbd-tooltip").inner_text()
    bar.click()
    assert page.locator('tr.nbd-selected[data-name="l1"]').count() == 1
    assert page.locator('.nbd-bar.nbd-selected[data-name="l1"]').count() == 1
    toggle = page.locator("[data-testid=nbd-log-toggle]")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.locator(".nbd-bar").count() == 4, "redrawn in linear scale"
    assert errors == []


def test_complexity_and_sizing_views(browser, tmp_path):
    X, y = friedland_2d("spiral")
    comp = nd.complexity(X, y)
    page, errors = open_page(browser, comp, tmp_path, "comp")
    assert page.locator(".nbd-dot").count() == 100 and page.locator(".nbd-point").count() == 100
    assert page.locator(".nbd-change").count() == comp.changes
    page.locator('.nbd-point[data-sample="7"]').click()
    assert page.locator('.nbd-dot.nbd-selected[data-sample="7"]').count() == 1, "linked selection"
    sizing = nd.size_to(build_mlp, 100)
    page2, errors2 = open_page(browser, sizing, tmp_path, "size")
    assert page2.locator(".nbd-candidate").count() == len(sizing.multipliers)
    assert page2.locator(".nbd-candidate.nbd-best").count() == 1
    page2.locator(".nbd-candidate").first.click()
    assert "multiplier 1" in page2.locator("[data-testid=nbd-candidate-detail]").inner_text()
    assert errors == [] and errors2 == []
