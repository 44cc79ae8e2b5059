"""Adapters: the only place that imports torch or TensorFlow, lazily, when given their objects."""
from __future__ import annotations

from ._detect import module_root
from .base import LayerNode, ModelAdapter
from .dataset import Dataset, as_dataset


def as_model(model, input_shape=None, *, output: str = "auto") -> ModelAdapter:
    """Wrap a torch ``nn.Module`` or a Keras 3 model in a framework-neutral adapter.

    Parameters
    ----------
    model : torch.nn.Module or keras.Model or ModelAdapter
    input_shape : tuple of int, optional
        One sample's shape without the batch dimension, in the framework's layout (channels first
        in torch, channels last in Keras). Needed when the model does not fix it (a torch CNN, an
        unbuilt Keras model).
    output : {"auto", "logits", "probs", "log_probs"}
        What the model returns; "auto" looks at the last layer (softmax → probabilities).

    Returns
    -------
    ModelAdapter
        ``.layers`` (the graph), ``predict_proba``, ``loss_input_gradient``, ``activations``,
        ``guard``.
    """
    if isinstance(model, ModelAdapter):
        if input_shape is not None and model.input_shape != tuple(input_shape):
            return as_model(model.model, input_shape, output=output)
        return model
    root = module_root(model)
    if root == "torch":
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        from .torch_model import TorchModel

        return TorchModel(model, input_shape, output)
    if root in ("keras", "tensorflow"):
        import keras

        if not isinstance(model, keras.Model):
            raise TypeError(
                f"model: expected a Keras 3 keras.Model, got {type(model).__module__}.{type(model).__name__}"
            )
        from .keras_model import KerasModel

        return KerasModel(model, input_shape, output)
    raise TypeError(
        f"model: expected a torch.nn.Module or a Keras model, got {type(model).__module__}.{type(model).__name__}"
    )


__all__ = ["as_model", "as_dataset", "Dataset", "LayerNode", "ModelAdapter", "module_root"]
