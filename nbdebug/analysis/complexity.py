"""Expected dataset complexity in bits: Friedland's heuristic (main paper, section 3.1.1).

As in Friedland's ``capacityreq`` code: project every sample onto the plain sum of its features,
stable-sort by that projection, and count the label changes ``t`` along the sorted order. A
threshold network needs one threshold per change, so the expected memory-equivalent capacity is
``ceil(log2(t + 1)) * d`` bits and the worst case ``t * (d + 1) + t`` bits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_X_y
from ..results import Result

#: below this share of the largest class, a class counts as a "rare event" (paper, section 4)
RARE_CLASS_SHARE = 0.05


@dataclass(eq=False)
class ComplexityReport(Result):
    """Expected capacity needed to memorise a labelled dataset (Friedland's heuristic).

    Attributes
    ----------
    changes : int
        Label changes ``t`` along the samples sorted by the sum of their features.
    dims : int
        Number of features ``d`` (after flattening each sample).
    expected_bits : int
        ``ceil(log2(t + 1)) * d``.
    max_bits : int
        ``t * (d + 1) + t``.
    order : ndarray of int, shape (n,)
        Sample indices sorted by projection (stable sort).
    projection : ndarray of float, shape (n,)
        The per-sample sum of features, in the original sample order.
    change_points : ndarray of int
        Positions ``i`` in the sorted order where ``label[order[i]] != label[order[i - 1]]``.
    y : ndarray of int
        Integer class codes of the samples, original order.
    classes : list
        Class labels as the user gave them.
    class_counts : ndarray of int
        Samples per class.
    warnings : list of str
        Plain-words caveats: the heuristic is calibrated on balanced two-class data.
    points : ndarray of float, shape (n, 2), or None
        The samples themselves when they have two features (drawn as the paper's Figure 1).
    """

    changes: int
    dims: int
    expected_bits: int
    max_bits: int
    order: np.ndarray
    projection: np.ndarray
    change_points: np.ndarray
    y: np.ndarray
    classes: list
    class_counts: np.ndarray
    warnings: list = field(default_factory=list)
    points: np.ndarray | None = field(default=None, repr=False)

    _title = "Dataset complexity"

    def _make_widget(self):
        from ..views.capacity import ComplexityWidget

        return ComplexityWidget(self)

    def figure(self, *, figsize=None, markersize=12):
        """The sorted projection coloured by class with the label changes marked, and for 2-D
        data the scatter itself (main paper, Figure 1)."""
        from ..views.capacity import complexity_figure

        return complexity_figure(self, figsize=figsize, markersize=markersize)

    def to_frame(self):
        """One row per sample in sorted order: rank, sample index, projection, class, change."""
        import pandas as pd

        change = np.zeros(self.n_samples, dtype=bool)
        change[self.change_points] = True
        return pd.DataFrame({
            "sample": self.order, "projection": self.projection[self.order],
            "label": [self.classes[c] for c in self.y[self.order]], "change": change,
        })

    @property
    def n_samples(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        return (
            f"ComplexityReport(n_samples={self.n_samples}, dims={self.dims}, changes={self.changes}, "
            f"expected_bits={self.expected_bits}, max_bits={self.max_bits})"
        )


def expected_bits(changes: int, dims: int) -> int:
    """``ceil(log2(changes + 1)) * dims``: the heuristic's expected capacity in bits."""
    return int(math.ceil(math.log2(changes + 1)) * dims)


def complexity(X, y) -> ComplexityReport:
    """Estimate the capacity in bits a model needs to memorise ``(X, y)``.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Samples; each is flattened to ``d`` features.
    y : array-like, shape (n,)
        Class labels (any hashable values).

    Returns
    -------
    ComplexityReport

    Notes
    -----
    Reproduces the 2-D rows of the main paper's Table 1 exactly (Spiral 12, XOR 10, Circle 10,
    Gauss 2, Moon 10 bits). With more than two classes every change between any two labels counts.
    The estimate is calibrated on balanced two-class data; the report's ``warnings`` say when the
    data is far from that.
    """
    X, codes, classes = check_X_y(X, y)
    flat = X.reshape(X.shape[0], -1)
    dims = int(flat.shape[1])
    projection = flat.sum(axis=1, dtype=np.float64)
    order = np.argsort(projection, kind="stable")
    sorted_labels = codes[order]
    change_points = np.flatnonzero(sorted_labels[1:] != sorted_labels[:-1]) + 1
    t = int(change_points.size)
    counts = np.bincount(codes, minlength=len(classes))

    warnings = []
    if len(classes) > 2:
        warnings.append(
            f"{len(classes)} classes: the heuristic counts changes between any two labels and is "
            "calibrated on two-class data; treat the estimate as a rough guide."
        )
    rare = [classes[i] for i in np.flatnonzero(counts < RARE_CLASS_SHARE * counts.max())]
    ratio = counts.max() / max(counts.min(), 1)
    if rare or ratio >= 3:
        warnings.append(
            f"Imbalanced classes (largest/smallest = {ratio:.1f}"
            + (f"; rare: {', '.join(map(str, rare[:5]))}" if rare else "")
            + "): few label changes can come from a rare class alone, so the expected capacity is "
            "likely underestimated. Consider resampling before sizing a model."
        )
    return ComplexityReport(
        changes=t,
        dims=dims,
        expected_bits=expected_bits(t, dims),
        max_bits=t * (dims + 1) + t,
        order=order,
        projection=projection,
        change_points=change_points,
        y=np.asarray(codes),
        classes=classes,
        class_counts=counts,
        warnings=warnings,
        points=np.array(flat, dtype=np.float64) if dims == 2 else None,
    )
