"""The perceptual diff view in a real JupyterLab: run adversarial.ipynb, check what renders, and
check that clicks, the amplification slider and the mode buttons reach Python."""
from __future__ import annotations

import pytest

from .conftest import real_console_errors, screenshot
from .test_notebooks_in_lab import check_rendered, kernel_exec, open_notebook, run_all

pytestmark = pytest.mark.browser


def test_attack_view_interactions_reach_python(page, lab_server):
    open_notebook(page, lab_server, "notebooks/adversarial.ipynb")
    check_rendered(page, "adversarial.ipynb", run_all(page))
    # every attack output is a diff view; the robustness charts are curve views
    assert page.locator(".nba-root [data-testid=nba-gallery]").count() >= 6
    assert page.locator("[data-testid=nba-charts] svg.nba-chart").count() >= 4
    view = page.locator(".nba-root:has([data-testid=nba-gallery])").nth(2)  # the fewest-pixels view
    for testid in ("nba-panel-original", "nba-panel-adversarial", "nba-panel-difference", "nba-amplify",
                   "nba-zoom", "nba-sort", "nba-preds-before", "nba-preds-after", "nba-metrics"):
        assert view.locator(f"[data-testid={testid}]").count() == 1, testid
    assert view.locator(".nba-item").count() == 64
    assert view.locator("canvas.nba-base").first.evaluate("e => getComputedStyle(e).imageRendering") == "pixelated"
    # click a gallery item: Python's index follows, and the item is marked selected
    item = view.locator(".nba-item").nth(5)
    chosen = int(item.get_attribute("data-index"))
    item.click()
    page.wait_for_function(f"() => document.querySelectorAll('.nba-item.nba-selected[data-index=\"{chosen}\"]').length >= 1")
    assert kernel_exec(page, "print(fewest.widget().index)").strip() == str(chosen)
    # the amplification slider (log10 scale) sets amplify in Python
    slider = view.locator("[data-testid=nba-amplify]")
    slider.fill("2")
    slider.dispatch_event("input")
    page.wait_for_timeout(500)
    assert float(kernel_exec(page, "print(fewest.widget().amplify)")) == pytest.approx(100)
    # swipe mode: the divider follows a drag; blink alternates
    view.locator("[data-testid=nba-mode-swipe]").click()
    stack = view.locator(".nba-panel-swipe .nba-stack")
    box = stack.bounding_box()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 5)
    page.mouse.up()
    assert float(view.locator("[data-testid=nba-swipe-divider]").get_attribute("data-position")) == pytest.approx(80, abs=2)
    assert kernel_exec(page, "print(fewest.widget().mode)").strip() == "swipe"
    # outlines of the changed pixels exist for the L0 attack, and sorting reaches Python
    view.locator("[data-testid=nba-sort]").select_option("ssim")
    page.wait_for_timeout(300)
    assert kernel_exec(page, "print(fewest.widget().sort_by)").strip() == "ssim"
    # audio view: three players with WAV sources
    assert page.locator("audio[data-testid=nba-audio-adversarial]").count() >= 1
    screenshot(page, "lab-adversarial-interactions")
    assert real_console_errors(page) == []
