"""Write notebooks/tour.ipynb (without outputs). Edit this script, not the notebook, and rerun it."""
from pathlib import Path

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# nbdebug — a tour

nbdebug turns a live PyTorch or Keras model and a dataset into interactive widgets that show *why*
a model struggles. Every call returns a result object: plain data you can compute with, that
displays itself as a widget when it is the last expression of a cell, and that exports to
PNG / SVG / PDF (`.export(...)`) or a standalone HTML page (`.to_html(...)`).

Everything here runs offline on data that ships with scikit-learn, in well under a minute on a laptop CPU.
""")
code("""
import numpy as np
import nbdebug as nd

X, y, class_names = nd.datasets.digits_images()        # 1,797 handwritten digits, 8×8, in [0, 1]
digits = nd.as_dataset(X, y, classes=class_names)
digits
""")
md("""
## A model in PyTorch

A small CNN with a skip connection, trained for a few seconds. `nd.summary` shows its layer graph:
click a column header to sort, hover a row to see which layers feed it (orange) and which it feeds
(blue), click a row to select the layer. The gutter on the left draws the graph's edges; the skip
connection and the branch run in lanes of their own.
""")
code("""
import torch
import torch.nn as nn

class DigitNet(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.block = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(width * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = x + self.block(x)                     # skip connection
        return self.head(torch.flatten(self.pool(x), 1))

torch.manual_seed(0)
torch_model = DigitNet()
optimiser = torch.optim.Adam(torch_model.parameters(), lr=3e-3)
xt, yt = torch.from_numpy(X), torch.from_numpy(y)
for epoch in range(8):
    for i in range(0, len(xt), 64):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(torch_model(xt[i:i + 64]), yt[i:i + 64])
        loss.backward()
        optimiser.step()
accuracy = (torch_model(xt).argmax(1) == yt).float().mean().item()
print(f"torch training accuracy {accuracy:.3f}")
""")
code("""
torch_summary = nd.summary(torch_model, input_shape=(1, 8, 8))
torch_summary
""")
md("""
The result is data first: the layers, their parameter counts and shapes, and which layers feed
which — ready for your own code, or as a DataFrame.
""")
code("""
torch_summary.to_frame().head(8)
""")
md("""
## The same kind of model in Keras

Keras models (Sequential, functional with branches and skip connections, or subclassed once built)
go through the same adapter; the summary looks the same.
""")
code("""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")    # keep TensorFlow's start-up log out of the notebook
import keras
from keras import layers

keras.utils.set_random_seed(0)
inputs = keras.Input((8, 8, 1), name="digit")
x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inputs)
branch = layers.Conv2D(16, 3, padding="same", name="conv")(x)
branch = layers.BatchNormalization(name="bn")(branch)
x = layers.Add(name="skip")([x, layers.ReLU(name="relu")(branch)])
x = layers.MaxPooling2D(name="pool")(x)
outputs = layers.Dense(10, name="head")(layers.Flatten(name="flatten")(x))
keras_model = keras.Model(inputs, outputs, name="digit_net")
keras_model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
X_last = np.moveaxis(X, 1, -1)                        # Keras is channels last
history = keras_model.fit(X_last, y, epochs=8, batch_size=64, verbose=0)
print(f"keras training accuracy {history.history['accuracy'][-1]:.3f}")
""")
code("""
keras_summary = nd.summary(keras_model)
keras_summary
""")
md("""
## Adapters: one interface for both frameworks

Analyses reach a model only through its adapter: the layer graph, class probabilities, the loss
gradient with respect to the input, a layer's activations — and a guard that leaves the model
exactly as it was found (weights, train/eval mode, `requires_grad`, hooks), even when an analysis
fails or is interrupted.
""")
code("""
torch_adapter, keras_adapter = nd.as_model(torch_model, input_shape=(1, 8, 8)), nd.as_model(keras_model)
p_torch = torch_adapter.predict_proba(X[:5])
p_keras = keras_adapter.predict_proba(X_last[:5])
print("torch predicts", p_torch.argmax(1), " keras predicts", p_keras.argmax(1), " truth", y[:5])
loss, grad = torch_adapter.loss_input_gradient(X[:5], y[:5])
print("input-gradient shape", grad.shape, " per-sample loss", np.round(loss, 3))
""")
md("""
## How much capacity does the data need?

Friedland's heuristic (the main paper, section 3.1.1) counts how often the label changes when the
samples are sorted by the sum of their features: the expected memory-equivalent capacity in bits.
""")
code("""
need = nd.complexity(X, y)
print(need)
for warning in need.warnings:
    print("note:", warning)
""")
md("""
## Does the model fit the data?

Network capacity after Friedland et al., layer by layer — the main paper's Figure 2. Each bar is
what a layer can memorise in bits; the line shows the bits that can flow on from it, so a
bottleneck is visible; the dashed line is what the dataset needs. The banner says it in words.
Click a bar to select the layer; toggle the log scale or the paper's literal Algorithm 1.
""")
code("""
capacity = nd.capacity(torch_model, input_shape=(1, 8, 8), data=(X, y))
capacity
""")
md("""
## Where do the classes overlap?

The Cumulative Spectral Gradient (Branchaud-Charron et al., 2019) measures how much classes
overlap from each sample's nearest neighbours; 0 means separable. Click a cell of the class-overlap
heat map to highlight the two classes in the embedding and see the samples that overlap most.
""")
code("""
digit_names = np.asarray(class_names)[y]
overlap = nd.csg(X, digit_names, k=3, M=None)        # M=None: every sample, deterministic
overlap
""")
md("""
## Rebalancing a rare class

SMOTE makes synthetic samples between a rare-class sample and one of its neighbours; Tomek links
remove ambiguous pairs. Before and after on one projection: hover a synthetic point (◇) to see its
two parents; change the sampler or `k_neighbors` and the plots follow.
""")
code("""
from sklearn.datasets import make_classification

X2, y2 = make_classification(n_samples=600, n_features=2, n_redundant=0, n_clusters_per_class=1,
                             weights=[0.95, 0.05], class_sep=0.8, random_state=4)
rebalanced = nd.resample(X2, np.array(["normal", "rare"])[y2], sampler="smote_tomek")
rebalanced
""")
md("""
## How robust is the model?

Adversarial examples through the same adapter: PGD within an L∞ ball, and the fewest pixels that
flip a prediction (the main paper's section 3.4). Original, adversarial and their difference, with
swipe, blink, zoom and an amplification slider; the gallery sorts the batch by any metric.
""")
code("""
pgd = nd.attack(torch_model, X[:48], y[:48], method="pgd", eps=0.1, alpha=0.02, steps=10)
print(f"PGD: {pgd.success_rate:.0%} of 48 digits flipped within L∞ ≤ 0.1")
fewest = nd.attack(torch_model, X[:16], y[:16], method="pixels", budget=12)
fewest
""")
md("""
## Gradient flow while training

`nd.watch` records per-layer gradient and activation statistics while a model trains — here every
5th step of a fresh `DigitNet` — and flags vanishing, exploding, dead or NaN layers with the step
they began. The widget updates live while the loop runs; afterwards, scrub through the steps.
""")
code("""
torch.manual_seed(1)
watched = DigitNet()
opt = torch.optim.Adam(watched.parameters(), lr=3e-3)
with nd.watch(watched, every=5) as flow:
    for step in range(60):
        i = (step * 64) % (len(xt) - 64)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(watched(xt[i:i + 64]), yt[i:i + 64])
        loss.backward()
        opt.step()
        flow.log(loss=loss)
flow
""")
md("""
## Export

Every result exports to a figure for a paper, or to a standalone HTML page that renders the widget
with no kernel and no network.
""")
code("""
import tempfile, pathlib
out = pathlib.Path(tempfile.mkdtemp())
torch_summary.export(out / "summary.svg"), keras_summary.to_html(out / "summary.html")
""")

nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
path = Path(__file__).resolve().parent.parent / "notebooks" / "tour.ipynb"
nbf.write(nb, path)
print("wrote", path)
