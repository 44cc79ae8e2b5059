"""The shared base of every analysis result.

A result is plain data (a dataclass of numpy arrays and numbers). It knows how to show itself:

- as the last expression of a notebook cell it displays its interactive widget;
- ``.widget()`` returns that widget (an ipywidgets ``DOMWidget``) to compose with others;
- ``.figure()`` draws the same data with matplotlib (headless, no pyplot state touched);
- ``.export(path)`` writes PNG / SVG / PDF by extension (``.html`` goes to :meth:`to_html`);
- ``.to_html(path)`` writes a standalone page that renders the widget with no kernel and no network;
- ``.to_frame()`` returns a pandas DataFrame where the result is tabular.

Subclasses implement ``_make_widget()`` and ``figure()`` (and ``to_frame()`` where it makes sense);
drawing never recomputes the analysis.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


class Result:
    """Mixin for analysis results: display, export and HTML output."""

    #: a short title for pages and figures; subclasses override
    _title = "nbdebug"

    # -- widget -------------------------------------------------------------------------------
    def _make_widget(self):  # pragma: no cover - every subclass overrides
        raise TypeError(f"{type(self).__name__} has no widget view")

    def widget(self):
        """Return the interactive widget for this result (an ``ipywidgets.DOMWidget``).

        The same widget object is returned on every call, so state set through the widget (a
        selected layer, a sort order) is kept when the result is displayed again.
        """
        existing = self.__dict__.get("_widget_cache")
        if existing is None:
            existing = self._make_widget()
            # dataclass fields are not touched: the cache lives outside the declared fields
            self.__dict__["_widget_cache"] = existing
        return existing

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            bundle = self.widget()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
        except ImportError:  # no ipywidgets front end available: plain text only
            bundle = None
        data = {"text/plain": repr(self)}
        if isinstance(bundle, tuple):
            bundle = bundle[0]
        if bundle:
            data.update({k: v for k, v in bundle.items() if k != "text/plain"})
        return data

    # -- static output ------------------------------------------------------------------------
    def figure(self, **style: Any):  # pragma: no cover - every subclass overrides
        """Return a matplotlib ``Figure`` drawing this result (no pyplot state is used)."""
        raise TypeError(f"{type(self).__name__} has no static figure")

    def export(self, path: str | os.PathLike, *, dpi: int = 150, **style: Any) -> Path:
        """Write the result as a figure (``.png``, ``.svg``, ``.pdf``) or a page (``.html``).

        Parameters
        ----------
        path : str or path-like
            Destination; the format is taken from the extension.
        dpi : int
            Resolution for PNG output.
        **style
            Drawing options passed to :meth:`figure` (never recompute the analysis).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            return self.to_html(path)
        if suffix not in _FIGURE_FORMATS:
            raise ValueError(
                f"path: unsupported extension {path.suffix!r}; use one of .png, .svg, .pdf, .html"
            )
        fig = self.figure(**style)
        fig.savefig(path, format=_FIGURE_FORMATS[suffix], dpi=dpi, bbox_inches="tight")
        return path

    def to_html(self, path: str | os.PathLike | None = None, *, title: str | None = None):
        """Write (or return) a standalone HTML page that renders the widget without a kernel.

        The page embeds the widget's state and front-end code; it loads nothing from the
        network, so it opens from ``file://`` on an air-gapped machine. Controls that need Python
        to recompute are shown but inactive.

        Returns
        -------
        pathlib.Path or str
            The path written, or the HTML text when ``path`` is None.
        """
        from .views._html import widget_page

        html = widget_page(self.widget(), title=title or self._title)
        if path is None:
            return html
        path = Path(path)
        path.write_text(html, encoding="utf-8")
        return path

    def to_frame(self):
        """Return the tabular part of the result as a pandas DataFrame."""
        raise TypeError(f"{type(self).__name__} has no tabular form")
