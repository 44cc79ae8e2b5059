"""The model summary widget: a sortable layer table with the graph's branches drawn beside it."""
from __future__ import annotations

import anywidget
import traitlets

from ._base import load_css, load_esm


class SummaryWidget(anywidget.AnyWidget):
    """Layer table of a :class:`~nbdebug.analysis.summary.ModelSummary`.

    Synced state: ``selected`` (the clicked layer's name, "" for none), ``sort_by`` (a column
    key, "" for execution order) and ``sort_descending``.
    """

    _esm = load_esm("summary.js")
    _css = load_css("summary.css")

    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    sort_by = traitlets.Unicode("").tag(sync=True)
    sort_descending = traitlets.Bool(False).tag(sync=True)

    def __init__(self, summary, **kwargs):
        super().__init__(
            title=f"{summary.model_name}",
            subtitle=(f"{summary.framework} · {summary.n_layers} nodes · input {summary.input_shape} · "
                      f"graph from {summary.graph_source}"),
            rows=summary.rows(),
            totals={"params": summary.n_params, "params_non_trainable": summary.n_params_non_trainable},
            **kwargs,
        )

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        name = proposal["value"]
        if name and name not in {r["name"] for r in self.rows}:
            raise traitlets.TraitError(f"selected: no layer named {name!r}")
        return name
