"""Import cost, input validation, array transport and the built-in datasets."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nbdebug as nd
from nbdebug import _validate as v
from nbdebug.views._base import array_from_json, array_to_json, js_dir


def test_import_works_with_heavy_frameworks_blocked():
    code = (
        "import sys\n"
        "for name in ('torch', 'tensorflow', 'keras', 'umap', 'matplotlib.pyplot'):\n"
        "    sys.modules[name] = None  # any import of these now raises ImportError\n"
        "import nbdebug as nd\n"
        "import nbdebug.adapters, nbdebug.analysis.complexity, nbdebug.results, nbdebug.datasets\n"
        "X, y = nd.datasets.friedland_2d('xor')\n"
        "print(nd.complexity(X, y).expected_bits)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "10"


def test_import_loads_no_heavy_module():
    code = "import sys, nbdebug; print(sorted(m for m in ('torch','tensorflow','keras','umap','matplotlib','ipywidgets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        nd.no_such_thing  # noqa: B018


def test_check_array_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"images: contains 1 NaN and 0 Inf value\(s\); first at index \(1, 0\)"):
        v.check_array(np.array([[0.0, 1.0], [np.nan, 2.0]]), "images")
    with pytest.raises(TypeError, match="X: expected numeric"):
        v.check_array(np.array(["a"]), "X")
    with pytest.raises(TypeError, match="X: expected an array"):
        v.check_array(None, "X")
    arr = v.check_array(np.ones((2, 2)), "X")
    with pytest.raises(ValueError):
        arr[0, 0] = 5  # read-only view
    # values whose sum overflows are still finite; an Inf among them is still found
    big = np.full(4, 1e308)
    assert v.check_array(big, "X") is not big
    big[2] = -np.inf
    with pytest.raises(ValueError, match=r"X: contains 0 NaN and 1 Inf value\(s\); first at index \(2,\)"):
        v.check_array(big, "X")
    with pytest.raises(ValueError, match="0 NaN and 1 Inf"):
        v.check_array(np.array([np.inf, 1.0], dtype=np.float32), "X")


def test_encode_labels():
    codes, classes = v.encode_labels(np.array([3, 7, 3, 9]))
    assert classes == [3, 7, 9] and list(codes) == [0, 1, 0, 2]
    assert all(type(c) is int for c in classes)  # Python ints, as the user would print them
    codes, classes = v.encode_labels(np.array(["cat", "ant", "cat"]))
    assert classes == ["ant", "cat"] and list(codes) == [1, 0, 1] and type(classes[0]) is str
    codes, classes = v.encode_labels(np.array([True, False, True]))
    assert classes == [False, True] and list(codes) == [1, 0, 1]
    codes, classes = v.encode_labels([0, 2, 1], classes=["a", "b", "c"])
    assert classes == ["a", "b", "c"] and list(codes) == [0, 2, 1]
    codes, classes = v.encode_labels(["b", "a"], classes=["a", "b"])
    assert list(codes) == [1, 0]
    with pytest.raises(ValueError, match="'z' is not one of classes"):
        v.encode_labels(["z", "a"], classes=["a", "b"])


def test_seed_gives_private_generator():
    state = np.random.get_state()[1].copy()
    a = v.check_seed(5).normal(size=3)
    b = v.check_seed(5).normal(size=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(state, np.random.get_state()[1])
    with pytest.raises(TypeError, match="seed"):
        v.check_seed("five")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8, bool])
def test_arrays_travel_as_binary_buffers(dtype):
    arr = (np.arange(12).reshape(3, 4) % 2).astype(dtype)
    wire = array_to_json(arr)
    assert isinstance(wire["buffer"], memoryview) and wire["shape"] == [3, 4]
    back = array_from_json({**wire, "buffer": bytes(wire["buffer"])})
    np.testing.assert_array_equal(back, arr.astype(back.dtype))
    assert wire["dtype"] in ("float32", "int32", "uint8")


def test_front_end_files_are_found():
    assert (js_dir() / "_lib.js").is_file() and (js_dir() / "summary.js").is_file()


@pytest.mark.parametrize("name", ["spiral", "xor", "circle", "gauss", "moon"])
def test_table1_complexity_rows(name):
    """The main paper's Table 1, 2-D rows: expected complexity in bits, exactly."""
    X, y = nd.datasets.friedland_2d(name)
    assert X.shape == (100, 2) and set(y) == {0, 1}
    assert nd.complexity(X, y).expected_bits == nd.datasets.TABLE1_2D[name][1]


def test_complexity_hand_computed_and_multiclass_warning():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    rep = nd.complexity(X, ["a", "a", "b", "a", "b"])
    assert rep.changes == 3 and rep.expected_bits == 2 and rep.max_bits == 3 * 2 + 3
    assert list(rep.change_points) == [2, 3, 4]
    rep3 = nd.complexity(np.arange(9.0)[:, None], np.arange(9) % 3)
    assert rep3.changes == 8 and any("3 classes" in w for w in rep3.warnings)
