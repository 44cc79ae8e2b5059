"""The capacity notebook in JupyterLab: what must render after run-all, and clicks that reach Python."""
from __future__ import annotations

import pytest

from .conftest import real_console_errors, screenshot
from .test_notebooks_in_lab import check_rendered, kernel_exec, open_notebook, run_all

pytestmark = pytest.mark.browser


def test_capacity_notebook_interactions_reach_python(page, lab_server):
    open_notebook(page, lab_server, "notebooks/capacity.ipynb")
    check_rendered(page, "capacity.ipynb", run_all(page))
    # the dataset view (Figure 1): sorted projection with the counted changes, and the 2-D scatter
    comp = page.locator("[data-testid=nbd-complexity]").first
    assert comp.locator(".nbd-dot").count() == 100 and comp.locator(".nbd-point").count() == 100
    assert comp.locator(".nbd-change").count() == 39
    comp.locator(".nbd-point[data-sample='7']").click()
    page.wait_for_function("() => document.querySelector(\".nbd-dot.nbd-selected[data-sample='7']\")", timeout=10_000)
    assert kernel_exec(page, "print(spiral.widget().selected_sample)").strip() == "7"
    # the capacity view (Figure 2) of the AlexNet-shaped model
    cap = page.locator("[data-testid=nbd-capacity]").first
    assert cap.locator(".nbd-bar").count() >= 9
    assert cap.locator(".nbd-flow").count() == 1
    assert cap.locator(".nbd-layer-table tr.nbd-row").count() == 22
    cap.locator(".nbd-bar[data-name='15']").click()
    page.wait_for_function("() => document.querySelector(\"tr.nbd-selected[data-name='15']\")", timeout=10_000)
    assert kernel_exec(page, "print(reports['AlexNet-shaped'].widget().selected_layer)").strip() == "15"
    toggle = cap.locator("[data-testid=nbd-log-toggle]")
    toggle.click()
    page.wait_for_function("() => document.querySelector('[data-testid=nbd-log-toggle]').getAttribute('aria-pressed') === 'false'")
    assert kernel_exec(page, "print(reports['AlexNet-shaped'].widget().log_scale)").strip() == "False"
    # the rule toggle recomputes in Python and the chart follows
    cap.locator("[data-testid=nbd-rule-toggle]").click()
    page.wait_for_function("() => document.querySelector('[data-testid=nbd-total]').textContent.includes('536')", timeout=20_000)
    assert kernel_exec(page, "print(reports['AlexNet-shaped'].widget().total_bits)").strip() == "536"
    # the verdict banner on digits, and the sizing chart
    banners = [b.inner_text() for b in page.locator("[data-testid=nbd-verdict]").all()]
    assert any("1.08× the need" in b for b in banners)
    sizing = page.locator("[data-testid=nbd-sizing]").first
    sizing.locator(".nbd-candidate").first.click()
    page.wait_for_function("() => document.querySelector('.nbd-candidate.nbd-selected')", timeout=10_000)
    assert kernel_exec(page, "print(sizing.widget().selected_index)").strip() == "0"
    screenshot(page, "lab-capacity-interaction")
    assert real_console_errors(page) == []
