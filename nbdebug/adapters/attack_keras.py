"""Attack inner loops for Keras 3 models on the TensorFlow backend (``tf.GradientTape``).

The same algorithms as :mod:`nbdebug.adapters.attack_torch`, step for step, so that a Keras model
and a torch model with identical weights give the same adversarial examples. Each step is a
``tf.function``; the random start draws from a ``tf.random.Generator`` of its own.
"""
from __future__ import annotations

import math

import numpy as np

from .keras_model import keras_loss


class KerasAttackEngine:
    """Forward, loss and gradient of a wrapped Keras model (see ``TorchAttackEngine``)."""

    framework = "keras"

    def __init__(self, adapter, *, normalize=None, clip=(0.0, 1.0), channel_axis=None, amp=False,
                 cuda_graph=False):
        import keras

        backend = keras.backend.backend()
        if backend != "tensorflow":
            raise TypeError(
                f"model: attacks on Keras models need the TensorFlow backend; this Keras runs on "
                f"{backend!r} (set KERAS_BACKEND=tensorflow, or pass the torch module itself)"
            )
        import tensorflow as tf

        self.tf = tf
        self.adapter = adapter
        self.model = adapter.model
        self.kind = adapter._output_kind()
        self.clip = clip
        self.channel_axis = channel_axis
        dtype = getattr(self.model, "compute_dtype", None) or "float32"
        self.dtype = tf.as_dtype(dtype if dtype in ("float16", "bfloat16", "float32", "float64") else "float32")
        self._norm = None
        if normalize is not None:
            self._norm = (tf.constant(np.asarray(normalize[0]), dtype=self.dtype),
                          tf.constant(np.asarray(normalize[1]), dtype=self.dtype))
        self._grad_ce = tf.function(self._grad_ce_eager, reduce_retracing=True)
        self._grad_margin = tf.function(self._grad_margin_eager, reduce_retracing=True)
        self._forward_fn = tf.function(self.forward, reduce_retracing=True)

    # -- conversions ------------------------------------------------------------------------------
    def to_native(self, x: np.ndarray):
        return self.tf.convert_to_tensor(np.asarray(x), dtype=self.dtype)

    def labels(self, y: np.ndarray):
        return self.tf.convert_to_tensor(np.asarray(y, dtype=np.int64))

    @staticmethod
    def to_numpy(t) -> np.ndarray:
        return np.asarray(t.numpy())

    def generator(self, seed: int):
        return self.tf.random.Generator.from_seed(int(seed))

    def prepare(self):
        """Nothing to switch: every call runs with ``training=False`` and no weight is watched."""

    # -- model ------------------------------------------------------------------------------------
    def forward(self, x):
        if self._norm is not None:
            x = (x - self._norm[0]) / self._norm[1]
        return self.model(x, training=False)

    def log_probs(self, out):
        tf = self.tf
        out = tf.cast(out, tf.float32)
        if out.shape[-1] == 1:
            z = tf.reshape(out, [-1, 1])
            if self.kind == "probs":
                p = tf.clip_by_value(z, 1e-12, 1 - 1e-12)
                z = tf.math.log(p) - tf.math.log(1 - p)
            return tf.nn.log_softmax(tf.concat([tf.zeros_like(z), z], axis=1), axis=1)
        if self.kind == "probs":
            return tf.math.log(tf.clip_by_value(out, 1e-12, 1.0))
        if self.kind == "log_probs":
            return out
        return tf.nn.log_softmax(out, axis=1)

    def predict_proba(self, x, batch_size: int) -> np.ndarray:
        chunks = []
        for start in range(0, int(x.shape[0]), batch_size):
            out = self._forward_fn(x[start:start + batch_size])
            chunks.append(np.exp(self.log_probs(out).numpy()))
        return np.concatenate(chunks).astype(np.float64)

    def _grad_ce_eager(self, adv, y):
        tf = self.tf
        with tf.GradientTape() as tape:
            tape.watch(adv)
            cost = tf.reduce_mean(keras_loss(self.forward(adv), y, self.kind))
        return tape.gradient(cost, adv)

    def _margin(self, out, y):
        tf = self.tf
        logp = self.log_probs(out)
        k = tf.shape(logp)[1]
        onehot = tf.one_hot(y, k, on_value=True, off_value=False)
        true = tf.reduce_sum(tf.where(onehot, logp, tf.zeros_like(logp)), axis=1)
        other = tf.reduce_max(tf.where(onehot, tf.fill(tf.shape(logp), -np.inf), logp), axis=1)
        return true - other

    def _grad_margin_eager(self, adv, y):
        tf = self.tf
        with tf.GradientTape() as tape:
            tape.watch(adv)
            margin = self._margin(self.forward(adv), y)
            total = tf.reduce_sum(margin)
        return margin, tape.gradient(total, adv)

    def _clamp(self, t):
        if self.clip is None:
            return t
        return self.tf.clip_by_value(t, self.clip[0], self.clip[1])

    # -- FGSM / PGD ---------------------------------------------------------------------------------
    def fgsm(self, x, y, eps: float):
        grad = self._grad_ce(x, y)
        return self._clamp(x + eps * self.tf.sign(grad))

    def random_start(self, x, eps: float, norm: str, gen):
        tf = self.tf
        if norm == "linf":
            return self._clamp(x + gen.uniform(tf.shape(x), -eps, eps, dtype=self.dtype))
        delta = gen.normal(tf.shape(x), dtype=self.dtype)
        n = tf.norm(tf.reshape(delta, [tf.shape(x)[0], -1]), axis=1)
        r = gen.uniform(tf.shape(n), 0, 1, dtype=self.dtype)
        scale = tf.reshape(r / n * eps, [-1] + [1] * (len(x.shape) - 1))
        return self._clamp(x + delta * scale)

    def pgd_step(self, adv, x, y, eps: float, alpha: float, norm: str):
        tf = self.tf
        grad = self._grad_ce(adv, y)
        shape = [-1] + [1] * (len(x.shape) - 1)
        if norm == "linf":
            adv = adv + alpha * tf.sign(grad)
            delta = tf.clip_by_value(adv - x, -eps, eps)
        else:
            n = tf.shape(x)[0]
            grad_norms = tf.norm(tf.reshape(grad, [n, -1]), axis=1) + 1e-10
            adv = adv + alpha * (grad / tf.reshape(grad_norms, shape))
            delta = adv - x
            delta_norms = tf.norm(tf.reshape(delta, [n, -1]), axis=1)
            factor = tf.minimum(eps / delta_norms, tf.ones_like(delta_norms))
            delta = delta * tf.reshape(factor, shape)
        return self._clamp(x + delta)

    def pgd(self, x, y, eps, alpha, steps, norm, random_start, gen):
        adv = self.random_start(x, eps, norm, gen) if random_start else self.tf.identity(x)
        for _ in range(steps):
            adv = self.pgd_step(adv, x, y, eps, alpha, norm)
        return adv

    # -- fewest pixels (L0) ---------------------------------------------------------------------
    def _to_npc(self, t):
        tf = self.tf
        n = tf.shape(t)[0]
        if self.channel_axis is None:
            return tf.reshape(t, [n, -1, 1])
        ndim = len(t.shape)
        axis = self.channel_axis + 1
        perm = [i for i in range(ndim) if i != axis] + [axis]
        return tf.reshape(tf.transpose(t, perm), [n, -1, t.shape[axis]])

    def _from_npc(self, t, like):
        tf = self.tf
        if self.channel_axis is None:
            return tf.reshape(t, tf.shape(like))
        ndim = len(like.shape)
        axis = self.channel_axis + 1
        perm = [i for i in range(ndim) if i != axis] + [axis]
        moved = tf.reshape(t, [like.shape[i] if i > 0 else tf.shape(like)[0] for i in perm])
        inverse = [perm.index(i) for i in range(ndim)]
        return tf.transpose(moved, inverse)

    def pixels(self, x, y, budget: int, per_step: int, lo: float, hi: float):
        """Greedy saliency search, as ``TorchAttackEngine.pixels``."""
        tf = self.tf
        n = int(x.shape[0])
        adv = x
        xv = self._to_npc(x)
        n_pix = int(xv.shape[1])
        used = tf.zeros((n, n_pix), dtype=tf.bool)
        order = tf.fill((n, n_pix), tf.constant(-1, tf.int64))
        count = tf.zeros((n,), dtype=tf.int64)
        done = tf.zeros((n,), dtype=tf.bool)
        rounds = math.ceil(budget / per_step)
        k = min(per_step, n_pix)
        for it in range(rounds + 1):
            margin, grad = self._grad_margin(adv, y)
            done = done | (margin < 0)
            active = tf.logical_not(done) & (count < budget)
            if it == rounds or not bool(tf.reduce_any(active)):
                break
            g = self._to_npc(grad)
            av = self._to_npc(adv)
            target = tf.where(g > 0, tf.fill(tf.shape(av), tf.cast(lo, av.dtype)),
                              tf.fill(tf.shape(av), tf.cast(hi, av.dtype)))
            gain = tf.reduce_sum((target - av) * g, axis=-1)
            gain = tf.where(used, tf.fill(tf.shape(gain), tf.cast(np.inf, gain.dtype)), gain)
            idx = tf.math.top_k(-gain, k=k).indices  # (n, k)
            onehot = tf.one_hot(idx, n_pix, dtype=tf.int64)  # (n, k, P)
            sel = tf.reduce_max(onehot, axis=1) > 0
            rank = tf.reduce_sum(onehot * tf.range(k, dtype=tf.int64)[None, :, None], axis=1)
            room = tf.maximum(budget - count, 0)
            sel = sel & active[:, None] & (rank < room[:, None]) & tf.logical_not(used)
            order = tf.where(sel, count[:, None] + rank, order)
            adv = self._from_npc(tf.where(sel[..., None], target, av), adv)
            used = used | sel
            count = count + tf.reduce_sum(tf.cast(sel, tf.int64), axis=1)
        for j in range(int(tf.reduce_max(count)) if n else 0):
            cand = (order == j) & done[:, None]
            if not bool(tf.reduce_any(cand)):
                continue
            av = self._to_npc(adv)
            trial = self._from_npc(tf.where(cand[..., None], xv, av), adv)
            still = self._margin(self._forward_fn(trial), y) < 0
            keep = cand & still[:, None]
            adv = self._from_npc(tf.where(keep[..., None], xv, av), adv)
        changed = tf.reduce_sum(tf.cast(tf.reduce_any(self._to_npc(adv) != xv, axis=-1), tf.int64), axis=1)
        pixels = tf.where(done, changed, tf.fill(tf.shape(changed), tf.constant(budget + 1, tf.int64)))
        return adv, pixels
