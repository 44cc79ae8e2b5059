"""The gradient-flow widgets in JupyterLab: scrubbing a step and choosing a statistic reach Python."""
from __future__ import annotations

import time

import pytest

from .conftest import real_console_errors, screenshot
from .test_notebooks_in_lab import check_rendered, kernel_exec, open_notebook, run_all

pytestmark = pytest.mark.browser


def test_watch_comparison_in_lab(page, lab_server):
    open_notebook(page, lab_server, "notebooks/gradient_flow.ipynb")
    check_rendered(page, "gradient_flow.ipynb", run_all(page, timeout_s=600))
    roots = page.locator("[data-testid=nbd-watch]")
    assert roots.count() >= 4
    first = roots.first
    assert first.locator("canvas.nbd-watch-heatmap").count() >= 1
    assert first.locator("[data-testid=nbd-watch-heatmap-b]").count() == 1
    assert first.locator("svg.nbd-watch-bars rect.nbd-bar").count() >= 8
    assert page.locator(".nbd-watch-flag").count() >= 1  # VGG38's vanishing gradient, in words
    # scrub to the third recorded step: Python answers with that step's description
    third = int(kernel_exec(page, "print(int(comparison.a.steps[2]))").strip())
    first.locator("[data-testid=nbd-watch-scrubber]").fill("2")
    page.wait_for_timeout(300)
    deadline = time.time() + 20
    while time.time() < deadline:
        out = kernel_exec(page, "w = comparison.widget(); print(w.step, '|', w.step_info)")
        if out.split("|")[0].strip() == str(third):
            break
        time.sleep(0.5)
    assert out.split("|")[0].strip() == str(third), out
    assert out.split("|")[1].strip().startswith(f"step {third}")
    first.locator("[data-testid=nbd-watch-quantity]").select_option("update_ratio")
    page.wait_for_timeout(500)
    assert kernel_exec(page, "print(comparison.widget().quantity)").strip() == "update_ratio"
    screenshot(page, "lab-gradient_flow-interaction")
    assert real_console_errors(page) == []
