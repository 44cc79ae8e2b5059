"""The dataset adapter on every kind of source, and its errors."""
from __future__ import annotations

import numpy as np
import pytest

import nbdebug as nd


def blobs(n=60, d=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    return rng.normal(size=(n, d)) + y[:, None], y


def test_numpy_arrays_and_string_labels():
    X, y = blobs()
    names = np.array(["cat", "dog", "<b>emu</b>"])[y]
    ds = nd.as_dataset(X, names)
    assert ds.classes == sorted(["cat", "dog", "<b>emu</b>"])
    assert [ds.classes[c] for c in ds.y] == list(names)
    assert ds.modality == "tabular" and ds.X.shape == (60, 3) and ds.source == "numpy"
    assert not ds.X.flags.writeable, "the user's array must be exposed read-only"


def test_lists_tuple_and_mixed_hashable_labels():
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]]
    labels = [1, "a", 1, "a"]  # unsortable mix: order of first appearance
    ds = nd.as_dataset((X, labels))
    assert ds.classes == [1, "a"] and list(ds.y) == [0, 1, 0, 1]


def test_inputs_are_not_mutated():
    X, y = blobs()
    X0, y0 = X.copy(), y.copy()
    ds = nd.as_dataset(X, y, max_samples=30)
    assert ds.n_samples == 30
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_sklearn_bunch_digits_is_images():
    from sklearn.datasets import load_digits

    ds = nd.as_dataset(load_digits())
    assert ds.modality == "image" and ds.X.shape == (1797, 8, 8)
    assert ds.classes == list(range(10)) and ds.source == "sklearn"
    assert ds.images().shape == (1797, 8, 8, 1)


def test_sklearn_bunch_with_target_names():
    from sklearn.datasets import load_iris

    ds = nd.as_dataset(load_iris())
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.feature_names[0].startswith("sepal") and ds.modality == "tabular"


def test_image_layouts():
    first = nd.as_dataset(np.zeros((4, 3, 16, 16)), [0, 1, 0, 1])
    last = nd.as_dataset(np.zeros((4, 16, 16, 3)), [0, 1, 0, 1])
    assert (first.modality, first.channel_layout) == ("image", "channels_first")
    assert (last.modality, last.channel_layout) == ("image", "channels_last")
    assert first.images().shape == (4, 16, 16, 3) == last.images().shape


def test_audio_with_sample_rate():
    X, y, classes, rate = nd.datasets.synthetic_audio(n_per_class=4)
    ds = nd.as_dataset(X, y, classes=classes, sample_rate=rate)
    assert ds.modality == "audio" and ds.sample_rate == 8000 and ds.classes == classes


def test_torch_sources():
    import torch
    from torch.utils.data import DataLoader, Dataset, TensorDataset

    X, y = blobs(n=40)
    tds = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))
    a = nd.as_dataset(tds)
    b = nd.as_dataset(DataLoader(tds, batch_size=7))
    assert a.source == "torch.TensorDataset" and b.source == "torch.DataLoader"
    np.testing.assert_allclose(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)

    class Pairs(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            return torch.tensor(X[i]), int(y[i])

    c = nd.as_dataset(Pairs())
    np.testing.assert_allclose(c.X, X)
    assert c.source == "torch.Dataset"


def test_tf_data_batched_and_unbatched():
    tf = pytest.importorskip("tensorflow")
    X, y = blobs(n=30)
    unbatched = tf.data.Dataset.from_tensor_slices((X, y))
    a = nd.as_dataset(unbatched)
    b = nd.as_dataset(unbatched.batch(8))
    assert a.source == b.source == "tf.data"
    np.testing.assert_allclose(a.X, X)
    np.testing.assert_allclose(b.X, X)
    np.testing.assert_array_equal(b.y, y)


def test_streaming_max_samples_is_stratified_and_seeded():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(900, int), np.ones(100, int)]
    X = rng.normal(size=(1000, 2)) + y[:, None]
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=64, shuffle=False)
    a = nd.as_dataset(loader, max_samples=100, seed=3)
    b = nd.as_dataset(loader, max_samples=100, seed=3)
    assert a.n_samples == 100 and list(a.class_counts) == [90, 10]
    np.testing.assert_array_equal(a.X, b.X)
    # every kept row is a real row of the source
    rows = {tuple(r) for r in X.round(12)}
    assert all(tuple(r) in rows for r in a.X.round(12))


def test_in_memory_max_samples_keeps_rare_class():
    X, _ = blobs(n=1000)
    y = np.r_[np.zeros(995, int), np.ones(5, int)]
    ds = nd.as_dataset(X, y, max_samples=50)
    assert ds.n_samples == 50 and ds.class_counts[1] >= 1
    assert ds.indices is not None and np.all(np.diff(ds.indices) > 0)


@pytest.mark.parametrize(
    "data, labels, match",
    [
        (np.zeros((5, 2)), np.zeros(4), "labels.*same length"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], "data.*NaN"),
        (np.array([[np.inf, 1.0], [0.0, 1.0]]), [0, 1], "data.*Inf"),
        (np.zeros((0, 2)), [], "data.*empty"),
        (np.zeros((4, 2)), [1, 1, 1, 1], "labels.*1 class"),
        (np.zeros((4, 2)), np.eye(4), "labels.*1-D.*one-hot"),
        (np.zeros((4, 2)), [0.5, 1, 0, 1], "labels.*non-integer"),
    ],
)
def test_bad_input_names_the_argument(data, labels, match):
    with pytest.raises(ValueError, match=match):
        nd.as_dataset(data, labels)


def test_bad_arguments():
    X, y = blobs()
    with pytest.raises(TypeError, match="labels"):
        nd.as_dataset(X)
    with pytest.raises(ValueError, match="modality"):
        nd.as_dataset(X, y, modality="video")
    with pytest.raises(ValueError, match="max_samples"):
        nd.as_dataset(X, y, max_samples=1)
    with pytest.raises(TypeError, match="data"):
        nd.as_dataset(np.array(["a", "b"]), [0, 1])
    with pytest.raises(ValueError, match="labels.*classes"):
        nd.as_dataset(X, y + 5, classes=["a", "b", "c"])
