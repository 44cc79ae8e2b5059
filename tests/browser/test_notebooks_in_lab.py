"""Open every notebook in JupyterLab (and the tour in Notebook 7), run all cells in a real browser,
and check what renders and what an interaction does on the Python side."""
from __future__ import annotations

import shutil
import time

import pytest

from .conftest import REPO, real_console_errors, screenshot

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))

# how many nbdebug widgets each notebook shows at least (a notebook not listed: at least one)
MIN_WIDGETS = {"tour.ipynb": 7}

JS_PANEL_READY = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!(kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle' && panel.content && panel.content.widgets.length);
}"""

JS_RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const errors = [];
  let pending = 0, widgets = 0;
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    if (cell.model.executionCount === null) pending++;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs.get(i).toJSON();
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
      if (o.data && o.data['application/vnd.jupyter.widget-view+json']) widgets++;
    }
  }
  return { pending, errors, widgets, idle: kernel.status === 'idle' };
}"""

JS_KERNEL_EXEC = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code, silent: false, store_history: false });
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return out;
}"""


def open_notebook(page, server, path: str, ui: str = "lab"):
    # start from the committed notebook (no outputs), whatever an earlier test left in the copy
    shutil.copy(REPO / path, server["root"] / path)
    prefix = "lab/tree" if ui == "lab" else "notebooks"
    page.goto(f"{server['base']}/{prefix}/{path}?token={server['token']}")
    page.wait_for_function(JS_PANEL_READY, timeout=120_000, polling=250)


def run_all(page, timeout_s: float = 300):
    # fire and forget: the command's promise resolves only when every cell has run
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.time() + timeout_s
    seen_busy = False
    while time.time() < deadline:
        state = page.evaluate(JS_RUN_STATE)
        seen_busy = seen_busy or not state["idle"] or state["pending"] == 0
        if state["errors"]:
            return state
        if seen_busy and state["pending"] == 0 and state["idle"]:
            return state
        time.sleep(0.5)
    raise AssertionError(f"cells did not finish in {timeout_s} s: {page.evaluate(JS_RUN_STATE)}")


def kernel_exec(page, code: str) -> str:
    return page.evaluate(JS_KERNEL_EXEC, code)


def check_rendered(page, name: str, state: dict):
    assert not state["errors"], f"{name}: cells raised {state['errors']}"
    assert state["widgets"] >= 1, f"{name}: no widget output"
    expected = MIN_WIDGETS.get(name, 1)
    page.wait_for_function(f"() => document.querySelectorAll('.nbd-root').length >= {expected}", timeout=60_000)
    text = page.inner_text(".jp-Notebook, .jp-NotebookPanel-notebook")
    assert "Error displaying widget" not in text and "Loading widget..." not in text
    assert page.locator(".nbd-root").count() >= expected


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_renders_in_lab(page, lab_server, name):
    open_notebook(page, lab_server, f"notebooks/{name}")
    state = run_all(page)
    check_rendered(page, name, state)
    time.sleep(1.0)  # let charts finish their transitions before the screenshot
    screenshot(page, f"lab-{name.removesuffix('.ipynb')}")
    assert real_console_errors(page) == []


def test_tour_summary_interactions_reach_python(page, lab_server):
    open_notebook(page, lab_server, "notebooks/tour.ipynb")
    check_rendered(page, "tour.ipynb", run_all(page))
    table = page.locator("[data-testid=nbd-summary]").first
    rows = table.locator("tbody tr")
    names = [rows.nth(i).get_attribute("data-layer") for i in range(rows.count())]
    assert names[:3] == ["input", "stem", "relu"] and "add" in names
    # the graph gutter draws one path per edge, the skip connection among them
    assert table.locator("svg.nbd-gutter path.nbd-edge").count() >= len(names) - 1
    # click a row: the selection reaches Python
    table.locator("tbody tr[data-layer='head']").click()
    page.wait_for_function("() => document.querySelector('tr.nbd-selected')", timeout=10_000)
    out = kernel_exec(page, "print(torch_summary.widget().selected)")
    assert out.strip() == "head"
    # sort by parameters, descending, from the header: Python sees the sort, the biggest layer comes first
    header = table.locator("th[data-key=params]")
    header.click()
    header.click()
    page.wait_for_function("() => document.querySelector('th[data-key=params]').getAttribute('aria-sort') === 'descending'")
    out = kernel_exec(page, "w = torch_summary.widget(); print(w.sort_by, w.sort_descending)")
    assert out.split() == ["params", "True"]
    first = table.locator("tbody tr").first.get_attribute("data-layer")
    biggest = kernel_exec(page, "print(max(torch_summary.layers, key=lambda n: n.params).name)").strip()
    assert first == biggest
    # Python-side selection shows in the browser
    kernel_exec(page, "torch_summary.widget().selected = 'stem'")
    page.wait_for_function("() => document.querySelector('tr.nbd-selected')?.dataset.layer === 'stem'", timeout=10_000)
    screenshot(page, "lab-tour-interaction")
    assert real_console_errors(page) == []


def test_tour_in_notebook7(page, lab_server):
    open_notebook(page, lab_server, "notebooks/tour.ipynb", ui="notebook")
    # Notebook 7.6 itself logs "Cannot read properties of undefined (reading 'schema')" while it
    # loads its settings, before any cell runs and with no nbdebug code involved: judge only
    # what appears after that.
    at_load = len(page.console_errors)
    check_rendered(page, "tour.ipynb", run_all(page))
    time.sleep(1.0)
    screenshot(page, "notebook7-tour")
    assert [e for e in real_console_errors(page) if e not in page.console_errors[:at_load]] == []
