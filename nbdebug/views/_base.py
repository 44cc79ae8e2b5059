"""What every view shares: locating the front-end code, and sending arrays as binary buffers."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import traitlets


@lru_cache(maxsize=None)
def js_dir() -> Path:
    """The folder holding the ES modules.

    An installed wheel carries them as ``nbdebug/static``; an editable install or a source
    checkout has no such folder, so fall back to the repository's ``js/``.
    """
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "static", here.parent / "js"):
        if (candidate / "_lib.js").is_file():
            return candidate
    raise FileNotFoundError(
        "nbdebug's front-end files were not found (looked in nbdebug/static and ../js); "
        "reinstall nbdebug"
    )


def load_esm(*names: str) -> str:
    """Return one ES module: the shared helpers followed by the named view files."""
    parts = [(js_dir() / "_lib.js").read_text(encoding="utf-8")]
    parts += [(js_dir() / n).read_text(encoding="utf-8") for n in names]
    return "\n".join(parts)


def load_css(*names: str) -> str:
    """Return the shared stylesheet followed by the named view stylesheets."""
    parts = [(js_dir() / "_lib.css").read_text(encoding="utf-8")]
    parts += [(js_dir() / n).read_text(encoding="utf-8") for n in names]
    return "\n".join(parts)


def array_to_json(array, widget=None):
    """Serialise a numpy array for the front end as ``{dtype, shape, buffer}``.

    ipywidgets moves the ``memoryview`` into a binary message buffer, so the data never becomes a
    JSON list. 64-bit floats are sent as float32 (drawing needs no more) and 64-bit ints as
    int32 where they fit, because JavaScript has no cheap 64-bit typed arrays.
    """
    if array is None:
        return None
    arr = np.asarray(array)
    if arr.dtype == np.float64 or arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.int64 or arr.dtype == np.uint64:
        if arr.size == 0 or (arr.min() >= np.iinfo(np.int32).min and arr.max() <= np.iinfo(np.int32).max):
            arr = arr.astype(np.int32)
    elif arr.dtype == bool:
        arr = arr.astype(np.uint8)
    arr = np.ascontiguousarray(arr)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "buffer": memoryview(arr.reshape(-1)).cast("B")}


def array_from_json(value, widget=None):
    """Inverse of :func:`array_to_json` (for state coming back from the browser)."""
    if value is None:
        return None
    buf = value["buffer"]
    return np.frombuffer(bytes(buf), dtype=value["dtype"]).reshape(value["shape"])


#: traitlets ``.tag(sync=True, **array_serialization)`` for numpy array traits
array_serialization = {"to_json": array_to_json, "from_json": array_from_json}


def array_trait():
    """A numpy array trait that syncs as a ``{dtype, shape, buffer}`` binary buffer, never JSON lists."""
    return traitlets.Instance(np.ndarray, allow_none=True).tag(sync=True, **array_serialization)


#: dynamic range of spectrogram images: the loudest bin down to this many dB below it
SPEC_DB_RANGE = 90.0


def spectrogram_db(waves: np.ndarray, sample_rate: int | None) -> np.ndarray:
    """Power spectrograms in dB, (n, F, T); 256-sample Hann windows with 75 % overlap."""
    from scipy.signal import spectrogram

    nper = int(min(256, max(16, waves.shape[-1] // 8)))
    _, _, s = spectrogram(waves, fs=sample_rate or 1.0, nperseg=nper, noverlap=nper * 3 // 4, axis=-1)
    return 10 * np.log10(s + 1e-12)


def spectrogram_images(*batches: np.ndarray, sample_rate: int | None):
    """Spectrograms of each (n, length) batch as uint8 images on one shared dB scale.

    Returns the list of (n, F, T) uint8 arrays (0 = ``SPEC_DB_RANGE`` dB below the loudest bin of
    all batches, 255 = that bin) and the range ``(lo, hi)`` in dB, so the images compare.
    """
    specs = [spectrogram_db(b, sample_rate) for b in batches]
    hi = float(max(s.max() for s in specs))
    lo = hi - SPEC_DB_RANGE
    return [np.round(np.clip((s - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8) for s in specs], (lo, hi)
