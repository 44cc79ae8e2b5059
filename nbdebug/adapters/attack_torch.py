"""Attack inner loops for torch models: every step stays on the model's device, in torch.

Used by :mod:`nbdebug.analysis.attack`; torch is imported only here. The loops follow
torchattacks 3.3 step for step (same loss, same order of sign / clamp / projection), so that with
the same start they give the same adversarial examples; the random start draws from a
``torch.Generator`` of its own, so the global torch RNG is never touched.
"""
from __future__ import annotations

import math

import numpy as np


class TorchAttackEngine:
    """Forward, loss and gradient of a wrapped torch model, with optional input normalisation.

    Parameters
    ----------
    adapter : nbdebug.adapters.torch_model.TorchModel
    normalize : tuple of (mean, std) arrays or None
        Applied inside the forward pass, so attacks work in the user's value range.
    clip : tuple of float or None
        Valid input range.
    channel_axis : int or None
        Channel axis of one sample (no batch dimension); None when every element is a pixel.
    amp : bool
        bf16 autocast on CUDA (faster; gradient signs may differ from fp32 in rare elements).
    cuda_graph : bool
        Capture one PGD step in a CUDA graph and replay it (CUDA only; same arithmetic as eager).
    """

    framework = "torch"

    def __init__(self, adapter, *, normalize=None, clip=(0.0, 1.0), channel_axis=None, amp=False,
                 cuda_graph=False):
        import torch

        self.torch = torch
        self.adapter = adapter
        self.model = adapter.model
        self.device = adapter.device
        self.dtype = adapter.dtype
        self.kind = adapter._output_kind()
        self.clip = clip
        self.channel_axis = channel_axis
        self.amp = bool(amp) and self.device.type == "cuda"
        self.cuda_graph = bool(cuda_graph) and self.device.type == "cuda"
        self._norm = None
        if normalize is not None:
            mean, std = normalize
            self._norm = (torch.as_tensor(np.asarray(mean), dtype=self.dtype, device=self.device),
                          torch.as_tensor(np.asarray(std), dtype=self.dtype, device=self.device))

    # -- conversions ------------------------------------------------------------------------------
    def to_native(self, x: np.ndarray):
        return self.adapter._to_tensor(x)

    def labels(self, y: np.ndarray):
        return self.torch.as_tensor(np.asarray(y), dtype=self.torch.long, device=self.device)

    @staticmethod
    def to_numpy(t) -> np.ndarray:
        return t.detach().float().cpu().numpy() if t.is_floating_point() else t.detach().cpu().numpy()

    def generator(self, seed: int):
        gen = self.torch.Generator(device=self.device)
        gen.manual_seed(int(seed))
        return gen

    # -- model ------------------------------------------------------------------------------------
    def prepare(self):
        """Eval mode and frozen parameters for the attack (the adapter's guard restores both)."""
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        if self._norm is not None:
            x = (x - self._norm[0]) / self._norm[1]
        if self.amp:
            # no cast cache: it must not outlive a CUDA-graph capture (and the weights are frozen)
            with self.torch.autocast("cuda", dtype=self.torch.bfloat16, cache_enabled=not self.cuda_graph):
                return self.model(x)
        return self.model(x)

    def log_probs(self, out):
        """(n, K) log-probabilities from the model's raw outputs (one sigmoid output → 2 classes)."""
        torch = self.torch
        out = out.float()
        if out.ndim == 1 or out.shape[-1] == 1:
            z = out.reshape(-1, 1)
            if self.kind == "probs":
                z = torch.logit(z.clamp(1e-12, 1 - 1e-12))
            return torch.nn.functional.log_softmax(torch.cat([torch.zeros_like(z), z], dim=1), dim=1)
        if self.kind == "probs":
            return torch.log(out.clamp_min(1e-12))
        if self.kind == "log_probs":
            return out
        return torch.nn.functional.log_softmax(out, dim=1)

    def predict_proba(self, x, batch_size: int) -> np.ndarray:
        torch = self.torch
        chunks = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                chunks.append(self.log_probs(self.forward(x[start:start + batch_size])).exp())
        return self.to_numpy(torch.cat(chunks)).astype(np.float64)

    def _loss_grad(self, adv, y, keep_proba: bool = False):
        """Input gradient of the batch-mean cross-entropy (torchattacks' ``nn.CrossEntropyLoss()``).

        With ``keep_proba`` the probabilities of this forward pass are kept in ``clean_proba``
        (used when ``adv`` is the clean batch, which saves the report one forward pass).
        """
        torch = self.torch
        adv = adv.detach().requires_grad_(True)
        with torch.enable_grad():
            out = self.forward(adv)
            cost = self.adapter.loss_tensor(out, y).mean()
            (grad,) = torch.autograd.grad(cost, adv, retain_graph=False, create_graph=False)
        if keep_proba:
            self.clean_proba = self.to_numpy(self.log_probs(out.detach()).exp()).astype(np.float64)
        return grad

    def _clamp(self, t):
        if self.clip is None:
            return t
        return self.torch.clamp(t, min=self.clip[0], max=self.clip[1])

    # -- FGSM / PGD ---------------------------------------------------------------------------------
    def fgsm(self, x, y, eps: float):
        grad = self._loss_grad(x, y, keep_proba=True)
        return self._clamp(x + eps * grad.sign()).detach()

    def random_start(self, x, eps: float, norm: str, gen):
        """torchattacks' random start, drawn from ``gen``: uniform in the L∞ ball, or for L2 a
        Gaussian direction scaled to a radius ``eps·U(0, 1)``."""
        torch = self.torch
        if norm == "linf":
            return self._clamp(x + torch.empty_like(x).uniform_(-eps, eps, generator=gen)).detach()
        delta = torch.empty_like(x).normal_(generator=gen)
        n = delta.reshape(len(x), -1).norm(p=2, dim=1).reshape(-1, *([1] * (x.ndim - 1)))
        r = torch.zeros_like(n).uniform_(0, 1, generator=gen)
        delta = delta * (r / n * eps)
        return self._clamp(x + delta).detach()

    def pgd_step(self, adv, x, y, eps: float, alpha: float, norm: str, keep_proba: bool = False):
        torch = self.torch
        grad = self._loss_grad(adv, y, keep_proba)
        shape = (-1, *([1] * (x.ndim - 1)))
        if norm == "linf":
            adv = adv.detach() + alpha * grad.sign()
            delta = torch.clamp(adv - x, min=-eps, max=eps)
        else:
            grad_norms = torch.norm(grad.reshape(len(x), -1), p=2, dim=1) + 1e-10
            adv = adv.detach() + alpha * (grad / grad_norms.reshape(shape))
            delta = adv - x
            delta_norms = torch.norm(delta.reshape(len(x), -1), p=2, dim=1)
            factor = torch.min(eps / delta_norms, torch.ones_like(delta_norms))
            delta = delta * factor.reshape(shape)
        return self._clamp(x + delta).detach()

    def pgd(self, x, y, eps, alpha, steps, norm, random_start, gen):
        adv = self.random_start(x, eps, norm, gen) if random_start else x.clone().detach()
        if self.cuda_graph and steps > 1:
            return self._pgd_graphed(adv, x, y, eps, alpha, steps, norm)
        for i in range(steps):
            adv = self.pgd_step(adv, x, y, eps, alpha, norm, keep_proba=(i == 0 and not random_start))
        return adv

    def _pgd_graphed(self, adv, x, y, eps, alpha, steps, norm):
        """Replay one captured PGD step: at 32×32 the loop is bound by kernel launches, and a CUDA
        graph launches the whole forward+backward+projection as one unit. Graphs are kept per
        batch shape and step parameters, so the batches of one call share a capture."""
        torch = self.torch
        key = (tuple(x.shape), x.dtype, float(eps), float(alpha), norm)
        cache = self.__dict__.setdefault("_graphs", {})
        if key not in cache:
            static_adv, static_x, static_y = adv.clone(), x.clone(), y.clone()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):  # warm-up on a side stream, as graph capture requires
                for _ in range(2):
                    self.pgd_step(static_adv, static_x, static_y, eps, alpha, norm)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self.pgd_step(static_adv, static_x, static_y, eps, alpha, norm)
            cache[key] = (graph, static_adv, static_x, static_y, static_out)
        graph, static_adv, static_x, static_y, static_out = cache[key]
        static_x.copy_(x)
        static_y.copy_(y)
        static_adv.copy_(adv)
        for _ in range(steps):
            graph.replay()
            static_adv.copy_(static_out)
        return static_adv.clone()

    # -- fewest pixels (L0) ---------------------------------------------------------------------
    def _to_npc(self, t):
        """(n, P, C) view: pixel positions by channels."""
        if self.channel_axis is None:
            return t.reshape(len(t), -1, 1)
        moved = t.movedim(self.channel_axis + 1, -1)
        return moved.reshape(len(t), -1, moved.shape[-1])

    def _from_npc(self, t, like):
        if self.channel_axis is None:
            return t.reshape(like.shape)
        moved_shape = list(like.movedim(self.channel_axis + 1, -1).shape)
        return t.reshape(moved_shape).movedim(-1, self.channel_axis + 1)

    def _margin(self, out, y):
        """log p(y) − max over other classes of log p; negative once the prediction flips."""
        logp = self.log_probs(out)
        true = logp.gather(1, y[:, None])[:, 0]
        other = logp.scatter(1, y[:, None], float("-inf")).amax(1)
        return true - other

    def pixels(self, x, y, budget: int, per_step: int, lo: float, hi: float):
        """Greedy saliency search for the fewest pixel positions that flip the prediction.

        Each round takes the gradient of the margin, scores every unused pixel position by the
        first-order margin change of setting each of its channels to the range end that lowers
        the margin, and sets the ``per_step`` best positions; a sample stops once its prediction
        flips. A pruning pass then restores changed positions (in the order they were chosen)
        whenever the sample stays misclassified without them.

        Returns the adversarial batch and the number of positions used (``budget`` + 1 for samples
        that did not flip within the budget).
        """
        torch = self.torch
        n = len(x)
        adv = x.clone().detach()
        xv = self._to_npc(x)
        n_pix = xv.shape[1]
        used = torch.zeros((n, n_pix), dtype=torch.bool, device=x.device)
        order = torch.full((n, n_pix), -1, dtype=torch.long, device=x.device)
        count = torch.zeros(n, dtype=torch.long, device=x.device)
        done = torch.zeros(n, dtype=torch.bool, device=x.device)
        rounds = math.ceil(budget / per_step)
        for it in range(rounds + 1):
            a = adv.detach().requires_grad_(True)
            with torch.enable_grad():
                margin = self._margin(self.forward(a), y)
                (grad,) = torch.autograd.grad(margin.sum(), a)
            done = done | (margin.detach() < 0)
            active = ~done & (count < budget)
            if it == rounds or not bool(active.any()):
                break
            g = self._to_npc(grad)
            av = self._to_npc(adv)
            target = torch.where(g > 0, torch.full_like(av, lo), torch.full_like(av, hi))
            gain = ((target - av) * g).sum(-1)
            gain = gain.masked_fill(used, float("inf"))
            k = min(per_step, n_pix)
            idx = torch.topk(-gain, k, dim=1).indices
            sel = torch.zeros_like(used).scatter_(1, idx, True)
            room = (budget - count).clamp_min(0)
            rank = torch.zeros((n, n_pix), dtype=torch.long, device=x.device).scatter_(
                1, idx, torch.arange(k, device=x.device).expand(n, k))
            sel = sel & active[:, None] & (rank < room[:, None]) & ~used
            order = torch.where(sel, count[:, None] + rank, order)
            new = torch.where(sel[..., None], target, av)
            adv = self._from_npc(new, adv).detach()
            used |= sel
            count = count + sel.sum(1)
        # prune: restore changed positions one at a time while the sample stays misclassified
        for j in range(int(count.max().item()) if n else 0):
            pos = (order == j)
            cand_mask = pos & done[:, None]
            if not bool(cand_mask.any()):
                continue
            av = self._to_npc(adv)
            trial = self._from_npc(torch.where(cand_mask[..., None], xv, av), adv)
            with torch.no_grad():
                still = self._margin(self.forward(trial), y) < 0
            keep = cand_mask & still[:, None]
            adv = self._from_npc(torch.where(keep[..., None], xv, av), adv).detach()
        changed = (self._to_npc(adv) != xv).any(-1).sum(1)
        pixels = torch.where(done, changed, torch.full_like(changed, budget + 1))
        return adv, pixels
