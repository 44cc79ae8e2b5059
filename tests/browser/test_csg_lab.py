"""The CSG viewer in JupyterLab: heat-map clicks and recomputation reach Python."""
import time

import pytest

from .conftest import real_console_errors, screenshot
from .test_notebooks_in_lab import open_notebook, run_all, check_rendered, kernel_exec


pytestmark = pytest.mark.browser


def test_csg_view_in_lab(page, lab_server):
    open_notebook(page, lab_server, "notebooks/class_overlap.ipynb")
    check_rendered(page, "class_overlap.ipynb", run_all(page, timeout_s=600))
    root = page.locator("[data-testid=csg-root]").first
    assert page.locator("[data-testid=csg-root]").count() >= 4
    assert root.locator("[data-testid=csg-scatter] canvas").count() == 1
    assert root.locator("[data-testid=csg-heatmap] rect.nbd-cell").count() == 100
    assert root.locator("[data-testid=csg-spectrum] rect.nbd-bar").count() == 9
    assert root.locator("[data-testid=csg-classes] input[type=checkbox]").count() == 10
    n_audio = page.locator("[data-testid=csg-gallery] audio").count()
    assert n_audio >= 2
    # each clip is shown as well as played: a spectrogram canvas per player, with real content
    assert page.locator("[data-testid=csg-gallery] canvas.nbd-csg-spec").count() == n_audio
    spread = page.evaluate("""() => {
      const c = document.querySelector('[data-testid=csg-gallery] canvas.nbd-csg-spec');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const v = new Set(); for (let i = 0; i < d.length; i += 4) v.add(d[i] * 65536 + d[i + 1] * 256 + d[i + 2]);
      return v.size; }""")
    assert spread > 10, spread
    root.locator("[data-testid=csg-heatmap] rect.nbd-cell[data-row='8'][data-col='1']").click()
    page.wait_for_function("() => document.querySelector('[data-testid=csg-gallery] canvas.nbd-csg-thumb')", timeout=20_000)
    out = kernel_exec(page, "w = raw.widget(); print(w.selected_pair, w.gallery_pair, w.gallery_images.shape[1:])")
    assert out.split("]")[0] == "[8, 1", out
    root.locator("[data-testid=csg-k]").fill("5")
    root.locator("[data-testid=csg-recompute]").click()
    page.wait_for_function("() => document.querySelector('[data-testid=csg-title]').textContent.includes('CSG') && document.querySelector('.nbd-csg .nbd-sub').textContent.includes('k = 5')", timeout=30_000)
    out = kernel_exec(page, "print(raw.widget().k, raw.widget().request, raw.widget().busy)")
    assert out.split() == ["5", "1", "False"], out
    m_box = root.locator("[data-testid=csg-M]")
    assert m_box.input_value() == "" and m_box.get_attribute("placeholder") == "all"  # M = every sample
    m_box.fill("40")
    root.locator("[data-testid=csg-recompute]").click()
    page.wait_for_function("() => document.querySelector('.nbd-csg .nbd-sub').textContent.includes('M = 40')", timeout=30_000)
    out = kernel_exec(page, "print(raw.widget().M, raw.widget().request)")
    assert out.split() == ["40", "2"], out
    assert m_box.input_value() == "40"
    time.sleep(1)
    screenshot(page, "lab-csg-interaction")
    assert real_console_errors(page) == []
