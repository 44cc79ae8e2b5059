"""Small built-in datasets for demos and tests: nothing is downloaded.

- the four 2-D toy sets behind the main paper's Table 1 (Friedland et al., BSD-3, see
  ``nbdebug/data/friedland2d/LICENSE``) and scikit-learn's ``make_moons``;
- scikit-learn's 8×8 digits as images;
- synthetic audio classes (tones, chirps, noise) for the audio views.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ._validate import check_positive_int, check_seed

#: Table 1 of the main paper, 2-D rows: name -> (CSG, expected complexity in bits)
TABLE1_2D = {
    "spiral": (0.431, 12),
    "xor": (0.00609, 10),
    "circle": (0.0, 10),
    "gauss": (0.0, 2),
    "moon": (0.0, 10),
}


def friedland_2d(name: str):
    """Load one of the 100-point, two-class 2-D sets of the main paper's Table 1.

    Parameters
    ----------
    name : {"spiral", "xor", "circle", "gauss", "moon"}
        "moon" is scikit-learn's ``make_moons(n_samples=100)`` without noise, as in the paper.

    Returns
    -------
    X : ndarray, shape (100, 2)
    y : ndarray of int, shape (100,)  (labels 0 and 1)
    """
    if name not in TABLE1_2D:
        raise ValueError(f"name: expected one of {', '.join(map(repr, TABLE1_2D))}; got {name!r}")
    if name == "moon":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=100)
        return X, y.astype(np.int64)
    path = resources.files("nbdebug") / "data" / "friedland2d" / f"{name}_100_35dB.csv"
    table = np.loadtxt(str(path), delimiter=",")
    return table[:, :2], (table[:, 2] > 0).astype(np.int64)


def digits_images(n_classes: int = 10):
    """scikit-learn's digits as images: ``X`` (n, 1, 8, 8) float32 in [0, 1], ``y``, class names."""
    from sklearn.datasets import load_digits

    bunch = load_digits(n_class=n_classes)
    X = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    return X, bunch.target.astype(np.int64), [str(c) for c in bunch.target_names]


AUDIO_CLASSES = ("tone", "chord", "chirp up", "chirp down", "noise burst")


def synthetic_audio(n_per_class: int = 40, *, sample_rate: int = 8000, duration_s: float = 0.5, seed=0):
    """Synthetic audio clips in five classes: pure tone, chord, up/down chirp, noise burst.

    Pitches and amplitudes vary per clip, and a little noise is added, so the classes overlap a
    little; good enough to demonstrate the audio views without downloading anything.

    Returns
    -------
    X : ndarray of float32, shape (n, samples)
        Waveforms in [-1, 1].
    y : ndarray of int, shape (n,)
    classes : list of str
    sample_rate : int
    """
    n_per_class = check_positive_int(n_per_class, "n_per_class")
    rng = check_seed(seed)
    t = np.arange(int(sample_rate * duration_s)) / sample_rate
    clips, labels = [], []
    for label in range(len(AUDIO_CLASSES)):
        for _ in range(n_per_class):
            f0 = rng.uniform(220, 880)
            if label == 0:
                wave = np.sin(2 * np.pi * f0 * t)
            elif label == 1:
                wave = sum(np.sin(2 * np.pi * f0 * r * t) for r in (1.0, 1.25, 1.5)) / 3
            elif label in (2, 3):
                f1 = f0 * rng.uniform(2, 3)
                fa, fb = (f0, f1) if label == 2 else (f1, f0)
                phase = 2 * np.pi * (fa * t + (fb - fa) * t**2 / (2 * duration_s))
                wave = np.sin(phase)
            else:
                wave = rng.standard_normal(t.size) * np.exp(-((t - rng.uniform(0.1, 0.4)) ** 2) / 0.005)
            envelope = np.minimum(1, np.minimum(t, duration_s - t) / 0.02)
            wave = wave * envelope * rng.uniform(0.4, 0.9) + 0.02 * rng.standard_normal(t.size)
            clips.append(np.clip(wave, -1, 1))
            labels.append(label)
    return np.asarray(clips, dtype=np.float32), np.asarray(labels, dtype=np.int64), list(AUDIO_CLASSES), sample_rate
