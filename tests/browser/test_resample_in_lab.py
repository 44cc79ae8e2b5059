"""The resampling notebook in a real JupyterLab: what renders, and a slider's round trip to Python.

Uses the fixtures of ``tests/browser/conftest.py`` and the helpers of ``test_notebooks_in_lab.py``.
"""
from __future__ import annotations

import statistics

import pytest

from .conftest import real_console_errors, screenshot
from .test_notebooks_in_lab import check_rendered, kernel_exec, open_notebook, run_all

pytestmark = pytest.mark.browser


def test_resample_widgets_and_slider_round_trip(page, lab_server):
    open_notebook(page, lab_server, "notebooks/resampling.ipynb")
    check_rendered(page, "resampling.ipynb", run_all(page))
    page.wait_for_function("() => document.querySelectorAll('[data-testid=resample]').length >= 3", timeout=60_000)
    first = page.locator("[data-testid=resample]").first
    # both panels are canvases (points + hover overlay), bars for 2 classes x before/after
    assert first.locator("[data-testid=resample-before] canvas").count() == 2
    assert first.locator("[data-testid=resample-after] canvas").count() == 2
    assert first.locator("[data-testid=resample-counts] .nbd-bar").count() == 4
    # the digits view has an image gallery: triplets of canvases
    assert page.locator("[data-testid=resample-gallery] canvas").count() >= 3 * 6
    # the search chart: one dot per trial per sampler, one of them chosen
    search = page.locator("[data-testid=resample-search]")
    assert search.locator(".nbd-rs-dot").count() == 4 * 5
    assert search.locator(".nbd-rs-chosen").count() == 1
    search.locator("[data-testid=search-metric][data-metric=expected_bits]").click()
    page.wait_for_function("() => document.querySelector('[data-testid=search-metric][data-metric=expected_bits]').getAttribute('aria-pressed') === 'true'")
    assert kernel_exec(page, "print(search.widget().metric)").strip() == "expected_bits"

    # slider -> Python -> redraw on the 5,000-point view (the last one)
    big = page.locator("[data-testid=resample]").last
    big.scroll_into_view_if_needed()
    times = []
    for n, k in enumerate((3, 4, 6, 2, 5), start=1):
        big.locator("[data-testid=resample-k]").fill(str(k))
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('[data-testid=resample]')].pop().dataset.renderCount === String(n)",
            arg=n, timeout=30_000,
        )
        out = kernel_exec(page, "w = big.widget(); print(w.k_neighbors, w.render_count, w.last_update_ms, w.response_id == w.request_id, w.report.sampler.k_neighbors)")
        kk, count, ms, same, used = out.split()
        assert int(kk) == k and int(used) == k and same == "True"
        times.append(float(ms))
        draw_ms = big.get_attribute("data-draw-ms")
        print(f"k={k}: round trip {float(ms):.0f} ms, browser drawing {draw_ms} ms")
    final = kernel_exec(page, "print(big.widget().render_count)").strip()
    assert int(final) >= 1
    print(f"slider -> redraw round trip on 5,000 points: median {statistics.median(times):.0f} ms, all {[round(t) for t in times]}")
    screenshot(page, "lab-resampling-interaction")
    assert real_console_errors(page) == []
