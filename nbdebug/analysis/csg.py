"""Cumulative Spectral Gradient (CSG): dataset complexity from class overlap (main paper, 3.1.2).

Branchaud-Charron, Achkar & Jodoin, "Spectral Metric for Dataset Complexity Assessment", CVPR
2019. The samples are embedded; for M samples of every class the k nearest neighbours among all
samples give the class posteriors, weighted by the inverse volume of the axis-aligned box that
holds the neighbours (a Parzen window). Averaging per class gives the class-overlap matrix S;
``W = 1 - BrayCurtis(S_i, S_j)`` is a class-similarity graph whose Laplacian spectrum measures how
entangled the classes are. CSG sums the cumulative maximum of the normalised eigenvalue gaps.

The nearest-neighbour search is exact. It never sorts a full distance row: in low dimensions it
queries a kd-tree; in high dimensions it computes squared distances blockwise with BLAS, first
against the queries' own class, then only against the classes whose bounding ball (centre and
radius) comes closer to some query of the block than its current k-th neighbour (the triangle
inequality); adjacent reachable classes are merged into one product. Well separated classes,
the easy case CSG reports as such, thus cost a fraction of a brute-force search; overlapping
classes cost about one. From 128 dimensions on the products run in float32, and every answer is
certified against a proven bound on the float32 rounding error (or recomputed in float64).
Candidates are re-ranked with exact float64 distances, ties broken by sample index, so results
do not depend on the BLAS used. Memory is O(block × class size), never
n × n.
"""
from __future__ import annotations

import math
import numbers
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._validate import check_array, check_choice, check_positive_int, check_seed, encode_labels, readonly
from ..results import Result

#: the Parzen-window volume floor of the reference implementation
VOLUME_FLOOR = 1e-4
_LOG_VOLUME_FLOOR = math.log(VOLUME_FLOOR)

EMBEDDINGS = ("raw", "pca", "umap", "tsne")
DISPLAYS = ("auto", "pca", "umap", "tsne")

#: feature dimension up to which the kd-tree beats blockwise BLAS distances
_KDTREE_MAX_DIM = 12
#: bytes one block of the distance matrix may take
_BLOCK_BYTES = 32 * 2**20
#: candidates kept beyond k + 1 before the exact float64 re-ranking
_EXTRA_CANDIDATES = 3
#: from this feature dimension on, distance products run in float32 (certified, see below)
_F32_MIN_DIM = 128
#: more spare candidates in float32: the certificate needs a margin above the (k+1)-th
_EXTRA_CANDIDATES_F32 = 24
_U32 = float(np.finfo(np.float32).eps) / 2


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class CSGReport(Result):
    """Cumulative Spectral Gradient of a labelled dataset, and everything behind it.

    Attributes
    ----------
    score : float
        The CSG (``nan`` only in ``reference_compatible`` mode where the reference is NaN).
    similarity : ndarray, shape (K, K)
        ``S``: row ``c`` is the volume-weighted mean neighbour-class posterior of class ``c``'s
        samples, normalised to sum 1. ``S[i, j]`` large means class ``i`` overlaps class ``j``.
    W : ndarray, shape (K, K)
        ``1 - BrayCurtis(S_i, S_j)``.
    laplacian : ndarray, shape (K, K)
        ``D - W`` (self loops ignored, as in ``scipy.sparse.csgraph.laplacian``).
    eigenvalues : ndarray, shape (K,)
        Of the Laplacian, ascending.
    gaps : ndarray, shape (K - 1,)
        ``(λ_{i+1} - λ_i) / (K - i)``, ``i = 0..K-2``.
    cumulative_max : ndarray, shape (K - 1,)
        Running maximum of ``gaps``; ``score = cumulative_max.sum()``.
    classes : list
        Class labels as given.
    class_counts : ndarray of int, shape (K,)
        Samples per class.
    class_order : ndarray of int, shape (K,)
        Classes in spectral order (by the Laplacian's Fiedler vector) so that overlapping
        classes sit next to each other; the viewer orders the heatmap by it for many classes.
    sample_index : ndarray of int, shape (m,)
        The samples drawn (M per class), grouped by class.
    sample_class : ndarray of int, shape (m,)
        Their class codes.
    posteriors : ndarray, shape (m, K)
        Per drawn sample, the share of its k nearest neighbours in each class.
    log_volume : ndarray, shape (m,)
        Natural log of each sample's Parzen-window volume (after the 1e-4 floor).
    neighbors : ndarray of int, shape (m, k)
        The k nearest neighbours of each drawn sample (itself excluded), nearest first.
    coords : ndarray of float32, shape (n, 2)
        2-D coordinates of every sample for display (computed on first access, cached).
    y : ndarray of int, shape (n,)
        Class code of every sample.
    k, M : int
        Neighbours and samples per class used (``M`` is None for "every sample").
    embedding : str
        Name of the embedding ("raw", "pca", "umap", "tsne", "array" or "callable").
    n_features : int
        Dimension of the embedded features the neighbours were searched in.
    reference_compatible : bool
        Whether the reference implementation's exact semantics were used.
    """

    score: float
    similarity: np.ndarray
    W: np.ndarray
    laplacian: np.ndarray
    eigenvalues: np.ndarray
    gaps: np.ndarray
    cumulative_max: np.ndarray
    classes: list
    class_counts: np.ndarray
    class_order: np.ndarray
    sample_index: np.ndarray
    sample_class: np.ndarray
    posteriors: np.ndarray
    log_volume: np.ndarray
    neighbors: np.ndarray
    y: np.ndarray
    k: int
    M: int | None
    embedding: str
    n_features: int
    seed: Any = 0
    reference_compatible: bool = False
    #: the embedded features (n, d') and the original samples, kept for recomputation in the
    #: viewer and for its gallery; never modified
    features: np.ndarray | None = field(default=None, repr=False)
    data: np.ndarray | None = field(default=None, repr=False)
    sample_rate: int | None = field(default=None, repr=False)
    display: Any = field(default="auto", repr=False)

    _title = "Class overlap (CSG)"

    @property
    def coords(self) -> np.ndarray:
        """2-D display coordinates of every sample, shape (n, 2), float32."""
        cached = self.__dict__.get("_coords")
        if cached is None:
            seed = self.seed if isinstance(self.seed, numbers.Integral) else 0
            cached = _display_coords(self.features, self.display, seed)
            self.__dict__["_coords"] = cached
        return cached

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_samples(self) -> int:
        return int(self.y.shape[0])

    def overlap_samples(self, i: int, j: int, n: int = 12) -> np.ndarray:
        """Sample indices of classes ``i`` and ``j`` that overlap each other most.

        Drawn samples of class ``i`` ranked by their neighbour share in class ``j`` and vice
        versa (ties by the Parzen weight, denser first), interleaved, at most ``n``.
        """
        K = self.n_classes
        for name, v in (("i", i), ("j", j)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v < K:
                raise ValueError(f"{name}: expected a class code in 0..{K - 1}, got {v!r}")
        n = check_positive_int(n, "n")
        lists = []
        for a, b in ((i, j), (j, i)):
            rows = np.flatnonzero(self.sample_class == a)
            if a == b:
                share = 1.0 - self.posteriors[rows, a]  # a class against itself: its least pure
            else:
                share = self.posteriors[rows, b]
            rows = rows[share > 0]
            share = share[share > 0]
            order = np.lexsort((self.log_volume[rows], -share))
            lists.append(self.sample_index[rows[order]])
        out, seen = [], set()
        for pair in zip(*[list(x) + [None] * (n - len(x)) for x in lists]):
            for s in pair:
                if s is not None and s not in seen:
                    seen.add(int(s))
                    out.append(int(s))
        return np.asarray(out[:n], dtype=np.int64)

    def to_frame(self):
        """The S matrix as a DataFrame (rows: class, columns: neighbour class)."""
        import pandas as pd

        names = [str(c) for c in self.classes]
        return pd.DataFrame(self.similarity, index=pd.Index(names, name="class"), columns=names)

    def __repr__(self) -> str:
        M = "all" if self.M is None else self.M
        return (
            f"CSGReport(score={self.score:.6g}, n_classes={self.n_classes}, n_samples={self.n_samples}, "
            f"k={self.k}, M={M}, embedding={self.embedding!r}, n_features={self.n_features})"
        )

    def _make_widget(self):
        from ..views.csg import CSGWidget

        return CSGWidget(self)

    def figure(self, *, figsize=(13, 4.2), max_points: int = 50_000, cmap: str = "viridis", **style):
        """Scatter of the 2-D embedding, the S heatmap and the eigenvalue spectrum (matplotlib)."""
        from ..views.csg import csg_figure

        return csg_figure(self, figsize=figsize, max_points=max_points, cmap=cmap, **style)


# --------------------------------------------------------------------------------------------
# spectral part (shared by both modes)
# --------------------------------------------------------------------------------------------
def bray_curtis_similarity(S: np.ndarray) -> np.ndarray:
    """``W[i, j] = 1 - sum|S_i - S_j| / sum|S_i + S_j|`` (NaN where both rows are zero)."""
    S = np.asarray(S, dtype=np.float64)
    num = np.abs(S[:, None, :] - S[None, :, :]).sum(-1)
    den = np.abs(S[:, None, :] + S[None, :, :]).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - num / den


def spectral_gaps(eigenvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Gaps ``(λ_{i+1} - λ_i) / (K - i)``, their running maximum and its sum (the CSG)."""
    ev = np.asarray(eigenvalues, dtype=np.float64)
    K = ev.shape[0]
    gaps = (ev[1:] - ev[:-1]) / (K - np.arange(K - 1))
    cummax = np.maximum.accumulate(gaps) if gaps.size else gaps
    return gaps, cummax, float(cummax.sum())


def _spectrum(S: np.ndarray):
    from scipy.sparse.csgraph import laplacian

    W = bray_curtis_similarity(S)
    K = W.shape[0]
    L = laplacian(W, normed=False)
    if np.isfinite(L).all():
        evals, evecs = np.linalg.eigh(L)
        order = _spectral_order(evals, evecs)
    else:  # only reachable in reference-compatible mode (empty or overflowed rows)
        evals = np.full(K, np.nan)
        order = np.arange(K)
    gaps, cummax, score = spectral_gaps(evals)
    return W, L, evals, gaps, cummax, score, order


def _spectral_order(evals: np.ndarray, evecs: np.ndarray) -> np.ndarray:
    """Seriation by the Fiedler vector: overlapping classes get neighbouring positions."""
    K = evals.shape[0]
    if K <= 2:
        return np.arange(K)
    fiedler = evecs[:, 1]
    # the sign of an eigenvector is arbitrary; fix it so the order is reproducible
    if fiedler[np.argmax(np.abs(fiedler))] < 0:
        fiedler = -fiedler
    return np.lexsort((np.arange(K), np.round(fiedler, 12)))


# --------------------------------------------------------------------------------------------
# nearest neighbours
# --------------------------------------------------------------------------------------------
class _CallbackProgress:
    def __init__(self, fn, total):
        self.fn, self.total, self.done = fn, total, 0
        fn(0, total)

    def update(self, n):
        self.done += n
        self.fn(self.done, self.total)

    def close(self):
        pass


def _progress(total: int, enabled, desc: str):
    if callable(enabled):
        return _CallbackProgress(enabled, total)
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="pts", leave=False)


def _exact_rerank(F: np.ndarray, queries: np.ndarray, cand: np.ndarray, k: int, return_distance=False, only=None):
    """Exact float64 distances to the candidates; keep k + 1, nearest first, ties by index.

    ``only`` (a boolean mask like ``cand``) limits the exact distances to those candidates; the
    others count as infinitely far.
    """
    if only is None:
        diff = np.asarray(F[cand], dtype=np.float64) - np.asarray(F[queries], dtype=np.float64)[:, None, :]
        d2 = np.einsum("bmd,bmd->bm", diff, diff)
    else:
        rows, cols = np.nonzero(only)
        diff = np.asarray(F[cand[rows, cols]], dtype=np.float64) - np.asarray(F[queries[rows]], dtype=np.float64)
        d2 = np.full(cand.shape, np.inf)
        d2[rows, cols] = np.einsum("ij,ij->i", diff, diff)
    # lexsort works along the last axis, the last key primary: distance, then index
    order = np.lexsort((cand, d2))[:, : k + 1]
    idx = np.take_along_axis(cand, order, axis=1)
    if return_distance:
        return idx, np.take_along_axis(d2, order, axis=1)
    return idx


def _knn_kdtree(F, queries, k, progress):
    from sklearn.neighbors import KDTree

    n = F.shape[0]
    m = min(n, k + 1 + _EXTRA_CANDIDATES)
    tree = KDTree(F)
    out = np.empty((queries.size, k + 1), dtype=np.int64)
    step = 4096
    bar = _progress(queries.size, progress, "CSG neighbours")
    try:
        for s in range(0, queries.size, step):
            q = queries[s : s + step]
            cand = tree.query(F[q], k=m, return_distance=False, sort_results=False)
            out[s : s + step] = _exact_rerank(F, q, cand.astype(np.int64), k)
            if bar is not None:
                bar.update(q.size)
    finally:
        if bar is not None:
            bar.close()
    return out


class _Groups:
    """The samples permuted into class order and centred, with each class's bounding ball.

    One contiguous copy: every class is a slice, so BLAS reads it without a gather.
    Centring shrinks the norms, and with them the rounding error of ``|a|² + |b|² - 2ab``.
    """

    def __init__(self, F: np.ndarray, codes: np.ndarray, K: int, dtype=np.float64):
        self.order = np.argsort(codes, kind="stable")
        self.position = np.empty_like(self.order)
        self.position[self.order] = np.arange(self.order.size)
        bounds = np.searchsorted(codes[self.order], np.arange(K + 1))
        self.slices = [(int(bounds[c]), int(bounds[c + 1])) for c in range(K) if bounds[c + 1] > bounds[c]]
        mean = F.mean(0)
        self.F = np.empty(F.shape, dtype=dtype)
        self.sqnorm = np.empty(F.shape[0])
        step = 128  # rows that stay in cache from the gather through the norms to the cast
        for s in range(0, F.shape[0], step):
            chunk = np.asarray(F[self.order[s : s + step]], dtype=np.float64)  # a fresh copy
            chunk -= mean  # float64: exact norms before any cast
            self.sqnorm[s : s + step] = np.einsum("ij,ij->i", chunk, chunk)
            self.F[s : s + step] = chunk
        self.sqnorm_work = self.sqnorm.astype(dtype)
        # any point serves as a class's centre (its radius is measured from that point), so a
        # BLAS product in the working precision is enough
        self.centres = np.stack([
            (np.ones(hi - lo, dtype=dtype) @ self.F[lo:hi]).astype(np.float64) / (hi - lo) for lo, hi in self.slices
        ])
        # |x - c|² = |x|² - 2 x·c + |c|², a matrix-vector product per class
        r2 = np.array([
            (self.sqnorm[lo:hi] - 2.0 * (self.F[lo:hi] @ c.astype(dtype)) + c @ c).max()
            for (lo, hi), c in zip(self.slices, self.centres)
        ])
        # slack against the rounding of that identity (and of the float32 copy, if any)
        u = float(np.finfo(dtype).eps)
        xmax = np.array([np.sqrt(self.sqnorm[lo:hi].max()) for lo, hi in self.slices])
        cn = np.sqrt((self.centres**2).sum(1))
        slack = 4 * u * np.sqrt(F.shape[1] + 1.0) * (xmax + cn) ** 2
        self.radii = np.sqrt(np.maximum(r2, 0.0) + slack) * (1 + 1e-7) + 1e-9
        self.group_of = np.repeat(np.arange(len(self.slices)), [hi - lo for lo, hi in self.slices])
        self.max_norm = float(np.sqrt(self.sqnorm.max()))


def _runs(slices, reach, max_cols):
    """Column ranges covering the reachable classes: adjacent slices merged, at most max_cols."""
    run = None
    for g in np.flatnonzero(reach):
        lo, hi = slices[g]
        if run is not None and run[1] == lo and hi - run[0] <= max_cols:
            run[1] = hi
            continue
        if run is not None:
            yield tuple(run)
        run = [lo, hi]
    if run is not None:
        yield tuple(run)


def _merge_below(d2, lo, best_d, best_i, m):
    """Merge only the entries below each row's current m-th distance (usually very few).

    A comparison per entry instead of a selection per row: ~10× cheaper than argpartition
    once the own class has set the bound.
    """
    rows, cols = np.nonzero(d2 < best_d[:, -1:])
    if rows.size == 0:
        return best_d, best_i
    b = best_d.shape[0]
    all_r = np.concatenate([np.repeat(np.arange(b), m), rows])
    all_d = np.concatenate([best_d.ravel(), d2[rows, cols]])
    all_i = np.concatenate([best_i.ravel(), cols + lo])
    order = np.lexsort((all_d, all_r))
    sorted_r = all_r[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_r, np.arange(b))[sorted_r]
    keep = order[rank < m]  # every row holds at least its m current entries
    return all_d[keep].reshape(b, m), all_i[keep].reshape(b, m)


def _merge_block(Qm2, qp, qsq, Fs, groups, lo, hi, best_d, best_i, m, device, torch_state):
    """Merge the candidates among columns lo:hi into the running m best of each query.

    ``Qm2`` is the block of queries times -2 (exact in floating point, and one pass less over
    the distance block than scaling the product).
    """
    if torch_state is not None:
        import torch

        torch_F, torch_sq = torch_state
        qt = torch.as_tensor(qp, device=torch_F.device)
        d2t = torch_F[qt] @ torch_F[lo:hi].T
        d2t.mul_(-2.0).add_(torch_sq[lo:hi][None, :]).add_(torch_sq[qt][:, None])
        vals, idx = torch.topk(d2t, min(m, hi - lo), dim=1, largest=False)
        d2 = vals.cpu().numpy()
        cols = idx.cpu().numpy() + lo
    else:
        d2 = Qm2 @ Fs[lo:hi].T
        d2 += groups.sqnorm_work[lo:hi][None, :]
        d2 += qsq[:, None]
        if np.isfinite(best_d[:, -1]).all():
            return _merge_below(d2, lo, best_d, best_i, m)
        if d2.shape[1] > m:
            part = np.argpartition(d2, m - 1, axis=1)[:, :m]
            d2 = np.take_along_axis(d2, part, axis=1)
            cols = part + lo
        else:
            cols = np.broadcast_to(np.arange(lo, hi), d2.shape)
    cat_d = np.concatenate([best_d, d2], axis=1)
    cat_i = np.concatenate([best_i, cols], axis=1)
    srt = np.argsort(cat_d, axis=1, kind="stable")[:, :m]
    return np.take_along_axis(cat_d, srt, axis=1), np.take_along_axis(cat_i, srt, axis=1)


def _knn_exact_fallback(F, queries, k):
    """Float64 brute force for the few queries the float32 pass could not certify."""
    n = F.shape[0]
    m = min(n, k + 1 + _EXTRA_CANDIDATES)
    mean = F.mean(0)
    out = np.empty((queries.size, k + 1), dtype=np.int64)
    for s in range(0, queries.size, 64):
        q = queries[s : s + 64]
        Q = F[q] - mean
        d2 = np.empty((q.size, n))
        for c in range(0, n, 8192):
            X = F[c : c + 8192] - mean
            d2[:, c : c + 8192] = np.einsum("ij,ij->i", X, X)[None, :] - 2.0 * (Q @ X.T)
        cand = np.argpartition(d2, m - 1, axis=1)[:, :m] if n > m else np.broadcast_to(np.arange(n), (q.size, n))
        out[s : s + 64] = _exact_rerank(F, q, np.ascontiguousarray(cand), k)
    return out


def _knn_blockwise(F, codes, K, queries, k, progress, device=None):
    """Exact kNN with BLAS blocks and class-ball pruning (queries are grouped by class).

    For a block of queries of one class, distances to that class come first; they bound each
    query's k-th neighbour distance, and every other class whose ball lies beyond that bound
    for all queries of the block is skipped. Returns original indices, (m, k + 1).
    """
    n, d = F.shape
    # high dimensions: float32 products (half the time and memory) with a proven error bound;
    # every answer is checked against that bound and recomputed in float64 where it fails
    f32 = device is None and d >= _F32_MIN_DIM
    groups = _Groups(F, codes, K, dtype=np.float32 if f32 else np.float64)
    Fs = groups.F
    m = min(n, k + 1 + (_EXTRA_CANDIDATES_F32 if f32 else _EXTRA_CANDIDATES))
    largest = max(hi - lo for lo, hi in groups.slices)
    block = int(max(16, min(2048, _BLOCK_BYTES // (8 * max(largest, 1)))))
    out = np.empty((queries.size, k + 1), dtype=np.int64)
    qpos = groups.position[queries]
    qgroup = groups.group_of[qpos]
    max_cols = max(largest, _BLOCK_BYTES // (8 * block))
    torch_state = None
    if device is not None:
        import torch

        torch_state = (torch.as_tensor(Fs, device=device), torch.as_tensor(groups.sqnorm, device=device))
    bar = _progress(queries.size, progress, "CSG neighbours")
    try:
        s = 0
        while s < queries.size:
            g0 = qgroup[s]
            e = s + 1
            while e < queries.size and e - s < block and qgroup[e] == g0:
                e += 1
            qp = qpos[s:e]
            Qm2 = Fs[qp] * -2.0
            qsq = groups.sqnorm[qp]
            if f32:
                # |fl(|q|² + |x|² - 2 q·x) - d²| <= (2d + 16) u (|q| + |x|)² for any summation
                # order (Higham's bound for dot products, plus the roundings around it)
                err = (2 * d + 16) * _U32 * (np.sqrt(qsq) + groups.max_norm) ** 2
            else:
                err = 0.0
            dc2 = qsq[:, None] + Qm2 @ groups.centres.T + np.einsum("ij,ij->i", groups.centres, groups.centres)
            lower = np.maximum(np.sqrt(np.maximum(dc2, 0.0)) * (1 - 1e-7) - groups.radii[None], 0.0)
            lower2 = lower * lower
            best_d = np.full((qp.size, m), np.inf)
            best_i = np.zeros((qp.size, m), dtype=np.int64)
            # the own class first; then the classes still in reach, whose slices are merged
            # into runs of adjacent columns so that overlapping classes cost few large products
            # instead of many small ones (the bound only shrinks, so "in reach" is conservative)
            lo0, hi0 = groups.slices[g0]
            best_d, best_i = _merge_block(Qm2, qp, qsq, Fs, groups, lo0, hi0, best_d, best_i, m, device, torch_state)
            thresh = best_d[:, -1] * (1 + 1e-6) + 1e-9 + err  # slack: these are not exact
            reach = (lower2 <= thresh[:, None]).any(0)
            reach[g0] = False
            for lo, hi in _runs(groups.slices, reach, max_cols):
                best_d, best_i = _merge_block(Qm2, qp, qsq, Fs, groups, lo, hi, best_d, best_i, m, device, torch_state)
            # exact float64 distances in the original coordinates, ties by original index
            q = groups.order[qp]
            near = None
            if f32:
                # the k + 1 nearest lie within 2·err of the (k+1)-th float32 distance: only
                # those candidates need exact distances (usually a few of the m)
                near = best_d <= (best_d[:, k] + 2 * err)[:, None]
            idx, dist = _exact_rerank(F, q, groups.order[best_i], k, return_distance=True, only=near)
            if f32:
                # no unseen sample can be nearer than the (k+1)-th found unless its float32
                # distance was within the error bound of the m-th candidate's
                doubt = (dist[:, -1] >= best_d[:, -1] - err) & (m < n)
                if doubt.any():
                    idx[doubt] = _knn_exact_fallback(F, q[doubt], k)
            out[s:e] = idx
            if bar is not None:
                bar.update(qp.size)
            s = e
    finally:
        if bar is not None:
            bar.close()
    return out


def _neighbours(F, codes, K, queries, k, device, progress, drop_first=False):
    """k nearest neighbours (self excluded) of ``queries`` among all rows of ``F``.

    ``drop_first`` reproduces the reference instead: of the k + 1 nearest, sorted by distance
    and then index, the first is dropped, which at duplicate points may be another sample.
    """
    n, d = F.shape
    if k >= n:
        raise ValueError(f"k: must be smaller than the number of samples ({n}), got {k}")
    if device is None and d <= _KDTREE_MAX_DIM:
        knn = _knn_kdtree(F, queries, k, progress)
    else:
        from threadpoolctl import threadpool_limits

        # small products: BLAS threads cost more to wake than they save (measured 20-40×
        # slower with 2 threads on a busy 2-core machine), so they run on one thread
        counts = np.bincount(codes, minlength=K)
        per_query = np.bincount(codes[queries], minlength=K)
        product = float((np.minimum(per_query, 2048) * counts).max()) * d
        limit = 1 if product < 1e8 else None
        with threadpool_limits(limits=limit, user_api="blas"):
            knn = _knn_blockwise(F, codes, K, queries, k, progress, device=device)
    if drop_first:
        return np.ascontiguousarray(knn[:, 1:])
    # drop the sample itself; with duplicates it may be missing from the k + 1 (then drop the
    # farthest), exactly as scikit-learn's kneighbors does for its training points
    is_self = knn == queries[:, None]
    missing = ~is_self.any(1)
    is_self[missing, -1] = True
    return knn[~is_self].reshape(queries.size, k)


# --------------------------------------------------------------------------------------------
# embeddings, cached
# --------------------------------------------------------------------------------------------
_CACHE: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_CACHE_SIZE = 8


def clear_cache() -> None:
    """Forget every cached embedding."""
    _CACHE.clear()


def _fingerprint(arr: np.ndarray) -> tuple:
    """Identity of the data: its buffer address, layout, and a checksum of up to 65,536 values.

    The address rather than ``id()``: every call wraps the user's array in a new read-only view
    of the same buffer. A sample rather than the whole buffer, so a cache hit costs
    microseconds even at 50,000 × 784; an in-place edit of sampled values changes the key.
    """
    flat = arr.reshape(-1)
    step = max(1, flat.size // 65536)
    sample = np.ascontiguousarray(flat[::step])
    address = arr.__array_interface__["data"][0]
    return (address, arr.shape, arr.strides, arr.dtype.str, zlib.crc32(sample.tobytes()),
            float(np.sum(sample, dtype=np.float64)))


def _cached(key, compute):
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = readonly(np.ascontiguousarray(compute(), dtype=np.float64))
    # stored only once fully computed: an interrupt leaves the cache as it was
    _CACHE[key] = value
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def _umap(flat, n_components, seed, **kw):
    import sys

    sys.modules.setdefault("umap.parametric_umap", None)
    import umap

    n_neighbors = min(kw.pop("n_neighbors", 15), flat.shape[0] - 1)
    if seed is not None:
        kw.setdefault("n_jobs", 1)  # a seeded UMAP is single-threaded anyway; say so, no warning
    return umap.UMAP(n_components=n_components, random_state=seed, n_neighbors=n_neighbors, **kw).fit_transform(flat)


def _tsne(flat, n_components, seed, **kw):
    from sklearn.manifold import TSNE

    perplexity = min(kw.pop("perplexity", 30.0), (flat.shape[0] - 1) / 3)
    return TSNE(n_components=n_components, random_state=seed, init="pca", perplexity=perplexity, **kw).fit_transform(flat)


def _pca(flat, n_components, seed, **kw):
    from sklearn.decomposition import PCA

    n_components = min(n_components, flat.shape[0], flat.shape[1])
    solver = "randomized" if n_components < min(flat.shape) // 2 else "full"
    return PCA(n_components=n_components, random_state=seed, svd_solver=solver, **kw).fit_transform(flat)


_METHODS = {"pca": _pca, "umap": _umap, "tsne": _tsne}
_DEFAULT_COMPONENTS = {"pca": 50, "umap": 2, "tsne": 2}


def embed(X, embedding="raw", *, n_components=None, seed=0, **kwargs) -> np.ndarray:
    """Embed samples for CSG: flattened raw values, PCA, UMAP, t-SNE, a callable or an array.

    Results are cached on the identity of ``X`` and the parameters, so recomputing CSG with
    another ``k`` or ``M`` reuses them. Returns a read-only float64 array of shape (n, d').
    """
    return _embed(check_array(X, "X", min_ndim=1), X, embedding, n_components=n_components, seed=seed, **kwargs)


def _embed(arr, X, embedding, *, n_components, seed, **kwargs) -> np.ndarray:
    """``embed`` on ``arr``, ``X`` as checked by ``check_array`` (a callable receives ``X``)."""
    n = arr.shape[0]
    flat = arr.reshape(n, -1)
    seed_key = seed if isinstance(seed, (numbers.Integral, type(None))) else id(seed)
    if isinstance(embedding, str):
        check_choice(embedding, "embedding", EMBEDDINGS)
        if embedding == "raw":
            return readonly(np.asarray(flat, dtype=np.float64))
        nc = _DEFAULT_COMPONENTS[embedding] if n_components is None else check_positive_int(n_components, "n_components")
        if isinstance(seed, np.random.Generator):
            raise TypeError("seed: embeddings need an int seed (umap and sklearn take ints)")
        key = (_fingerprint(arr), embedding, nc, seed_key, tuple(sorted(kwargs.items())))
        return _cached(key, lambda: _METHODS[embedding](np.asarray(flat, dtype=np.float64), nc, seed, **kwargs))
    if isinstance(embedding, tuple) and len(embedding) == 2 and isinstance(embedding[1], str):
        # (model, layer): the layer's activations through the model adapter (torch or Keras)
        model, layer = embedding
        # in-place training steps bump torch parameters' version counters: stale features are never reused
        version = sum(int(getattr(p, "_version", 0)) for p in getattr(model, "parameters", lambda: [])())
        key = (_fingerprint(arr), "layer", model, layer, version)

        def run_layer():
            from ..adapters import as_model

            acts = as_model(model, input_shape=arr.shape[1:]).activations(np.asarray(arr), layer)
            return acts.reshape(n, -1)

        return _cached(key, run_layer)
    if callable(embedding):
        # the callable itself, not its id: the key keeps it alive, so an id is never reused
        key = (_fingerprint(arr), "callable", embedding, tuple(sorted(kwargs.items())))

        def run():
            out = embedding(X, **kwargs)
            if hasattr(out, "detach"):
                out = out.detach().cpu().numpy()
            out = check_array(out, "embedding(X)", min_ndim=1)
            if out.shape[0] != n:
                raise ValueError(f"embedding(X): returned {out.shape[0]} rows for {n} samples")
            return out.reshape(n, -1)

        return _cached(key, run)
    feats = check_array(embedding, "embedding", min_ndim=1)
    if feats.shape[0] != n:
        raise ValueError(f"embedding: has {feats.shape[0]} rows but X has {n} samples")
    return readonly(np.asarray(feats.reshape(n, -1), dtype=np.float64))


def _pca2(features: np.ndarray, max_fit: int = 10_000) -> np.ndarray:
    """2-D PCA through the d×d covariance of at most ``max_fit`` evenly spaced samples.

    Only for display: the axes from 10,000 samples are as good as from all, at a fraction of
    the cost (the covariance is n·d² flops), and no random numbers are needed.
    """
    n = features.shape[0]
    fit = features[:: max(1, -(-n // max_fit))]
    mean = fit.mean(0)
    block = fit - mean
    cov = block.T @ block
    _, vecs = np.linalg.eigh(cov)
    top = vecs[:, ::-1][:, :2]
    top = top * np.sign(top[np.abs(top).argmax(0), [0, 1]])  # reproducible signs
    return (features - mean) @ top


def _check_display(display, n):
    if isinstance(display, str):
        return check_choice(display, "display", DISPLAYS)
    coords = check_array(display, "display", min_ndim=2)
    if coords.shape != (n, 2):
        raise ValueError(f"display: expected shape ({n}, 2), got {coords.shape}")
    return coords


def _display_coords(features, display, seed):
    if isinstance(display, str):
        if display == "auto":
            if features.shape[1] == 2:
                return features.astype(np.float32)
            if features.shape[1] == 1:
                return np.column_stack([features[:, 0], np.zeros(features.shape[0])]).astype(np.float32)
            display = "pca"
        if display == "pca":
            compute = lambda: _pca2(features)  # noqa: E731
        else:
            compute = lambda: _METHODS[display](np.asarray(features), 2, seed)  # noqa: E731
        return _cached((_fingerprint(features), "display", display, seed), compute).astype(np.float32)
    return np.asarray(display, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# the measure
# --------------------------------------------------------------------------------------------
def _check_M(M, reference_compatible):
    if M is None or (isinstance(M, str) and M == "all"):
        return None
    if isinstance(M, bool):
        raise TypeError("M: expected an int (samples per class) or None for all")
    if reference_compatible and isinstance(M, numbers.Real):
        if M <= 0:
            raise ValueError(f"M: must be positive, got {M}")
        return M
    if isinstance(M, numbers.Real) and not isinstance(M, numbers.Integral):
        raise TypeError(
            f"M: is the number of samples per class; got the float {M!r}. For a fraction of each "
            "class, pass reference_compatible=True (the reference's convention)."
        )
    return check_positive_int(M, "M")


def _draw(codes, K, M, rng, reference_compatible, seed):
    """Sample indices per class, grouped by class."""
    index, cls = [], []
    if reference_compatible:
        # the reference's find_samples, with the seed it never receives
        rs = np.random.RandomState(seed if isinstance(seed, numbers.Integral) else None)
        all_idx = np.arange(codes.size)
        for c in np.unique(codes):
            members = rs.permutation(all_idx[codes == c])
            take = min(M if M > 1 else int(M * len(members)), len(members)) if M is not None else len(members)
            index.append(members[:take])
            cls.append(np.full(take, c))
    else:
        for c in range(K):
            members = np.flatnonzero(codes == c)
            if M is not None and M < members.size:
                members = np.sort(rng.choice(members, M, replace=False))
            index.append(members)
            cls.append(np.full(members.size, c))
    return np.concatenate(index).astype(np.int64), np.concatenate(cls).astype(np.int64)


def _parzen(F, queries, neighbours, codes, K, k, reference_compatible, block=1024):
    """Neighbour posteriors and log box volumes, blockwise so memory stays O(block·k·d)."""
    m = queries.size
    post = np.zeros((m, K))
    logvol = np.empty(m)
    vol = np.empty(m) if reference_compatible else None
    rows = np.arange(m)
    np.add.at(post, (np.repeat(rows, k), codes[neighbours].reshape(-1)), 1.0 / k)
    for s in range(0, m, block):
        q = queries[s : s + block]
        Q = F[q]
        # one neighbour at a time: a max over a middle axis of (b, k, d) is ~10× slower
        half = np.abs(F[neighbours[s : s + block, 0]] - Q)
        for j in range(1, k):
            np.maximum(half, np.abs(F[neighbours[s : s + block, j]] - Q), out=half)
        if reference_compatible:
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                v = np.prod(2.0 * half, axis=1)
            # max(1e-4, v) in Python keeps 1e-4 for NaN (inf * 0), as does this comparison
            vol[s : s + block] = np.where(v > VOLUME_FLOOR, v, VOLUME_FLOOR)
        with np.errstate(divide="ignore"):
            lv = np.log(2.0 * half).sum(1)
        logvol[s : s + block] = np.maximum(lv, _LOG_VOLUME_FLOOR)
    return post, logvol, vol


def csg(
    X,
    y,
    k: int = 3,
    M: int | None = 100,
    embedding: str | np.ndarray | Callable = "raw",
    seed=0,
    *,
    n_components: int | None = None,
    display="auto",
    reference_compatible: bool = False,
    device: str | None = None,
    progress: bool | Callable | None = None,
    classes=None,
    sample_rate: int | None = None,
    embedding_kwargs: dict | None = None,
) -> CSGReport:
    """Cumulative Spectral Gradient: how much the classes of a dataset overlap.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Samples (images, waveforms, feature rows); flattened for the "raw" embedding.
    y : array-like, shape (n,)
        Class labels, any hashable values.
    k : int
        Neighbours per sample for the class posteriors (the paper's Table 1 uses 2).
    M : int or None
        Samples drawn per class; a class with at most ``M`` samples uses all of them. ``None``
        uses every sample (deterministic).
    embedding : {"raw", "pca", "umap", "tsne"}, (model, layer), ndarray (n, d') or callable
        The space the neighbours are searched in. ``(model, "layer")`` uses that layer's
        activations of a torch or Keras model (the learned features the paper recommends); a
        callable receives ``X`` and returns features. Embeddings are cached, so changing ``k``
        or ``M`` does not recompute them (a torch model trained in place since is re-run).
    seed : int, Generator or None
        Seeds the per-class sampling and the stochastic embeddings; global state is untouched.
    n_components : int, optional
        Dimension of "pca" (default 50), "umap" and "tsne" (default 2) embeddings.
    display : {"auto", "pca", "umap", "tsne"} or ndarray (n, 2)
        2-D coordinates for the viewer's scatter; "auto" uses 2-D features as they are and PCA
        of the features otherwise.
    reference_compatible : bool
        Reproduce ``spectral_metric.CumulativeGradientEstimator`` exactly, faults included (see
        Notes). Used by the equality tests.
    device : str, optional
        "cuda" runs the distance blocks through torch on the GPU (when one is present); the
        default runs on the CPU with numpy, and torch is never needed.
    progress : bool or callable, optional
        Show a tqdm progress bar; by default only for searches of more than ~10^10 operations.
        A callable is called as ``progress(done, total)`` instead (the viewer's progress bar).
    classes : sequence, optional
        All class labels, in order (labels are then members of, or indices into, it).
    sample_rate : int, optional
        Marks ``X`` as audio at this rate: the viewer's gallery then plays samples.
    embedding_kwargs : dict, optional
        Passed to the embedding (UMAP, TSNE, PCA or the callable).

    Returns
    -------
    CSGReport

    Notes
    -----
    With ``M`` at least every class size the result is deterministic and equals the reference
    ``spectral-metric`` (0.6) to rounding wherever the reference is finite. Differences by
    default, all fixed faults of the reference:

    - Box volumes are summed in log space. The reference multiplies ``d`` side lengths in
      float64, which overflows to inf for d ≈ 784 (every weight becomes 0 and CSG is NaN) and
      can underflow mid-product. Only the per-class normalisation of S uses the weights, so a
      shift in log space changes nothing where the reference is finite.
    - Labels are encoded to the classes present. The reference makes ``max(y) + 1`` classes, so
      labels with gaps produce all-zero rows of S and a NaN score; negative labels break it.
    - ``M`` is a number of samples. The reference reads ``M <= 1`` as a fraction (so ``M=1``
      means all samples, not one).
    - The sampling is seeded; the reference reseeds from the OS on every call.
    - The neighbour that is dropped is the sample itself. The reference drops the first of the
      ``k + 1`` nearest (ties in index order), which at a duplicated point may be the other
      copy, so the sample counts itself as its own neighbour. The Spiral set of Table 1 has one
      such point, (0, 0) in both classes: the reference (and the paper) give 0.431, the
      self-excluding default 0.529.
    - The score is a float (the reference returns a one-element array).

    ``reference_compatible=True`` restores the reference's labels (non-negative ints, ``max + 1``
    classes), ``M`` convention, float64 volume products, sampling (``np.random.RandomState(seed)``
    permutations, as its ``find_samples(seed=...)``) and NaN results.
    """
    k = check_positive_int(k, "k")
    reference_compatible = bool(reference_compatible)
    M = _check_M(M, reference_compatible)
    if device is not None:
        check_choice(device, "device", ("cpu", "cuda"))
        if device == "cpu":
            device = None
        else:
            import torch

            if not torch.cuda.is_available():
                raise ValueError("device: 'cuda' was asked for but torch sees no CUDA device")
    arr = check_array(X, "X", min_ndim=1)
    n = arr.shape[0]
    if reference_compatible:
        if classes is not None:
            raise ValueError("classes: not supported with reference_compatible=True")
        lab = np.asarray(y)
        if lab.ndim != 1 or lab.shape[0] != n:
            raise ValueError(f"y: expected {n} labels, got shape {lab.shape}")
        if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0:
            raise ValueError("y: reference_compatible=True needs non-negative integer labels")
        codes = readonly(lab.astype(np.int64))
        K = int(codes.max()) + 1
        class_names = list(range(K))
    else:
        codes, class_names = encode_labels(y, "y", n_samples=n, classes=classes)
        K = len(class_names)
    if sample_rate is not None:
        sample_rate = check_positive_int(sample_rate, "sample_rate")
    rng = check_seed(seed)
    display = _check_display(display, n)

    features = _embed(arr, arr, embedding, n_components=n_components, seed=seed, **(embedding_kwargs or {}))
    if features.shape[1] == 0:
        raise ValueError("X: has no features")
    if k >= n:
        raise ValueError(f"k: must be smaller than the number of samples ({n}), got {k}")
    if isinstance(embedding, str):
        emb_name = embedding
    elif isinstance(embedding, tuple):
        emb_name = f"activations of {embedding[1]!r}"
    else:
        emb_name = "callable" if callable(embedding) else "array"

    queries, qclass = _draw(np.asarray(codes), K, M, rng, reference_compatible, seed)
    if progress is None:
        progress = queries.size * n * features.shape[1] > 1e10
    neighbours = _neighbours(
        features, np.asarray(codes), K, queries, k, device, progress, drop_first=reference_compatible
    )
    post, logvol, vol = _parzen(features, queries, neighbours, np.asarray(codes), K, k, reference_compatible)

    S = np.zeros((K, K))
    bounds = np.searchsorted(qclass, np.arange(K + 1))
    for c in range(K):
        lo, hi = bounds[c], bounds[c + 1]
        if lo == hi:
            continue
        if reference_compatible:
            row = (post[lo:hi] / vol[lo:hi, None]).sum(0)
            with np.errstate(invalid="ignore", divide="ignore"):
                S[c] = row / row.sum()
        else:
            w = np.exp(-(logvol[lo:hi] - logvol[lo:hi].min()))
            row = w @ post[lo:hi]
            S[c] = row / row.sum()
    S[~np.isfinite(S)] = 0.0

    W, L, evals, gaps, cummax, score, order = _spectrum(S)
    return CSGReport(
        score=score,
        similarity=S,
        W=W,
        laplacian=L,
        eigenvalues=evals,
        gaps=gaps,
        cumulative_max=cummax,
        classes=class_names,
        class_counts=np.bincount(codes, minlength=K),
        class_order=order,
        sample_index=queries,
        sample_class=qclass,
        posteriors=post,
        log_volume=logvol,
        neighbors=neighbours,
        y=np.asarray(codes),
        k=k,
        M=M,
        embedding=emb_name,
        n_features=int(features.shape[1]),
        seed=seed,
        reference_compatible=reference_compatible,
        features=features,
        data=arr,
        sample_rate=sample_rate,
        display=display,
    )
