"""nbdebug: visual debugging of deep learning models and datasets, inline in JupyterLab.

>>> import nbdebug as nd
>>> nd.summary(model, input_shape=(3, 32, 32))     # layer table widget

Every public call returns a result object that displays itself as a widget in a notebook and can
be exported (``.export("fig.svg")``, ``.to_html("page.html")``). Importing nbdebug does not import
torch, TensorFlow or umap: the entries below load their modules on first use.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> "module:attribute"; modules load on first access (PEP 562)
_EXPORTS = {
    "as_model": "nbdebug.adapters:as_model",
    "as_dataset": "nbdebug.adapters:as_dataset",
    "Dataset": "nbdebug.adapters.dataset:Dataset",
    "ModelAdapter": "nbdebug.adapters.base:ModelAdapter",
    "summary": "nbdebug.analysis.summary:summary",
    "ModelSummary": "nbdebug.analysis.summary:ModelSummary",
    "complexity": "nbdebug.analysis.complexity:complexity",
    "resample": "nbdebug.analysis.resample:resample",
    "resample_search": "nbdebug.analysis.resample:resample_search",
    "ResampleReport": "nbdebug.analysis.resample:ResampleReport",
    "ResampleSearchReport": "nbdebug.analysis.resample:ResampleSearchReport",
    "csg": "nbdebug.analysis.csg:csg",
    "CSGReport": "nbdebug.analysis.csg:CSGReport",
    "datasets": "nbdebug.datasets",
    "capacity": "nbdebug.analysis.capacity:capacity",
    "CapacityReport": "nbdebug.analysis.capacity:CapacityReport",
    "ComplexityReport": "nbdebug.analysis.complexity:ComplexityReport",
    "size_to": "nbdebug.analysis.capacity:size_to",
    "SizingReport": "nbdebug.analysis.capacity:SizingReport",
    "attack": "nbdebug.analysis.attack:attack",
    "AttackReport": "nbdebug.analysis.attack:AttackReport",
    "robust_accuracy_curve": "nbdebug.analysis.attack:robust_accuracy_curve",
    "robustness_sweep": "nbdebug.analysis.robustness:robustness_sweep",
    "watch": "nbdebug.analysis.watch:watch",
    "Watch": "nbdebug.analysis.watch:Watch",
    "compare_runs": "nbdebug.analysis.watch:compare",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'nbdebug' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
