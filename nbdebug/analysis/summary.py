"""The model summary: the layer table Keras users know from ``model.summary()``, for any framework."""
from __future__ import annotations

from dataclasses import dataclass

from ..adapters import as_model
from ..adapters.base import LayerNode
from ..results import Result


def format_shape(shape: tuple) -> str:
    return "(" + ", ".join("?" if s < 0 else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(eq=False)
class ModelSummary(Result):
    """A model's layer graph as a table.

    Attributes
    ----------
    model_name : str
    framework : {"torch", "keras"}
    layers : list of LayerNode
        In execution order; ``inbound`` names the layers feeding each one.
    n_params : int
        Trainable parameters of the model (shared weights counted once).
    n_params_non_trainable : int
    graph_source : str
        How the graph was found: "fx", "hooks", "keras-graph" or "keras-calls".
    input_shape : tuple
        One sample's shape, no batch dimension.
    """

    model_name: str
    framework: str
    layers: list
    n_params: int
    n_params_non_trainable: int
    graph_source: str
    input_shape: tuple

    _title = "Model summary"

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_branch_edges(self) -> int:
        """Edges that skip over at least one layer in execution order (branches, skips)."""
        index = {node.name: i for i, node in enumerate(self.layers)}
        return sum(1 for i, node in enumerate(self.layers) for src in node.inbound if i - index.get(src, i - 1) > 1)

    def rows(self) -> list[dict]:
        """One plain dict per layer (what the widget and ``to_frame`` show)."""
        return [
            {
                "index": i,
                "name": node.name,
                "kind": node.kind,
                "category": node.category,
                "output_shape": format_shape(node.output_shape),
                "units_out": node.units_out,
                "params": int(node.params),
                "params_non_trainable": int(node.params_non_trainable),
                "inbound": list(node.inbound),
                "shared": node.shared,
            }
            for i, node in enumerate(self.layers)
        ]

    def to_frame(self):
        import pandas as pd

        frame = pd.DataFrame(self.rows()).set_index("index")
        frame["inbound"] = frame["inbound"].map(", ".join)
        return frame

    def __repr__(self) -> str:
        width = max([len(n.name) for n in self.layers] + [5])
        kinds = max([len(n.kind) for n in self.layers] + [4])
        lines = [f"{self.model_name} ({self.framework}, graph from {self.graph_source})",
                 f"{'Layer':<{width}}  {'Kind':<{kinds}}  {'Output shape':<16} {'Params':>10}  Connected to"]
        for node in self.layers:
            lines.append(f"{node.name:<{width}}  {node.kind:<{kinds}}  {format_shape(node.output_shape):<16} "
                         f"{node.params:>10,}  {', '.join(node.inbound)}")
        lines.append(f"Trainable params: {self.n_params:,}   Non-trainable params: {self.n_params_non_trainable:,}")
        return "\n".join(lines)

    def _make_widget(self):
        from ..views.summary import SummaryWidget

        return SummaryWidget(self)

    def figure(self, *, max_rows: int = 200, fontsize: float = 8.0):
        """The layer table drawn with matplotlib (first ``max_rows`` layers)."""
        from matplotlib.figure import Figure

        rows = self.rows()[:max_rows]
        cells = [[r["name"], r["kind"], r["output_shape"], f"{r['params']:,}", ", ".join(r["inbound"])] for r in rows]
        fig = Figure(figsize=(10, 0.6 + 0.22 * (len(cells) + 2)))
        ax = fig.add_subplot()
        ax.axis("off")
        table = ax.table(cellText=cells, colLabels=["Layer", "Kind", "Output shape", "Params", "Connected to"],
                         loc="upper left", cellLoc="left", colLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(fontsize)
        table.auto_set_column_width(list(range(5)))
        for (r, _), cell in table.get_celld().items():
            cell.set_edgecolor("#dddddd")
            if r == 0:
                cell.set_text_props(weight="bold")
        ax.set_title(f"{self.model_name} — {self.n_params:,} trainable parameters", fontsize=fontsize + 2, loc="left")
        return fig


def summary(model, input_shape=None) -> ModelSummary:
    """The layer table of a torch or Keras model.

    Parameters
    ----------
    model : torch.nn.Module, keras.Model or ModelAdapter
    input_shape : tuple of int, optional
        One sample's shape without the batch dimension (channels first in torch, channels last in
        Keras); needed when the model does not fix it.

    Returns
    -------
    ModelSummary
        Displays as a sortable table with the graph's branches drawn beside the rows; clicking a
        row selects the layer (``.widget().selected``).
    """
    adapter = as_model(model, input_shape)
    layers: list[LayerNode] = adapter.layers
    shape = layers[0].output_shape if layers and layers[0].category == "input" else (adapter.input_shape or ())
    return ModelSummary(
        model_name=str(adapter.name),
        framework=adapter.framework,
        layers=layers,
        n_params=int(adapter.n_params),
        n_params_non_trainable=int(adapter.n_params_non_trainable),
        graph_source=adapter.graph_source,
        input_shape=tuple(shape),
    )
