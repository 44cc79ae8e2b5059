"""The CSG viewer's scatter at 100,000 points in headless Chromium (software WebGL-free canvas).

Writes the widget as a standalone page, opens it in Debian's chromium through Playwright and
measures (1) page load to the widget drawn, (2) a mouse-wheel zoom to the next drawn frame,
median of 5. There is no reference tool installed here to run side by side; the figures for
bqplot, bqplot-gl and jupyter-scatter measured on the same kind of machine are in
../shared/performance-facts.md (drawn / zoom at 100,000 points: bqplot 21.5 s / 15.0 s,
bqplot-gl 1.9 s / 1.6 s, jupyter-scatter 1.8 s / 0.28 s). Run:

    PYTHONPATH=. python benchmarks/bench_csg_scatter.py [--n 100000]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import nbdebug as nd

ZOOM_JS = """async () => {
  const canvas = document.querySelector('[data-testid=csg-scatter] canvas');
  const r = canvas.getBoundingClientRect();
  const t0 = performance.now();
  canvas.dispatchEvent(new WheelEvent('wheel', {deltaY: -240, clientX: r.left + r.width / 2,
                                                clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  return performance.now() - t0;
}"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, args.n)
    X = rng.normal(size=(args.n, 2)).astype(np.float32) + np.c_[np.cos(y), np.sin(y)] * 2
    t = time.perf_counter()
    report = nd.csg(X, y, k=3, M=100)
    t_csg = time.perf_counter() - t
    page_path = Path(tempfile.mkdtemp()) / "csg.html"
    report.to_html(page_path)
    size_mb = page_path.stat().st_size / 1e6

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        t = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_selector("#nbd-widget[data-rendered=true]", timeout=120_000)
        page.evaluate("() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")
        t_draw = time.perf_counter() - t
        zooms = [page.evaluate(ZOOM_JS) for _ in range(5)]
        browser.close()
    print(f"n={args.n:,}  csg {t_csg:.2f} s  page {size_mb:.1f} MB  load-to-drawn {t_draw:.2f} s  "
          f"wheel-zoom-to-frame median {statistics.median(zooms):.0f} ms (of {', '.join(f'{z:.0f}' for z in zooms)})")


if __name__ == "__main__":
    main()
