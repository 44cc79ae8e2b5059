"""Resampling with imbalanced-learn, made inspectable (main paper, section 3.3).

imbalanced-learn does the resampling; nothing here re-implements a sampler. What imblearn does not
hand out, and what a before/after picture needs, is recovered while it runs:

- which original rows were kept or removed (``sample_indices_`` where the sampler has it, the
  cleaning step's ``sample_indices_`` for SMOTE-Tomek / SMOTE-ENN);
- for every synthetic sample of the SMOTE family, its two parents and the interpolation factor
  ``delta`` with ``x_new = x_i + delta * (x_nn - x_i)``;
- the Tomek pairs that the Tomek-links step found.

How the parents are recovered
-----------------------------
The sampler is cloned and the clone's class is swapped for a subclass created here that only
*records* what imblearn's own methods receive and return, then calls them unchanged:
``BaseSMOTE._generate_samples`` (rows, neighbour columns, steps: SMOTE, Borderline-SMOTE,
SVM-SMOTE, KMeans-SMOTE and the SMOTE inside SMOTE-Tomek / SMOTE-ENN), ADASYN's nearest-neighbour
queries (ADASYN draws inline, so its rows follow from the recorded neighbour graph and its
factors are solved on the recorded neighbours), and ``TomekLinks.is_tomek`` (the nearest-neighbour
index the links are defined on). The random draws are imblearn's own, with the same random state,
so the output is bit-for-bit what the plain sampler returns. Every recovered synthetic row is then
checked against the equation above; the largest residual is reported as ``parents_max_error``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_array, check_seed, encode_labels, readonly
from ..results import Result

#: a class below this share of all samples is a "rare event" (main paper, section 3.3)
RARE_SHARE = 0.05

#: sampler names accepted by :func:`resample`
SAMPLERS = (
    "smote",
    "borderline_smote",
    "adasyn",
    "smote_tomek",
    "smote_enn",
    "tomek",
    "enn",
    "random_under",
    "near_miss",
    "random_over",
)

#: samplers that only remove noisy / overlapping rows: a sampling ratio does not apply
CLEANING_SAMPLERS = ("tomek", "enn")
#: samplers that make new rows
OVER_SAMPLERS = ("smote", "borderline_smote", "adasyn", "smote_tomek", "smote_enn", "random_over")


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class ResampleReport(Result):
    """The outcome of one resampling, with the provenance of every row.

    Rows are described in a *pool* index space: ``0..n-1`` are the original rows,
    ``n..n+M-1`` are the ``M`` synthetic samples the sampler generated (in imblearn's order),
    including any that a cleaning step (Tomek links, ENN) removed again.

    Attributes
    ----------
    X : ndarray, shape (n_out, ...)
        Resampled samples, with the trailing shape of the input (images stay images).
    y : ndarray, shape (n_out,)
        Resampled labels, as the user's labels.
    source : ndarray of int, shape (n_out,)
        Pool index of every output row.
    kept : ndarray of int
        Original rows present in the output (sorted, unique).
    removed : ndarray of int
        Original rows absent from the output (sorted).
    synthetic_index : ndarray of int, shape (m,)
        Positions in ``X`` of synthetic rows.
    synthetic_parents : ndarray of int, shape (m, 2)
        Original-row indices ``(i, nn)`` of each synthetic row's parents (``-1`` if unknown).
    synthetic_weights : ndarray of float, shape (m,)
        Interpolation factor ``delta`` of each synthetic row: ``x = x_i + delta (x_nn - x_i)``.
    generated, generated_parents, generated_weights
        The same for every generated sample, ``generated[j]`` being pool row ``n + j``.
    tomek_pairs : ndarray of int, shape (p, 2)
        Tomek links found (pool indices, smaller first); empty for samplers without a Tomek step.
    X_before, y_before : ndarray
        The input data (read-only views, not copies).
    classes : list
        Class labels, as the user gave them.
    counts_before, counts_after : ndarray of int, shape (K,)
        Samples per class.
    imbalance_ratio_before, imbalance_ratio_after : float
        Largest class count / smallest class count.
    rare_classes_before, rare_classes_after : list
        Classes under 5 % of all samples ("rare events").
    complexity_before, complexity_after : ComplexityReport
        Friedland's expected complexity (:func:`nbdebug.complexity`) of the data before / after,
        computed on first access (``expected_bits_before`` / ``expected_bits_after``: its bits).
    sampler_name : str
    sampler : object
        The fitted imblearn sampler (a clone; the user's object is never touched).
    parents_max_error : float
        Largest ``|x - (x_i + delta (x_nn - x_i))|`` over all synthetic rows (0 when exact).
    warnings : list of str
        Plain-words caveats.
    """

    X: np.ndarray
    y: np.ndarray
    source: np.ndarray
    kept: np.ndarray
    removed: np.ndarray
    synthetic_index: np.ndarray
    synthetic_parents: np.ndarray
    synthetic_weights: np.ndarray
    generated: np.ndarray
    generated_parents: np.ndarray
    generated_weights: np.ndarray
    tomek_pairs: np.ndarray
    X_before: np.ndarray
    y_before: np.ndarray
    classes: list
    counts_before: np.ndarray
    counts_after: np.ndarray
    imbalance_ratio_before: float
    imbalance_ratio_after: float
    rare_classes_before: list
    rare_classes_after: list
    sampler_name: str
    sampler: object = field(repr=False)
    params: dict = field(default_factory=dict)
    seed: object = 0
    parents_max_error: float = 0.0
    warnings: list = field(default_factory=list)

    _title = "Resampling"

    @property
    def n_before(self) -> int:
        return int(self.X_before.shape[0])

    @property
    def n_after(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_synthetic(self) -> int:
        return int(self.synthetic_index.shape[0])

    @property
    def removed_synthetic(self) -> np.ndarray:
        """Indices into ``generated`` of synthetic samples a cleaning step removed again."""
        present = self.source[self.source >= self.n_before] - self.n_before
        return np.setdiff1d(np.arange(self.generated.shape[0]), present)

    def _cached(self, key, make):
        value = self.__dict__.get(key)
        if value is None:
            value = self.__dict__[key] = make()
        return value

    @property
    def complexity_before(self):
        from .complexity import complexity

        return self._cached("_complexity_before", lambda: complexity(self.X_before, self.y_before))

    @property
    def complexity_after(self):
        from .complexity import complexity

        return self._cached("_complexity_after", lambda: complexity(self.X, self.y))

    @property
    def expected_bits_before(self) -> int:
        return self.complexity_before.expected_bits

    @property
    def expected_bits_after(self) -> int:
        """Expected complexity after resampling (0 when fewer than two classes are left)."""
        if np.count_nonzero(self.counts_after) < 2:
            return 0
        return self.complexity_after.expected_bits

    def pool_point(self, index) -> np.ndarray:
        """The sample(s) at pool index/indices ``index`` (original rows, then generated ones)."""
        index = np.asarray(index)
        n = self.n_before
        out = np.empty(index.shape + self.X_before.shape[1:], dtype=np.result_type(self.X_before, self.X))
        orig = index < n
        out[orig] = self.X_before[index[orig]]
        if (~orig).any():
            out[~orig] = self.generated[index[~orig] - n]
        return out

    def __repr__(self) -> str:
        return (
            f"ResampleReport(sampler={self.sampler_name!r}, n_before={self.n_before}, "
            f"n_after={self.n_after}, n_synthetic={self.n_synthetic}, n_removed={self.removed.size}, "
            f"tomek_pairs={len(self.tomek_pairs)}, imbalance_ratio={self.imbalance_ratio_before:.3g}"
            f"->{self.imbalance_ratio_after:.3g})"
        )

    def to_frame(self):
        """Class counts before and after, one row per class."""
        import pandas as pd

        total_b, total_a = max(self.counts_before.sum(), 1), max(self.counts_after.sum(), 1)
        return pd.DataFrame(
            {
                "class": list(self.classes),
                "n_before": self.counts_before,
                "n_after": self.counts_after,
                "share_before": self.counts_before / total_b,
                "share_after": self.counts_after / total_a,
                "rare_before": [c in self.rare_classes_before for c in self.classes],
                "rare_after": [c in self.rare_classes_after for c in self.classes],
            }
        ).set_index("class")

    def _make_widget(self):
        from ..views.resample import ResampleWidget

        return ResampleWidget(self)

    def figure(self, **style):
        """Before / after scatter on a shared PCA projection, plus class-count bars."""
        from ..views.resample import resample_figure

        return resample_figure(self, **style)


# ---------------------------------------------------------------------------------------------
# recording subclasses: they call imblearn's own methods unchanged and keep what they saw
# ---------------------------------------------------------------------------------------------
_RECORDING: dict = {}


def _recording_class(cls):
    """A subclass of ``cls`` whose instances record their inputs and outputs (cached per class)."""
    if getattr(cls, "_nbd_recording", False):
        return cls
    if cls in _RECORDING:
        return _RECORDING[cls]
    from imblearn.over_sampling import ADASYN
    from imblearn.over_sampling._smote.base import BaseSMOTE
    from imblearn.under_sampling import TomekLinks

    ns: dict = {"_nbd_recording": True, "__module__": cls.__module__, "__qualname__": cls.__qualname__}

    if hasattr(cls, "_fit_resample"):
        def _fit_resample(self, X, y, **kw):
            self._nbd_fit = (X, y)
            return super(rec, self)._fit_resample(X, y, **kw)

        ns["_fit_resample"] = _fit_resample

    if hasattr(cls, "_validate_estimator"):
        def _validate_estimator(self, *a, **kw):
            out = super(rec, self)._validate_estimator(*a, **kw)
            for name in ("smote_", "tomek_", "enn_"):
                inner = getattr(self, name, None)
                if inner is not None and not getattr(inner, "_nbd_recording", False):
                    inner.__class__ = _recording_class(type(inner))
            if isinstance(self, ADASYN) and getattr(self, "nn_", None) is not None:
                self.nn_.__class__ = _recording_nn_class(type(self.nn_))
                self.nn_._nbd_log = []
            return out

        ns["_validate_estimator"] = _validate_estimator

    if issubclass(cls, BaseSMOTE):
        def _generate_samples(self, X, nn_data, nn_num, rows, cols, steps, y_type=None, y=None):
            out = super(rec, self)._generate_samples(X, nn_data, nn_num, rows, cols, steps, y_type, y)
            log = self.__dict__.setdefault("_nbd_generated", [])
            log.append(
                dict(base=X, nn_data=nn_data, rows=np.asarray(rows), nn_rows=np.asarray(nn_num)[rows, cols],
                     steps=np.asarray(steps, dtype=np.float64).reshape(-1), y_type=y_type, out=out)
            )
            return out

        ns["_generate_samples"] = _generate_samples

    if issubclass(cls, TomekLinks):
        def is_tomek(self, y, nn_index, class_type):
            self._nbd_tomek = (np.asarray(y), np.asarray(nn_index))
            return cls.is_tomek(y, nn_index, class_type)

        ns["is_tomek"] = is_tomek

    rec = type(cls.__name__, (cls,), ns)
    _RECORDING[cls] = rec
    return rec


_RECORDING_NN: dict = {}


def _recording_nn_class(cls):
    if cls in _RECORDING_NN:
        return _RECORDING_NN[cls]

    def fit(self, X, y=None, **kw):
        self._nbd_fit_X = X
        return super(rec, self).fit(X, y, **kw) if y is not None else super(rec, self).fit(X, **kw)

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        out = super(rec, self).kneighbors(X, n_neighbors=n_neighbors, return_distance=return_distance)
        ind = out[1] if return_distance else out
        self.__dict__.setdefault("_nbd_log", []).append((self._nbd_fit_X, X, np.asarray(ind)))
        return out

    rec = type(cls.__name__, (cls,), {"fit": fit, "kneighbors": kneighbors, "__module__": cls.__module__})
    _RECORDING_NN[cls] = rec
    return rec


# ---------------------------------------------------------------------------------------------
# building samplers from names
# ---------------------------------------------------------------------------------------------
def _neighbour_param(sampler) -> str | None:
    params = sampler.get_params(deep=False)
    for name in ("k_neighbors", "n_neighbors"):
        if name in params:
            return name
    return None


def _strategy_from_ratio(ratio: float, counts: dict, over: bool):
    """A float sampling ratio for any number of classes (imblearn accepts floats for 2 only).

    Over-samplers grow every smaller class to ``ratio * n_majority``; under-samplers shrink every
    larger class to ``n_minority / ratio``. With two classes this is imblearn's own meaning.
    """
    if not (0 < ratio <= 1):
        raise ValueError(f"sampling_strategy: a float ratio must be in (0, 1]; got {ratio}")
    if len(counts) == 2:
        return float(ratio)
    n_max, n_min = max(counts.values()), min(counts.values())
    if over:
        return {c: max(n, int(round(ratio * n_max))) for c, n in counts.items()}
    return {c: min(n, int(round(n_min / ratio))) for c, n in counts.items()}


def make_sampler(name: str, seed=0, counts: dict | None = None, **params):
    """Build the imbalanced-learn sampler behind a name of :data:`SAMPLERS`.

    ``k_neighbors`` is accepted for every neighbour-based sampler (it becomes ``n_neighbors``
    where imblearn calls it that); ``sampling_strategy`` may be a float ratio for any number of
    classes (see :func:`_strategy_from_ratio`). Other keywords go to the imblearn constructor.
    """
    from imblearn import combine, over_sampling as ov, under_sampling as un

    if name not in SAMPLERS:
        raise ValueError(f"sampler: expected one of {', '.join(map(repr, SAMPLERS))} or an imblearn sampler; got {name!r}")
    params = dict(params)
    k = params.pop("k_neighbors", None)
    strategy = params.pop("sampling_strategy", None)
    if isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if name in CLEANING_SAMPLERS:
            raise ValueError(f"sampling_strategy: {name!r} only cleans; a ratio does not apply")
        strategy = _strategy_from_ratio(float(strategy), counts or {}, over=name in OVER_SAMPLERS) if counts else strategy
    kw = {} if strategy is None else {"sampling_strategy": strategy}

    def smote(**extra):
        sm_kw = dict(kw, random_state=seed, **extra)
        if k is not None:
            sm_kw["k_neighbors"] = k
        return ov.SMOTE(**sm_kw)

    if name == "smote":
        return smote(**params)
    if name == "borderline_smote":
        return ov.BorderlineSMOTE(random_state=seed, **({"k_neighbors": k} if k else {}), **kw, **params)
    if name == "adasyn":
        return ov.ADASYN(random_state=seed, **({"n_neighbors": k} if k else {}), **kw, **params)
    if name == "random_over":
        return ov.RandomOverSampler(random_state=seed, **kw, **params)
    if name == "smote_tomek":
        tomek = params.pop("tomek", None) or un.TomekLinks(sampling_strategy="all")
        return combine.SMOTETomek(smote=smote(), tomek=tomek, random_state=seed, **kw, **params)
    if name == "smote_enn":
        enn = params.pop("enn", None) or un.EditedNearestNeighbours(sampling_strategy="all")
        return combine.SMOTEENN(smote=smote(), enn=enn, random_state=seed, **kw, **params)
    if name == "tomek":
        return un.TomekLinks(**kw, **params)
    if name == "enn":
        return un.EditedNearestNeighbours(**({"n_neighbors": k} if k else {}), **kw, **params)
    if name == "random_under":
        return un.RandomUnderSampler(random_state=seed, **kw, **params)
    # near_miss
    return un.NearMiss(**({"n_neighbors": k} if k else {}), **kw, **params)


# ---------------------------------------------------------------------------------------------
# recovering provenance from the records
# ---------------------------------------------------------------------------------------------
def _row_lookup(A, rows_needed, fit_X, candidates):
    """Map rows of ``A`` to indices of ``fit_X`` with identical content (``candidates`` first)."""
    A = np.ascontiguousarray(A)
    out = np.full(A.shape[0], -1, dtype=np.int64)
    if rows_needed.size == 0:
        return out
    ref = np.ascontiguousarray(fit_X)
    table: dict = {}
    for pool in (candidates, np.arange(ref.shape[0])):
        for i in pool[::-1]:  # first occurrence wins
            table[ref[i].tobytes()] = int(i)
        hits = [table.get(A[r].tobytes(), -1) for r in rows_needed]
        out[rows_needed] = hits
        if min(hits) >= 0:
            break
    return out


def _map_rows(A, rows_needed, fit_X, fit_y, y_type, sampler):
    """Indices into ``fit_X`` of the rows of ``A`` (a view, subset or copy imblearn made)."""
    n = fit_X.shape[0]
    if A is fit_X or (A.shape == fit_X.shape and np.shares_memory(A, fit_X) and np.array_equal(A, fit_X)):
        return np.arange(n)
    cls_idx = np.flatnonzero(fit_y == y_type) if y_type is not None else np.arange(n)
    if A.shape[0] == cls_idx.size and np.array_equal(A, fit_X[cls_idx]):
        return cls_idx
    danger = getattr(sampler, "in_danger_indices", {}).get(y_type) if y_type is not None else None
    if danger is not None and A.shape[0] == len(danger) and np.array_equal(A, fit_X[danger]):
        return np.asarray(danger)
    if A.shape[0] == n and np.array_equal(A, fit_X):
        return np.arange(n)
    return _row_lookup(A, np.unique(rows_needed), fit_X, cls_idx)


def _solve_weights(x_new, x_i, x_nn):
    """Least-squares ``delta`` in ``x_new = x_i + delta (x_nn - x_i)``, row by row."""
    d = x_nn - x_i
    den = np.einsum("ij,ij->i", d, d)
    num = np.einsum("ij,ij->i", x_new - x_i, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    return w


def _smote_provenance(sampler):
    """(parents (M, 2), weights (M,), generated (M, d)) from a recorded SMOTE-family sampler."""
    fit_X, fit_y = sampler._nbd_fit
    parents, weights, outs = [], [], []
    for rec in sampler.__dict__.get("_nbd_generated", []):
        rows, nn_rows = rec["rows"], rec["nn_rows"]
        base_map = _map_rows(rec["base"], rows, fit_X, fit_y, rec["y_type"], sampler)
        nn_map = _map_rows(rec["nn_data"], nn_rows, fit_X, fit_y, rec["y_type"], sampler)
        parents.append(np.column_stack([base_map[rows], nn_map[nn_rows]]))
        weights.append(rec["steps"])
        outs.append(np.asarray(rec["out"]))
    return _stack(parents, weights, outs, fit_X)


def _best_neighbour(X_new, X_cls, rows, nns_cls):
    """For each synthetic row made from ``rows``, the neighbour column and factor that fit best."""
    m, k = X_new.shape[0], nns_cls.shape[1]
    best_err = np.full(m, np.inf)
    best_col = np.zeros(m, dtype=np.int64)
    best_w = np.zeros(m)
    for col in range(k):
        x_i, x_nn = X_cls[rows], X_cls[nns_cls[rows, col]]
        w = _solve_weights(X_new, x_i, x_nn)
        err = np.abs(X_new - (x_i + w[:, None] * (x_nn - x_i))).max(axis=1)
        better = err < best_err
        best_err[better], best_col[better], best_w[better] = err[better], col, w[better]
    return best_col, best_w, best_err


def _scan_rows(X_new, X_cls, nns_cls, tol):
    """Rows of ADASYN's synthetic samples by a forward scan (ADASYN emits them row by row)."""
    rows = np.full(X_new.shape[0], -1, dtype=np.int64)
    r = 0
    for s in range(X_new.shape[0]):
        while r < X_cls.shape[0]:
            _, _, err = _best_neighbour(X_new[s:s + 1], X_cls, np.array([r]), nns_cls)
            if err[0] <= tol:
                rows[s] = r
                break
            r += 1
    return rows


def _adasyn_provenance(sampler, X_res, y_res):
    """ADASYN draws inline: rows follow from the recorded neighbour graph, factors are solved.

    ADASYN emits its synthetic rows grouped by base row (``np.repeat``) with counts it derives
    from the neighbour graph; those counts are recomputed here from the recorded graph and the
    result is verified. Should they ever disagree (a changed imblearn), a forward scan finds the
    base rows instead. The neighbour and ``delta`` of each row are then solved on the recorded
    within-class neighbours.
    """
    fit_X, fit_y = sampler._nbd_fit
    log = list(getattr(sampler.nn_, "_nbd_log", []))
    n = fit_X.shape[0]
    parents, weights, outs = [], [], []
    offset = n
    scale = max(float(np.abs(fit_X).max()), 1.0) if fit_X.size else 1.0
    tol = (1e-9 if fit_X.dtype == np.float64 else 1e-5) * scale
    y_new_all = np.asarray(y_res)[n:]
    for class_sample, n_samples in sampler.sampling_strategy_.items():
        if n_samples == 0:
            continue
        (_, _, nns_all), (_, _, nns_cls) = log[0], log[1]
        log = log[2:]
        cls_idx = np.flatnonzero(fit_y == class_sample)
        k = nns_cls.shape[1] - 1
        nns_all, nns_cls = nns_all[:, 1:], nns_cls[:, 1:]
        m = int(np.count_nonzero(y_new_all == class_sample))
        X_new = np.asarray(X_res[offset:offset + m], dtype=np.float64)
        offset += m
        X_cls = np.asarray(fit_X[cls_idx], dtype=np.float64)
        ratio = np.sum(fit_y[nns_all] != class_sample, axis=1) / k
        n_gen = np.rint(ratio / ratio.sum() * n_samples).astype(int)
        rows = np.repeat(np.arange(cls_idx.size), n_gen) if n_gen.sum() == m else None
        if rows is not None:
            col, w, err = _best_neighbour(X_new, X_cls, rows, nns_cls)
        if rows is None or (err > tol).any():
            rows = _scan_rows(X_new, X_cls, nns_cls, tol)
            col, w, err = _best_neighbour(X_new, X_cls, np.maximum(rows, 0), nns_cls)
        pair = np.column_stack([cls_idx[np.maximum(rows, 0)], cls_idx[nns_cls[np.maximum(rows, 0), col]]])
        pair[rows < 0] = -1
        parents.append(pair)
        weights.append(w)
        outs.append(X_new.astype(X_res.dtype))
    return _stack(parents, weights, outs, fit_X)


def _stack(parents, weights, outs, fit_X):
    d = fit_X.shape[1]
    if not parents:
        return np.zeros((0, 2), np.int64), np.zeros(0), np.zeros((0, d), dtype=fit_X.dtype)
    return (np.concatenate(parents).astype(np.int64), np.concatenate(weights).astype(np.float64),
            np.concatenate(outs))


def _residual(gen, x_i, x_nn, w):
    """Row-wise max |gen - (x_i + w (x_nn - x_i))|, with as few temporaries as possible."""
    out = np.subtract(x_nn, x_i, dtype=np.float64)
    out *= w[:, None]
    out += x_i
    out -= gen
    np.abs(out, out=out)
    return out.max(axis=1)


def _check_parents(generated, parents, weights, fit_X):
    """Largest residual of ``x = x_i + delta (x_nn - x_i)``; re-solve ``delta`` where needed.

    Borderline-SMOTE-2 scales the step towards neighbours of another class by a second random
    factor that imblearn does not expose: for those rows ``delta`` is solved on the known parents.
    """
    weights = np.array(weights, dtype=np.float64)
    if generated.shape[0] == 0:
        return weights, 0.0
    ok = (parents >= 0).all(axis=1)
    weights[~ok] = np.nan
    if not ok.any():
        return weights, 0.0
    scale = max(float(fit_X.max()), -float(fit_X.min()), 1.0)
    tol = (1e-9 if fit_X.dtype == np.float64 else 1e-5) * scale
    all_ok = bool(ok.all())
    gen = generated if all_ok else generated[ok]
    p = parents if all_ok else parents[ok]
    x_i, x_nn = fit_X[p[:, 0]], fit_X[p[:, 1]]
    e = _residual(gen, x_i, x_nn, weights if all_ok else weights[ok])
    bad = np.flatnonzero(e > tol)
    if bad.size:
        w = _solve_weights(np.asarray(gen[bad], np.float64), np.asarray(x_i[bad], np.float64),
                           np.asarray(x_nn[bad], np.float64))
        weights[np.flatnonzero(ok)[bad]] = w
        e[bad] = _residual(gen[bad], x_i[bad], x_nn[bad], w)
    return weights, float(e.max())


def _strip_recording(obj):
    """Give the fitted sampler (and its inner samplers) back their own class and drop the records."""
    for o in (obj, getattr(obj, "smote_", None), getattr(obj, "tomek_", None), getattr(obj, "enn_", None),
              getattr(obj, "nn_", None)):
        if o is None:
            continue
        for key in [k for k in o.__dict__ if k.startswith("_nbd_")]:
            del o.__dict__[key]
        if getattr(type(o), "_nbd_recording", False) or type(o) in _RECORDING_NN.values():
            o.__class__ = type(o).__mro__[1]


def _tomek_pairs(tomek):
    rec = getattr(tomek, "_nbd_tomek", None) if tomek is not None else None
    if rec is None:
        return np.zeros((0, 2), dtype=np.int64)
    y, nn = rec
    i = np.arange(nn.size)
    mutual = (nn[nn] == i) & (y[nn] != y) & (i < nn)
    return np.column_stack([i[mutual], nn[mutual]]).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------
def _encode(y, n, classes=None):
    """``encode_labels`` through the distinct values only (fast on 100,000s of labels)."""
    arr = np.asarray(y)
    def fallback():
        return encode_labels(y, "y", n_samples=n, classes=classes, min_classes=1 if classes else 2)

    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype == object or n == 0:
        return fallback()
    if arr.dtype.kind in "iu" and int(arr.max()) - int(arr.min()) <= 4 * n + 16:
        # small-range integers: a lookup table instead of a sort
        lo = int(arr.min())
        present = np.bincount(arr - lo if lo else arr) > 0
        uniq = np.flatnonzero(present) + lo
        table = np.full(present.size, -1, dtype=np.int64)
        table[uniq - lo] = np.arange(uniq.size)
        inverse = table[arr - lo if lo else arr]
    else:
        try:
            uniq, inverse = np.unique(arr, return_inverse=True)
        except TypeError:
            return fallback()
    if np.issubdtype(uniq.dtype, np.floating) and not np.isfinite(uniq).all():
        return encode_labels(y, "y", n_samples=n)  # raises, naming y
    ucodes, found = encode_labels(uniq, "y", classes=classes, min_classes=1 if classes else 2)
    codes = np.asarray(ucodes)[inverse.reshape(-1)]
    if classes is None and uniq.size < 2:
        return encode_labels(y, "y", n_samples=n)  # raises "found 1 class"
    return readonly(codes), (found if classes is None else list(classes))


def _counts(codes, k):
    return np.bincount(codes, minlength=k).astype(np.int64)


def _imbalance(counts):
    present = counts[counts > 0]
    return float(present.max() / present.min()) if present.size else float("nan")


def _rare(counts, classes):
    total = counts.sum()
    return [classes[i] for i in np.flatnonzero((counts > 0) & (counts < RARE_SHARE * total))]


def _fmt_share(c, n, total):
    return f"{c!s} ({n} of {total}, {100 * n / max(total, 1):.1f} %)"


def _user_sampler(sampler, seed):
    from sklearn.base import clone

    if not (hasattr(sampler, "fit_resample") and hasattr(sampler, "get_params")):
        raise TypeError(
            "sampler: expected a name "
            f"({', '.join(map(repr, SAMPLERS))}) or an imbalanced-learn sampler object; "
            f"got {type(sampler).__name__}"
        )
    obj = clone(sampler)
    params = obj.get_params(deep=False)
    # the user's own random_state wins; an unseeded sampler gets ``seed`` so results repeat
    if "random_state" in params and params["random_state"] is None and isinstance(seed, numbers.Integral):
        obj.set_params(random_state=int(seed))
    for inner in ("smote",):
        if inner in params and params[inner] is not None:
            ip = params[inner].get_params(deep=False)
            if ip.get("random_state", 0) is None and isinstance(seed, numbers.Integral):
                obj.set_params(**{inner: clone(params[inner]).set_params(random_state=int(seed))})
    return obj


def _translate_error(exc, sampler, counts, classes):
    msg = str(exc)
    if "n_neighbors <= n_samples" in msg or "n_samples_fit" in msg:
        pname = _neighbour_param(sampler) or "k_neighbors"
        inner = getattr(sampler, "smote", None)
        k = sampler.get_params(deep=False).get(pname)
        if k is None and inner is not None:
            k = inner.get_params(deep=False).get("k_neighbors")
        smallest = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
        return ValueError(
            f"k_neighbors: class {classes[smallest]!r} has only {counts[smallest]} sample(s), but "
            f"{type(sampler).__name__} needs more than k_neighbors={k} samples in every class it "
            f"works on (each sample's k neighbours plus itself). Use k_neighbors <= "
            f"{max(int(counts[smallest]) - 1, 0)} or drop that class. ({msg})"
        )
    return None


def resample(X, y, sampler="smote", seed=0, **sampler_params) -> ResampleReport:
    """Resample ``(X, y)`` with imbalanced-learn and keep the provenance of every row.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Samples; each is flattened to a feature vector for the sampler and the result has the
        same trailing shape (images stay images). Integer data is interpolated in float64.
    y : array-like, shape (n,)
        Class labels (ints, strings, ...); the result's labels are the user's labels.
    sampler : str or imblearn sampler
        One of ``"smote"``, ``"borderline_smote"``, ``"adasyn"``, ``"smote_tomek"``,
        ``"smote_enn"``, ``"tomek"``, ``"enn"``, ``"random_under"``, ``"near_miss"``,
        ``"random_over"``, or any imbalanced-learn sampler object. An object is cloned, never
        modified; if its ``random_state`` is None it gets ``seed``.
    seed : int
        Random state handed to imblearn (imblearn draws with its own ``RandomState``; the global
        RNG is untouched).
    **sampler_params
        Passed to the named sampler's constructor. ``k_neighbors`` works for every
        neighbour-based sampler (``n_neighbors`` for ADASYN, ENN, NearMiss);
        ``sampling_strategy`` may be a float ratio for any number of classes.

    Returns
    -------
    ResampleReport
        ``.X``, ``.y``, ``.kept``, ``.removed``, ``.synthetic_parents``, ``.synthetic_weights``,
        ``.tomek_pairs``, class counts before/after, imbalance ratio, rare classes, warnings.

    Raises
    ------
    ValueError
        NaN/Inf in ``X``, one class only, mismatched lengths, or a class with too few samples
        for ``k_neighbors`` (the message names ``k_neighbors``).
    """
    arr = check_array(X, "X", min_ndim=1)
    if arr.ndim == 1:
        arr = readonly(arr.reshape(-1, 1))
    codes, classes = _encode(y, arr.shape[0])
    if isinstance(seed, np.random.Generator) or seed is None:
        seed = int(check_seed(seed).integers(2**31 - 1))
    elif not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    seed = int(seed)
    y_user = np.asarray(y)
    trailing = arr.shape[1:]
    flat = arr.reshape(arr.shape[0], -1)
    if not np.issubdtype(flat.dtype, np.floating):
        flat = flat.astype(np.float64)  # SMOTE would truncate interpolated integers
    n, k_cls = flat.shape[0], len(classes)
    counts_before = _counts(codes, k_cls)

    if isinstance(sampler, str):
        counts_map = {classes[i]: int(c) for i, c in enumerate(counts_before)}
        obj = make_sampler(sampler, seed=seed, counts=counts_map, **sampler_params)
        name = sampler
    else:
        if sampler_params:
            raise TypeError(
                "sampler_params: set parameters on the sampler object itself "
                f"(got {', '.join(sampler_params)})"
            )
        obj = _user_sampler(sampler, seed)
        name = type(sampler).__name__
    obj.__class__ = _recording_class(type(obj))

    # imblearn wants plain labels; object arrays of mixed types stay as given
    try:
        X_res, y_res = obj.fit_resample(flat, y_user)
    except ValueError as exc:
        better = _translate_error(exc, obj, counts_before, classes)
        if better is not None:
            raise better from None
        raise
    if hasattr(X_res, "toarray"):
        X_res = X_res.toarray()
    X_res = np.asarray(X_res)
    y_res = np.asarray(y_res)

    # where the oversampling happened (the sampler itself, or the SMOTE inside a combination)
    smote_part = getattr(obj, "smote_", None)
    smote_part = obj if smote_part is None else smote_part
    cleaner = getattr(obj, "tomek_", None)
    cleaner = getattr(obj, "enn_", None) if cleaner is None else cleaner
    fit_X = getattr(smote_part, "_nbd_fit", (flat, None))[0]
    from imblearn.over_sampling import ADASYN

    if isinstance(smote_part, ADASYN):
        gparents, gweights, generated = _adasyn_provenance(smote_part, X_res, y_res)
    elif "_nbd_generated" in smote_part.__dict__ or hasattr(smote_part, "nn_k_"):
        gparents, gweights, generated = _smote_provenance(smote_part)
    else:
        gparents, gweights, generated = None, None, None
    fit_X = np.asarray(fit_X)

    if gparents is not None:
        gweights, max_err = _check_parents(generated, gparents, gweights, fit_X)
        M = generated.shape[0]
        source = np.asarray(cleaner.sample_indices_) if cleaner is not None else np.arange(n + M)
    elif hasattr(obj, "sample_indices_"):
        source = np.asarray(obj.sample_indices_).astype(np.int64)
        max_err = 0.0
        # a smoothed bootstrap (RandomOverSampler(shrinkage=...)) jitters its copies: those rows
        # are new samples with one parent, not the original rows their indices name
        changed = np.flatnonzero((X_res != flat[source]).any(axis=1)) if X_res.shape[0] else np.zeros(0, int)
        M = changed.size
        generated = X_res[changed]
        gparents = np.column_stack([source[changed], np.full(M, -1)]).astype(np.int64)
        gweights = np.full(M, np.nan)
        source[changed] = n + np.arange(M)
    else:
        # a sampler that hands out no indices (e.g. ClusterCentroids): match rows by content
        lookup = _row_lookup(X_res, np.arange(X_res.shape[0]), flat, np.arange(n))
        new = np.flatnonzero(lookup < 0)
        M, max_err = new.size, 0.0
        generated = X_res[new]
        gparents = np.full((M, 2), -1, np.int64)
        gweights = np.full(M, np.nan)
        source = lookup.copy()
        source[new] = n + np.arange(M)

    source = source.astype(np.int64)
    tomek = cleaner if cleaner is not None else obj
    pairs = _tomek_pairs(tomek if hasattr(tomek, "_nbd_tomek") else None)
    present = np.zeros(n, dtype=bool)
    present[source[source < n]] = True
    kept, removed = np.flatnonzero(present), np.flatnonzero(~present)
    synthetic_index = np.flatnonzero(source >= n)
    gen_ids = source[synthetic_index] - n

    codes_after = _encode(y_res, y_res.shape[0], classes=classes)[0]
    counts_after = _counts(codes_after, k_cls)
    ratio_b, ratio_a = _imbalance(counts_before), _imbalance(counts_after)
    rare_b, rare_a = _rare(counts_before, classes), _rare(counts_after, classes)

    warnings = []
    if rare_b or ratio_b >= 3:
        warnings.append(
            f"Before resampling the classes are imbalanced (largest/smallest = {ratio_b:.1f}"
            + (f"; rare, under 5 %: {', '.join(_fmt_share(c, counts_before[classes.index(c)], n) for c in rare_b[:5])}" if rare_b else "")
            + "). The expected-complexity estimate (nd.complexity) is unreliable on "
            "such data: a rare class produces few label changes, so the capacity it needs is "
            "underestimated (paper, section 4)."
        )
    if ratio_a >= 3 or rare_a:
        warnings.append(
            f"After resampling the classes are still imbalanced (largest/smallest = {ratio_a:.1f}); "
            "the complexity estimate stays unreliable. Cleaning samplers (Tomek links, ENN) only "
            "remove overlap; use an over-sampler or a sampling ratio to balance."
        )
    if M and gen_ids.size:
        share = gen_ids.size / max(X_res.shape[0], 1)
        if share > 0.5:
            warnings.append(
                f"{100 * share:.0f} % of the resampled rows are synthetic: they lie on segments "
                "between existing neighbours and add no new information; validate on real data only."
            )
    if max_err > (1e-6 * max(float(np.abs(fit_X).max()), 1.0) if fit_X.size else 0):
        warnings.append(
            f"Parent recovery is approximate for this sampler (largest residual {max_err:.3g}); "
            "the parents shown are the closest matching neighbour pair."
        )

    _strip_recording(obj)
    X_out = readonly(X_res.reshape((X_res.shape[0],) + trailing))
    return ResampleReport(
        X=X_out,
        y=readonly(y_res),
        source=source,
        kept=kept,
        removed=removed,
        synthetic_index=synthetic_index,
        synthetic_parents=gparents[gen_ids] if gen_ids.size else np.zeros((0, 2), np.int64),
        synthetic_weights=gweights[gen_ids] if gen_ids.size else np.zeros(0),
        generated=np.asarray(generated).reshape((-1,) + trailing),
        generated_parents=gparents,
        generated_weights=gweights,
        tomek_pairs=pairs,
        X_before=arr,
        y_before=readonly(y_user),
        classes=classes,
        counts_before=counts_before,
        counts_after=counts_after,
        imbalance_ratio_before=ratio_b,
        imbalance_ratio_after=ratio_a,
        rare_classes_before=rare_b,
        rare_classes_after=rare_a,
        sampler_name=name,
        sampler=obj,
        params=dict(sampler_params),
        seed=seed,
        parents_max_error=max_err,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------
# complexity-minimising resampling (main paper, section 3.3.3)
# ---------------------------------------------------------------------------------------------
DEFAULT_SEARCH_SAMPLERS = ("smote", "smote_tomek", "smote_enn", "borderline_smote", "adasyn")


@dataclass(eq=False)
class ResampleSearchReport(Result):
    """Every trial of a complexity-minimising resampling search, and the resampling it chose.

    Attributes
    ----------
    samplers : list of str
        Sampler labels, one per row of the arrays below.
    changes : ndarray of float, shape (n_samplers, trials)
        Label changes ``t`` of the resampled data (Friedland's heuristic); NaN where a trial did
        not run (interrupted) or the sampler failed on that shuffle.
    expected_bits : ndarray of float, shape (n_samplers, trials)
        Expected complexity ``ceil(log2(t + 1)) * d`` in bits; NaN as above.
    best_sampler : str
    best_trial : int
    best : ResampleReport
        The chosen resampling; its row indices refer to the user's original row order.
    expected_bits_before, changes_before : int
        The same measures on the data before resampling.
    errors : dict
        ``sampler label -> message`` for samplers that raised.
    interrupted : bool
        True when the search was stopped (KeyboardInterrupt) after at least one trial.
    """

    samplers: list
    changes: np.ndarray
    expected_bits: np.ndarray
    best_sampler: str
    best_trial: int
    best: ResampleReport
    expected_bits_before: int
    changes_before: int
    trials: int
    seed: int
    errors: dict = field(default_factory=dict)
    interrupted: bool = False
    warnings: list = field(default_factory=list)

    _title = "Complexity-minimising resampling"

    def __repr__(self) -> str:
        return (
            f"ResampleSearchReport(samplers={self.samplers}, trials={self.trials}, "
            f"best={self.best_sampler!r} trial {self.best_trial} "
            f"({int(self.expected_bits[self.samplers.index(self.best_sampler), self.best_trial])} bits, "
            f"before {self.expected_bits_before} bits), interrupted={self.interrupted})"
        )

    def to_frame(self):
        """One row per (sampler, trial): changes, expected bits, and whether it was chosen."""
        import pandas as pd

        rows = []
        for s, label in enumerate(self.samplers):
            for t in range(self.trials):
                rows.append(
                    {"sampler": label, "trial": t, "changes": self.changes[s, t],
                     "expected_bits": self.expected_bits[s, t],
                     "chosen": label == self.best_sampler and t == self.best_trial}
                )
        return pd.DataFrame(rows)

    def _make_widget(self):
        from ..views.resample import ResampleSearchWidget

        return ResampleSearchWidget(self)

    def figure(self, **style):
        """Per-trial expected complexity per sampler, the chosen trial highlighted."""
        from ..views.resample import search_figure

        return search_figure(self, **style)


def _remap_report(rep: ResampleReport, perm: np.ndarray, X, y) -> ResampleReport:
    """Express a report made on ``X[perm]`` in the user's original row order."""
    import dataclasses

    n = perm.size

    def pool(idx):
        idx = np.asarray(idx).copy()
        orig = (idx >= 0) & (idx < n)
        idx[orig] = perm[idx[orig]]
        return idx

    kept = np.sort(perm[rep.kept])
    pairs = np.sort(pool(rep.tomek_pairs), axis=1) if rep.tomek_pairs.size else rep.tomek_pairs
    new = dataclasses.replace(
        rep,
        source=pool(rep.source),
        kept=kept,
        removed=np.setdiff1d(np.arange(n), kept),
        synthetic_parents=pool(rep.synthetic_parents),
        generated_parents=pool(rep.generated_parents),
        tomek_pairs=pairs,
        X_before=X,
        y_before=y,
    )
    return new


def resample_search(X, y, samplers=DEFAULT_SEARCH_SAMPLERS, trials: int = 5, seed=0,
                    progress: bool = True, **sampler_params) -> ResampleSearchReport:
    """Shuffle, resample, measure the expected complexity; repeat; keep the least complex result.

    The capacity-minimising resampling of the main paper (section 3.3.3): for every trial the
    rows are shuffled (one permutation per trial, shared by all samplers so they compete on the
    same order), each sampler resamples the shuffled data with a trial-specific random state, and
    Friedland's expected complexity (:func:`nbdebug.complexity`) of the result is measured. The
    resampled set with the fewest label changes (hence the fewest expected bits) wins; ties go to
    the earlier sampler and trial.

    Parameters
    ----------
    X, y : array-like
        Data and labels, as for :func:`resample`.
    samplers : sequence of str or imblearn sampler
        Names of :data:`SAMPLERS` or sampler objects (cloned, never modified).
    trials : int
        Shuffles per sampler.
    seed : int
        Seeds the shuffles and the samplers' random states (the global RNG is untouched).
    progress : bool
        Show a ``tqdm`` progress bar.
    **sampler_params
        Passed to every *named* sampler (e.g. ``k_neighbors=3``).

    Returns
    -------
    ResampleSearchReport

    Notes
    -----
    Interrupting (the kernel's stop button, ``KeyboardInterrupt``) after at least one trial
    returns the best result so far with ``interrupted=True``; before that, it re-raises. Nothing
    outside the function is left changed either way.
    """
    from .complexity import complexity

    arr = check_array(X, "X", min_ndim=1)
    codes, classes = _encode(y, arr.shape[0])
    trials = int(trials) if isinstance(trials, numbers.Integral) and not isinstance(trials, bool) else trials
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials: expected an integer >= 1, got {trials!r}")
    if isinstance(samplers, str) or not hasattr(samplers, "__iter__"):
        samplers = [samplers]
    samplers = list(samplers)
    if not samplers:
        raise ValueError("samplers: expected at least one sampler")
    labels = []
    for s in samplers:
        base = s if isinstance(s, str) else type(s).__name__
        if isinstance(s, str) and s not in SAMPLERS:
            raise ValueError(f"samplers: expected names from {', '.join(map(repr, SAMPLERS))}; got {s!r}")
        label, i = base, 2
        while label in labels:
            label, i = f"{base} ({i})", i + 1
        labels.append(label)
    rng = check_seed(seed, "seed")
    y_user = np.asarray(y)
    before = complexity(arr, y_user)

    changes = np.full((len(samplers), trials), np.nan)
    bits = np.full((len(samplers), trials), np.nan)
    errors: dict = {}
    best = None  # (changes, s, t, report, perm)
    interrupted = False
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(samplers) * trials, desc="resample_search", leave=False)
    try:
        for t in range(trials):
            perm = rng.permutation(arr.shape[0])
            trial_seed = int(rng.integers(2**31 - 1))
            X_t, y_t = arr[perm], y_user[perm]
            for s, sampler in enumerate(samplers):
                if labels[s] in errors:
                    if bar is not None:
                        bar.update(1)
                    continue
                try:
                    if isinstance(sampler, str):
                        rep = resample(X_t, y_t, sampler, seed=trial_seed, **sampler_params)
                    else:
                        rep = resample(X_t, y_t, sampler, seed=trial_seed)
                except (ValueError, RuntimeError) as exc:
                    errors[labels[s]] = str(exc)
                    if bar is not None:
                        bar.update(1)
                    continue
                if np.count_nonzero(rep.counts_after) >= 2:
                    cx = rep.complexity_after
                    changes[s, t], bits[s, t] = cx.changes, cx.expected_bits
                    if best is None or cx.changes < best[0]:
                        best = (cx.changes, s, t, rep, perm)
                if bar is not None:
                    bar.update(1)
                    if best is not None:
                        bar.set_postfix_str(f"best {labels[best[1]]}: {int(bits[best[1], best[2]])} bits")
    except KeyboardInterrupt:
        interrupted = True
        if best is None:
            raise
    finally:
        if bar is not None:
            bar.close()
    if best is None:
        raise ValueError(
            "samplers: every sampler failed on this data: "
            + "; ".join(f"{k}: {v}" for k, v in errors.items())
        )
    _, s_best, t_best, rep, perm = best
    chosen = _remap_report(rep, perm, arr, readonly(y_user))
    warnings = []
    if interrupted:
        done = int(np.isfinite(bits).sum())
        warnings.append(f"Interrupted after {done} of {bits.size} runs; the best result so far is kept.")
    for label, msg in errors.items():
        warnings.append(f"{label} failed and was skipped: {msg}")
    return ResampleSearchReport(
        samplers=labels,
        changes=changes,
        expected_bits=bits,
        best_sampler=labels[s_best],
        best_trial=int(t_best),
        best=chosen,
        expected_bits_before=before.expected_bits,
        changes_before=before.changes,
        trials=trials,
        seed=seed if isinstance(seed, int) else -1,
        errors=errors,
        interrupted=interrupted,
        warnings=warnings,
    )
