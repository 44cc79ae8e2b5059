"""Input checks shared by every analysis.

Every public function validates what the user passed before any work starts, and raises a
``ValueError`` or ``TypeError`` whose message names the argument and says what was expected.
Nothing here modifies its input: arrays are returned as read-only views or fresh copies.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np


def readonly(array: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``array`` so that no analysis can write into user memory."""
    view = array.view()
    view.flags.writeable = False
    return view


def check_array(
    X: Any,
    name: str = "X",
    *,
    min_ndim: int = 1,
    allow_empty: bool = False,
    finite: bool = True,
    dtype: Any = None,
) -> np.ndarray:
    """Return ``X`` as a numeric numpy array (a read-only view where no copy was needed).

    Raises
    ------
    TypeError
        If ``X`` cannot be read as a numeric array.
    ValueError
        If ``X`` is empty, has fewer than ``min_ndim`` dimensions, or holds NaN or Inf.
    """
    if X is None:
        raise TypeError(f"{name}: expected an array, got None")
    try:
        arr = np.asarray(X) if dtype is None else np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: could not be read as a numeric array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numeric values, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name}: expected at least {min_ndim} dimension(s), got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name}: is empty (shape {arr.shape})")
    # a finite sum proves every value finite (NaN and Inf propagate) in one cheap pass;
    # only a non-finite sum (a bad value, or an overflow of large ones) needs the full check
    if finite and np.issubdtype(arr.dtype, np.inexact) and not _sum_is_finite(arr):
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(bad.sum()) - n_nan
            where = np.argwhere(bad)[0]
            raise ValueError(
                f"{name}: contains {n_nan} NaN and {n_inf} Inf value(s); first at index "
                f"{tuple(int(i) for i in where)}. Clean or impute the data first."
            )
    return readonly(arr)


def _sum_is_finite(arr: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(arr)))


def _unique_in_order(values: Sequence[Any]) -> list:
    seen: dict = {}
    for v in values:
        if v not in seen:
            seen[v] = len(seen)
    return list(seen)


def encode_labels(
    labels: Any,
    name: str = "y",
    *,
    n_samples: int | None = None,
    classes: Sequence[Any] | None = None,
    min_classes: int = 2,
) -> tuple[np.ndarray, list]:
    """Turn user labels into integer codes ``0..K-1`` and the list of classes.

    Labels may be any hashable values (ints, strings, ...); the classes are kept as the user gave
    them, sorted where they sort and in order of first appearance otherwise. When ``classes`` is
    given, labels must be integer indices into it (as in scikit-learn bunches) or members of it.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
    classes : list
    """
    if labels is None:
        raise TypeError(f"{name}: expected class labels, got None")
    if hasattr(labels, "numpy") and not isinstance(labels, np.ndarray):  # torch / tf tensors
        labels = labels.numpy() if not hasattr(labels, "detach") else labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.dtype.kind in "US" and isinstance(labels, (list, tuple)) and not all(isinstance(v, str) for v in labels):
        # numpy would turn [1, "a"] into ["1", "a"]: keep the labels as the user gave them
        arr = np.empty(len(labels), dtype=object)
        arr[:] = list(labels)
    if arr.ndim != 1:
        hint = ""
        if arr.ndim == 2 and arr.shape[1] > 1:
            hint = f" (one-hot labels? pass {name}.argmax(axis=1))"
        elif arr.ndim == 2 and arr.shape[1] == 1:
            hint = f" (pass {name}.ravel())"
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {arr.shape}{hint}")
    if arr.size == 0:
        raise ValueError(f"{name}: is empty")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{name}: has {arr.shape[0]} labels but the data has {n_samples} samples; "
            "they must have the same length"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name}: contains NaN or Inf; labels must be class values")
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name}: has non-integer float values; expected class labels")

    if classes is not None:
        classes = list(classes)
        if np.issubdtype(arr.dtype, np.integer) and not any(isinstance(c, numbers.Integral) for c in classes):
            codes = arr.astype(np.int64)
            if codes.min() < 0 or codes.max() >= len(classes):
                raise ValueError(
                    f"{name}: integer labels must index the {len(classes)} classes "
                    f"(0..{len(classes) - 1}); got values {codes.min()}..{codes.max()}"
                )
        else:
            lookup = {c: i for i, c in enumerate(classes)}
            try:
                codes = np.fromiter((lookup[v] for v in arr.tolist()), dtype=np.int64, count=arr.size)
            except KeyError as exc:
                raise ValueError(f"{name}: label {exc.args[0]!r} is not one of classes") from None
    elif arr.dtype.kind in "biuU":
        # sorted like Python's sorted(set(...)), and the classes come back as Python scalars
        uniq, codes = np.unique(arr, return_inverse=True)
        classes = uniq.tolist()
        codes = codes.astype(np.int64).reshape(-1)
    else:
        values = arr.tolist()
        try:
            classes = sorted(set(values))
        except TypeError:
            classes = _unique_in_order(values)
        lookup = {c: i for i, c in enumerate(classes)}
        codes = np.fromiter((lookup[v] for v in values), dtype=np.int64, count=arr.size)

    present = np.unique(codes).size
    if present < min_classes:
        raise ValueError(
            f"{name}: found {present} class(es); at least {min_classes} are needed for this analysis"
        )
    return readonly(codes), classes


def check_X_y(X: Any, y: Any, *, x_name: str = "X", y_name: str = "y", min_classes: int = 2):
    """Validate a data array and its labels together.

    Returns ``(X, codes, classes)`` with ``X`` a read-only float/int array of at least 2-D (n, ...).
    """
    arr = check_array(X, x_name, min_ndim=1)
    if arr.ndim == 1:
        arr = readonly(arr.reshape(-1, 1))
    codes, classes = encode_labels(y, y_name, n_samples=arr.shape[0], min_classes=min_classes)
    return arr, codes, classes


def check_seed(seed: Any, name: str = "seed") -> np.random.Generator:
    """Return a private ``numpy.random.Generator``; the global RNG is never touched."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, numbers.Integral):
        return np.random.default_rng(seed)
    raise TypeError(f"{name}: expected an int, None or a numpy Generator, got {type(seed).__name__}")


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices`` or raise naming the argument and the options."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}; got {value!r}")
    return value
