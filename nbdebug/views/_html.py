"""Standalone HTML pages for anywidget views, rendered with no kernel and no network.

``ipywidgets.embed`` writes pages that load require.js, the widget manager and each widget's code
from public CDNs, which air-gapped machines cannot reach. Every nbdebug view is a single
anywidget ES module, so a page needs only that module, its CSS, the synced state and a small
stand-in for the widget model (``get``/``set``/``on``/``save_changes``). Binary buffers are
embedded as base64 and handed to the module as ``DataView`` objects, exactly as in Jupyter.
"""
from __future__ import annotations

import base64
import html
import json

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nbdebug">
<title>{title}</title>
<style>
body {{ margin: 16px; font-family: system-ui, sans-serif; }}
.nbd-page-note {{ color: #777; font-size: 12px; margin-top: 12px; }}
{css}
</style>
</head>
<body>
<div id="nbd-widget"></div>
<p class="nbd-page-note">Exported by nbdebug. Controls that need Python to recompute are inactive in this page.</p>
<script type="application/json" id="nbd-state">{state}</script>
<script type="application/json" id="nbd-esm">{esm}</script>
<script type="module">
const payload = JSON.parse(document.getElementById("nbd-state").textContent);
const state = payload.state;
for (const [i, path] of payload.buffer_paths.entries()) {{
  const bytes = Uint8Array.from(atob(payload.buffers[i]), (c) => c.charCodeAt(0));
  let obj = state;
  for (const key of path.slice(0, -1)) obj = obj[key];
  obj[path[path.length - 1]] = new DataView(bytes.buffer);
}}
const listeners = {{}};
const model = {{
  get: (name) => state[name],
  set(name, value) {{
    const old = state[name];
    state[name] = value;
    if (old !== value) for (const cb of listeners["change:" + name] || []) cb();
  }},
  save_changes() {{}},
  on(ev, cb) {{ (listeners[ev] = listeners[ev] || []).push(cb); }},
  off(ev, cb) {{ listeners[ev] = (listeners[ev] || []).filter((f) => f !== cb); }},
  send() {{}},
  widget_manager: {{}},
}};
const source = JSON.parse(document.getElementById("nbd-esm").textContent);
const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
const mod = await import(url);
const widget = mod.default;
const el = document.getElementById("nbd-widget");
if (widget.initialize) await widget.initialize({{ model }});
await widget.render({{ model, el }});
el.dataset.rendered = "true";
</script>
</body>
</html>
"""


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element: no '</script>' or '<!--' can appear."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def widget_page(widget, *, title: str = "nbdebug") -> str:
    """Return a standalone HTML page that renders ``widget`` (an anywidget) offline."""
    from ipywidgets.widgets.widget import _remove_buffers

    state = widget.get_state()
    esm = state.pop("_esm", None)
    css = state.pop("_css", "") or ""
    if esm is None:
        raise TypeError("widget: only anywidget views can be written as standalone pages")
    for key in [k for k in state if k.startswith("_") and k not in ("_anywidget_id",)]:
        state.pop(key)
    state, buffer_paths, buffers = _remove_buffers(state)
    payload = {
        "state": state,
        "buffer_paths": buffer_paths,
        "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers],
    }
    # anywidget accepts a file path for _esm/_css; read the text in that case
    esm_text = esm if "\n" in esm or "export" in esm else open(esm, encoding="utf-8").read()
    css_text = css if ("{" in css or not css) else open(css, encoding="utf-8").read()
    return _PAGE.format(
        title=html.escape(title),
        css=css_text.replace("</", "<\\/"),
        state=_script_json(payload),
        esm=_script_json(esm_text),
    )
