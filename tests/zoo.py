"""Small real models for adapter tests: the same architectures in torch and Keras.

Each builder returns a fresh model. ``copy_dense_weights`` makes a Keras model compute exactly what
a torch model computes, so both adapters can be compared number for number.
"""
from __future__ import annotations

import numpy as np


# -- torch ---------------------------------------------------------------------------------------
def torch_mlp(seed=0):
    import torch
    import torch.nn as nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def torch_cnn(seed=0):
    import torch
    import torch.nn as nn

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10),
    )


def torch_residual(seed=0):
    """Functional graph with a skip connection (add) and a branch merged by concatenation."""
    import torch
    import torch.nn as nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.conv_a = nn.Conv2d(4, 4, 3, padding=1)
            self.conv_b = nn.Conv2d(4, 4, 1)
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            x = torch.relu(self.bn(self.stem(x)))
            a = self.conv_a(x)
            x = x + a                       # skip connection
            b = self.conv_b(x)              # a branch
            x = torch.cat([x, b], dim=1)    # merged by concatenation
            return self.head(x.mean(dim=(2, 3)))

    torch.manual_seed(seed)
    return Residual()


def torch_untraceable(seed=0):
    """Data-dependent control flow: torch.fx cannot trace it, hooks must be used."""
    import torch
    import torch.nn as nn

    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(4, 6)
            self.l2 = nn.Linear(6, 3)

        def forward(self, x):
            h = self.l1(x)
            if h.shape[0] > 0 and bool(torch.isfinite(h).all()):  # data-dependent branch
                h = h * 0.5
            return self.l2(torch.relu(h))

    torch.manual_seed(seed)
    return Gate()


def torch_shared(seed=0):
    """One Linear module applied twice."""
    import torch
    import torch.nn as nn

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(4, 5)
            self.block = nn.Linear(5, 5)
            self.out = nn.Linear(5, 2)

        def forward(self, x):
            x = torch.relu(self.inp(x))
            x = torch.relu(self.block(x))
            x = torch.relu(self.block(x))
            return self.out(x)

    torch.manual_seed(seed)
    return Shared()


#: a layer name that would run script if anything rendered it as HTML
EVIL_NAME = "x</script><img src=x onerror=alert(1)>"


def torch_evil_names():
    """A one-layer torch model whose layer is called :data:`EVIL_NAME`."""
    import torch.nn as nn

    class Evil(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module(EVIL_NAME, nn.Linear(2, 2))

        def forward(self, x):
            return getattr(self, EVIL_NAME)(x)

    return Evil()


# -- keras ---------------------------------------------------------------------------------------
def keras_mlp(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])


def keras_functional(seed=0):
    """Functional model with a skip connection (Add) and a concatenated branch."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="stem")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    a = layers.Conv2D(4, 3, padding="same", name="conv_a")(x)
    x = layers.Add(name="add")([x, a])
    b = layers.Conv2D(4, 1, name="conv_b")(x)
    x = layers.Concatenate(name="cat")([x, b])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(10, name="head")(x)
    return keras.Model(inp, out, name="residual")


def keras_subclassed(seed=0):
    import keras
    from keras import layers

    class Sub(keras.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.l1 = layers.Dense(6, name="l1")
            self.l2 = layers.Dense(3, name="l2")

        def call(self, x):
            return self.l2(keras.activations.relu(self.l1(x)))

    keras.utils.set_random_seed(seed)
    model = Sub()
    model(np.zeros((1, 4), dtype="float32"))
    return model


def copy_dense_weights(torch_model, keras_model):
    """Copy a torch Linear stack's weights into the Dense layers of a Keras model, in order."""
    import torch.nn as nn

    linears = [m for m in torch_model.modules() if isinstance(m, nn.Linear)]
    denses = [lay for lay in keras_model.layers if type(lay).__name__ == "Dense"]
    assert len(linears) == len(denses)
    for lin, dense in zip(linears, denses):
        dense.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])
