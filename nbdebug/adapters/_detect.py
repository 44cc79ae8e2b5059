"""Recognise framework objects by their classes' module names, without importing frameworks."""
from __future__ import annotations

_ROOTS = {"torch": "torch", "keras": "keras", "tf_keras": "keras", "tensorflow": "tensorflow"}


def module_root(obj) -> str | None:
    """'torch', 'keras', 'tensorflow' or None, from the modules of ``type(obj)``'s classes.

    Looks along the MRO, so a user's ``class Net(nn.Module)`` defined in ``__main__`` is torch.
    A Keras model is 'keras' even when it lives in ``tensorflow.python.keras``-style paths.
    """
    for cls in type(obj).__mro__:
        module = getattr(cls, "__module__", "") or ""
        root = module.split(".", 1)[0]
        if root in _ROOTS:
            if root == "tensorflow" and ".keras" in module:
                return "keras"
            return _ROOTS[root]
    return None
