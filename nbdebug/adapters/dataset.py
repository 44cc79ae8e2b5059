"""Turn arrays, lists, torch datasets/loaders, tf.data and scikit-learn bunches into a Dataset."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_array, check_positive_int, check_seed, encode_labels, readonly
from ._detect import module_root

MODALITIES = ("image", "audio", "tabular")


@dataclass(eq=False)
class Dataset:
    """Samples with integer class codes, whatever the source.

    Attributes
    ----------
    X : ndarray, shape (n, ...)
        The samples (read-only view where the source was already a numpy array).
    y : ndarray of int64, shape (n,)
        Class codes ``0..K-1``; ``classes[y[i]]`` is the label the user gave.
    classes : list
        Class labels as the user gave them (any hashable values), or names passed in.
    modality : {"image", "audio", "tabular"}
    channel_layout : {"channels_first", "channels_last", None}
        For images: where the channel axis is (None for single-channel (n, H, W) images).
    sample_rate : int or None
        For audio.
    feature_names : list of str or None
    source : str
        What the data came from ("numpy", "torch.DataLoader", "tf.data", "sklearn", ...).
    """

    X: np.ndarray
    y: np.ndarray
    classes: list
    modality: str = "tabular"
    channel_layout: str | None = None
    sample_rate: int | None = None
    feature_names: list | None = None
    source: str = "numpy"
    indices: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def class_counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=self.n_classes)

    def images(self) -> np.ndarray:
        """Images as (n, H, W, C) for display (channels last, whatever the source layout)."""
        if self.modality != "image":
            raise ValueError(f"data: modality is {self.modality!r}, not 'image'")
        X = self.X
        if X.ndim == 3:
            return X[..., None]
        if self.channel_layout == "channels_first":
            return np.moveaxis(X, 1, -1)
        return X

    def flat(self) -> np.ndarray:
        """Samples flattened to (n, d) features."""
        return self.X.reshape(self.n_samples, -1)

    def __repr__(self) -> str:
        layout = f", {self.channel_layout}" if self.channel_layout else ""
        rate = f", {self.sample_rate} Hz" if self.sample_rate else ""
        return (f"Dataset(n={self.n_samples}, shape={tuple(self.X.shape[1:])}, classes={self.n_classes}, "
                f"modality={self.modality!r}{layout}{rate}, source={self.source!r})")


def detect_modality(X: np.ndarray, sample_rate=None) -> tuple[str, str | None]:
    """Guess the modality and channel layout from the array's shape.

    4-D data is an image batch, channels first when axis 1 has 1, 3 or 4 entries and the last axis
    does not; 3-D data of (n, H, W) with H, W >= 8 is single-channel images unless a sample rate
    says audio; 2-D data is audio when a sample rate is given, otherwise tabular.
    """
    if X.ndim == 4:
        first, last = X.shape[1], X.shape[-1]
        if first in (1, 3, 4) and last not in (1, 3, 4):
            return "image", "channels_first"
        if last in (1, 3, 4):
            return "image", "channels_last"
        return "image", "channels_first"
    if sample_rate is not None:
        return "audio", None
    if X.ndim == 3 and X.shape[1] >= 8 and X.shape[2] >= 8:
        return "image", None
    return "tabular", None


def _stratified_indices(y: np.ndarray, max_samples: int, rng) -> np.ndarray:
    """Indices of a stratified sample: each class keeps its share, at least one sample each."""
    classes, counts = np.unique(y, return_counts=True)
    quota = np.maximum(1, np.floor(counts / counts.sum() * max_samples)).astype(int)
    # hand out what rounding left over to the largest remainders
    remainder = counts / counts.sum() * max_samples - quota
    for i in np.argsort(-remainder)[: max(0, max_samples - quota.sum())]:
        quota[i] += 1
    quota = np.minimum(quota, counts)
    picked = [rng.choice(np.flatnonzero(y == c), size=q, replace=False) for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picked))


class _Reservoir:
    """Stream (x, label) pairs keeping a uniform random sample of at most ``cap`` per label.

    Items remember their arrival position, so the result keeps the source order.
    """

    def __init__(self, cap: int | None, rng):
        self.cap = cap
        self.rng = rng
        self.items: dict[Any, list] = {}
        self.seen: dict[Any, int] = {}
        self.n = 0

    def add(self, x, label):
        label = np.asarray(label)
        if label.ndim != 0:
            raise ValueError(f"labels: expected one class label per sample, got shape {label.shape}")
        key = label.item()
        items = self.items.setdefault(key, [])
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        position, self.n = self.n, self.n + 1
        if self.cap is None or len(items) < self.cap:
            items.append((position, x))
        else:
            j = int(self.rng.integers(0, n + 1))
            if j < self.cap:
                items[j] = (position, x)

    def result(self, max_samples: int | None):
        labels = list(self.items)
        counts = np.array([self.seen[k] for k in labels])
        kept = []
        if max_samples is None or counts.sum() <= max_samples:
            quota = [len(self.items[k]) for k in labels]
        else:
            codes = np.repeat(np.arange(len(labels)), counts)
            quota = np.bincount(codes[_stratified_indices(codes, max_samples, self.rng)], minlength=len(labels))
        for k, q in zip(labels, quota):
            items = self.items[k]
            if q < len(items):
                items = [items[i] for i in self.rng.choice(len(items), size=int(q), replace=False)]
            kept.extend((pos, x, k) for pos, x in items)
        kept.sort(key=lambda t: t[0])
        return [x for _, x, _ in kept], [k for _, _, k in kept]


def _to_numpy(value):
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # torch tensor
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # tf tensor
        return value.numpy()
    return np.asarray(value)


def _stream(batches, batched: bool | None, max_samples, rng):
    """Collect (x, y) elements or batches from an iterable into arrays, sampling per class."""
    reservoir = _Reservoir(max_samples, rng)
    for element in batches:
        if isinstance(element, dict):
            keys = list(element)
            x, y = element[keys[0]], element[keys[-1]]
        elif isinstance(element, (tuple, list)) and len(element) >= 2:
            x, y = element[0], element[1]
        else:
            raise TypeError("data: expected elements of the form (x, y); got a single value per element")
        x, y = _to_numpy(x), _to_numpy(y)
        is_batch = batched if batched is not None else (y.ndim == 1 and x.ndim >= 1 and x.shape[0] == y.shape[0])
        if is_batch:
            for xi, yi in zip(x, y):
                reservoir.add(xi, yi)
        else:
            reservoir.add(x, y)
    xs, ys = reservoir.result(max_samples)
    if not xs:
        raise ValueError("data: the dataset yielded no samples")
    return np.stack(xs), np.asarray(ys)


def as_dataset(
    data: Any,
    labels: Any = None,
    *,
    classes=None,
    modality: str | None = None,
    sample_rate: int | None = None,
    max_samples: int | None = None,
    seed=0,
) -> Dataset:
    """Turn the user's data into a :class:`Dataset`.

    Parameters
    ----------
    data
        A numpy array or nested list (n, ...); a tuple ``(X, y)``; a scikit-learn ``Bunch``
        (``load_digits()``: its ``images`` are used when present); a torch ``Dataset``,
        ``TensorDataset`` or ``DataLoader`` yielding ``(x, y)``; a ``tf.data.Dataset`` yielding
        ``(x, y)`` elements or batches; or a :class:`Dataset` (returned unchanged).
    labels : array-like, optional
        Class labels, one per sample, when ``data`` holds samples only.
    classes : sequence, optional
        Class names, when labels are integer indices into them.
    modality : {"image", "audio", "tabular"}, optional
        Overrides the guess from the data's shape.
    sample_rate : int, optional
        Audio sample rate in Hz (implies ``modality="audio"``).
    max_samples : int, optional
        Keep a stratified random sample of at most this many samples (each class keeps its
        share). Streaming sources are read once in batches, keeping a bounded reservoir per class.
    seed : int or numpy Generator
        Randomness for ``max_samples``; the global RNG is untouched.

    Returns
    -------
    Dataset
    """
    if isinstance(data, Dataset) and labels is None:
        return data
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"modality: expected one of {MODALITIES}; got {modality!r}")
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, "max_samples", minimum=2)
    if sample_rate is not None:
        sample_rate = check_positive_int(sample_rate, "sample_rate")
    rng = check_seed(seed)
    source = "numpy"
    feature_names = None
    root = module_root(data)

    if isinstance(data, tuple) and len(data) == 2 and labels is None:
        data, labels = data
        root = module_root(data)
    if labels is None and hasattr(data, "target") and (hasattr(data, "data") or hasattr(data, "images")):
        source = "sklearn"
        if classes is None and getattr(data, "target_names", None) is not None:
            classes = [c.item() if hasattr(c, "item") else c for c in np.asarray(data.target_names).tolist()]
        feature_names = list(getattr(data, "feature_names", []) or []) or None
        X = data.images if getattr(data, "images", None) is not None else data.data
        if getattr(data, "images", None) is not None:
            feature_names = None
        labels = data.target
    elif labels is None and root == "torch":
        X, labels, source = _from_torch(data, max_samples, rng)
        max_samples = None  # already sampled while streaming
    elif labels is None and root == "tensorflow":
        X, labels = _stream(data.as_numpy_iterator(), None, max_samples, rng)
        source, max_samples = "tf.data", None
    elif labels is None:
        raise TypeError(
            "labels: required when data holds samples only (pass labels=..., or data as (X, y), a "
            "torch Dataset/DataLoader, a tf.data.Dataset or a scikit-learn Bunch)"
        )
    else:
        X = _to_numpy(data) if root in ("torch", "tensorflow") else data
        labels = _to_numpy(labels) if module_root(labels) in ("torch", "tensorflow") else labels

    X = check_array(X, "data", min_ndim=1)
    if X.ndim == 1:
        X = readonly(X.reshape(-1, 1))
    codes, classes = encode_labels(labels, "labels", n_samples=X.shape[0], classes=classes)
    indices = None
    if max_samples is not None and X.shape[0] > max_samples:
        indices = _stratified_indices(np.asarray(codes), max_samples, rng)
        X, codes = readonly(X[indices]), readonly(np.asarray(codes)[indices])
    guessed, layout = detect_modality(X, sample_rate)
    if modality is None:
        modality = guessed
    elif modality == "image" and guessed != "image":
        layout = None
    if modality != "image":
        layout = None
    if modality == "audio" and X.ndim == 3 and X.shape[1] == 1:
        layout = "channels_first"
    return Dataset(X=X, y=codes, classes=list(classes), modality=modality, channel_layout=layout,
                   sample_rate=sample_rate, feature_names=feature_names, source=source, indices=indices)


def _from_torch(data, max_samples, rng):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    if isinstance(data, TensorDataset) and len(data.tensors) >= 2:
        X, y = data.tensors[0].detach().cpu().numpy(), data.tensors[1].detach().cpu().numpy()
        return X, y, "torch.TensorDataset"
    if isinstance(data, DataLoader):
        X, y = _stream(iter(data), True, max_samples, rng)
        return X, y, "torch.DataLoader"
    if isinstance(data, torch.utils.data.Dataset):
        if not hasattr(data, "__len__"):
            X, y = _stream(iter(data), False, max_samples, rng)
            return X, y, "torch.IterableDataset"
        X, y = _stream((data[i] for i in range(len(data))), False, max_samples, rng)
        return X, y, "torch.Dataset"
    if isinstance(data, torch.Tensor):
        raise TypeError("labels: required when data is a tensor of samples")
    raise TypeError(f"data: unsupported torch object {type(data).__name__}")
