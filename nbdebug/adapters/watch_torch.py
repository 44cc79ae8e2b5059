"""The torch recorder behind ``nd.watch``: hooks armed only at recording steps, removed on exit.

Between recording steps the only hook is a forward pre-hook on the model that counts steps. At a
recording step it arms, for that one step:

- a post-accumulate-grad hook on every trainable parameter; the first one to fire queues a
  callback that runs once the backward pass has finished and reduces all gradients at once
  (``torch._foreach_norm`` with p = 1, 2, inf), so the cost does not grow with Python calls;
- (tier "full") forward hooks on the weight-owning layers and on activation modules; an
  activation module whose input is the output of the layer just run (``nn.Linear`` then
  ``nn.ReLU``) gives that layer's activation statistics;
- a copy of the weights, so that the update ratio can be measured after the optimizer's step.

Everything stays on the model's device until the next step starts (or the block exits): then one
``.cpu()`` call brings that step's numbers to numpy.
"""
from __future__ import annotations

import numpy as np

from ..analysis.watch import RELU_FAMILY, STAT_INDEX, Watch, combine_parameter_sums
from .base import layer_category


def _first_tensor(value):
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    if isinstance(value, dict):
        for v in value.values():
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


def activation_stats(t, relu: bool) -> list:
    """Scalar tensors [mean, std, dead fraction or None, NaN count or None, Inf count or None].

    Few kernels per layer: a mean and a 2-norm; the dead fraction only after ReLU-like
    activations; on the CPU, where reading a scalar costs no device sync, NaN/Inf are counted only
    when the mean or std says there are some (on accelerators they are always counted, to avoid a
    sync per layer). Stacked and copied to the host once per step by the caller.
    """
    import torch

    a = t.detach()
    if a.dtype in (torch.float16, torch.bfloat16):
        a = a.float()
    # one pass each with vectorised kernels: torch.std_mean is ~25x slower on the CPU than a mean
    # and a 2-norm; var = E[x^2] - mean^2 in float64 is exact enough for monitoring
    mean = a.mean()
    n = max(a.numel(), 1)
    std = ((torch.linalg.vector_norm(a).double() ** 2 / n - mean.double() ** 2).clamp_min(0)).sqrt()
    dead = nan = inf = None
    if relu and a.dim() > 0 and a.shape[0] > 0:
        flat = a.reshape(a.shape[0], -1) if a.dim() > 1 else a.reshape(-1, 1)
        dead = (flat <= 0).all(dim=0).float().mean()
    if a.device.type != "cpu" or not bool(torch.isfinite(std + mean)):
        nan = torch.isnan(a).sum()
        inf = torch.isinf(a).sum()
    return [mean, std, dead, nan, inf]


class TorchWatch(Watch):
    """:class:`~nbdebug.analysis.watch.Watch` for a ``torch.nn.Module`` (use it as a context manager)."""

    def __init__(self, model, **settings):
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        layers, kinds, modules, params, owner = [], [], [], [], []
        for name, module in model.named_modules():
            own = [p for p in module.parameters(recurse=False) if p.requires_grad]
            if not own:
                continue
            layers.append(name or type(module).__name__)
            kinds.append(type(module).__name__)
            modules.append(module)
            for p in own:
                params.append(p)
                owner.append(len(layers) - 1)
        if not layers:
            raise ValueError("model: has no trainable parameters to watch")
        super().__init__(layers, kinds, framework="torch", **settings)
        self._torch_model = model
        self._modules = modules
        self._params = params
        self._owner = np.asarray(owner, dtype=np.int64)
        self._activation_modules = [m for m in model.modules()
                                    if not list(m.children()) and layer_category(type(m).__name__) == "activation"
                                    and m not in modules]
        self._handles = []        # the step counter (for the whole block)
        self._armed = []          # hooks of the current recording step
        self._pending = None
        self._followed: set = set()

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop(_raising=exc_type is not None)
        return False

    def start(self):
        """Attach the step counter (``with nd.watch(model)`` does this for you)."""
        if self.running:
            return self
        self._handles.append(self._torch_model.register_forward_pre_hook(self._on_forward))
        self.running = True
        self._notify()
        return self

    def stop(self, _raising: bool = False):
        """Read the last recording step and remove every hook (``with`` does this on exit)."""
        try:
            self._finalise()
        except Exception:
            if not _raising:  # never hide the user's own exception behind ours
                raise
        finally:
            self._disarm()
            for handle in self._handles:
                handle.remove()
            self._handles.clear()
            self._pending = None
            self.running = False
            self._notify()

    # -- per step -------------------------------------------------------------------------------
    def _on_forward(self, module, args):
        import torch

        if not torch.is_grad_enabled() or not module.training:
            return  # evaluation passes are not training steps
        self._finalise()
        step = self._next_step()
        if self.is_recording(step):
            self._arm(step)

    def _arm(self, step: int):
        import torch

        with torch.no_grad():
            snapshot = [p.detach().clone() for p in self._params]
        n_layers = len(self.layers)
        self._pending = {"step": step, "snapshot": snapshot, "grad": None, "queued": False,
                         "act": [None] * n_layers, "last": None, "matched": set()}
        if self._armed:  # still armed from the previous (recording) step
            return
        for p in self._params:
            self._armed.append(p.register_post_accumulate_grad_hook(self._on_grad))
        if self.tier == "full":
            for i, m in enumerate(self._modules):
                self._armed.append(m.register_forward_hook(self._layer_hook(i)))
            for m in self._activation_modules:
                self._armed.append(m.register_forward_hook(self._activation_hook(type(m).__name__.lower())))

    def _disarm(self):
        for handle in self._armed:
            handle.remove()
        self._armed.clear()

    def _layer_hook(self, index: int):
        def hook(module, args, output):
            pending = self._pending
            t = _first_tensor(output)
            if pending is None or t is None or not t.is_floating_point():
                return
            # a layer whose output went straight into an activation module last time gets its
            # statistics from that module's hook: skip computing them twice
            if pending["act"][index] is None and index not in self._followed:  # first call only
                pending["act"][index] = activation_stats(t, relu=False)
            pending["last"] = (index, t)
        return hook

    def _activation_hook(self, kind: str):
        relu = kind in RELU_FAMILY

        def hook(module, args, output):
            pending = self._pending
            if pending is None or pending["last"] is None:
                return
            index, produced = pending["last"]
            t = _first_tensor(output)
            if args and args[0] is produced and t is not None:
                pending["act"][index] = activation_stats(t, relu=relu)
                pending["matched"].add(index)
                pending["last"] = None
        return hook

    def _on_grad(self, param):
        import torch

        pending = self._pending
        if pending is None or pending["queued"]:
            return
        pending["queued"] = True
        # runs once the whole backward pass is done, so every gradient is accumulated by then
        torch.autograd.Variable._execution_engine.queue_callback(self._on_backward_end)

    def _on_backward_end(self):
        import torch

        pending = self._pending
        if pending is None:
            return
        with torch.no_grad():
            present = [i for i, p in enumerate(self._params) if p.grad is not None]
            grads = [self._params[i].grad.detach() for i in present]
            if not grads:
                return
            l1 = torch.stack(torch._foreach_norm(grads, 1)).double()
            l2 = torch.stack(torch._foreach_norm(grads, 2)).double()
            linf = torch.stack(torch._foreach_norm(grads, float("inf"))).double()
            # counting NaN/Inf costs a pass per tensor; only do it when a norm says there are some
            if bool(torch.isfinite(l2).all()):
                nan = inf = torch.zeros_like(l2)
            else:
                nan = torch.stack([torch.isnan(g).sum() for g in grads]).double()
                inf = torch.stack([torch.isinf(g).sum() for g in grads]).double()
            pending["grad"] = (present, torch.stack([l1, linf, l2 * l2, nan, inf], dim=1))

    def _finalise(self):
        """Bring the pending recording step's numbers to numpy (after the optimizer's step)."""
        import torch

        pending = self._pending
        if pending is None:
            return
        self._pending = None
        if self.tier == "full":
            self._followed = pending["matched"]
        if not (self.running and self.is_recording(self.step)):
            self._disarm()  # the next step records too: keep the hooks rather than re-register them
        with torch.no_grad():
            now = [p.detach() for p in self._params]
            snap = pending["snapshot"]
            w_sq = torch.stack(torch._foreach_norm(snap, 2)).double() ** 2
            dw_sq = torch.stack(torch._foreach_norm(torch._foreach_sub(now, snap), 2)).double() ** 2
            # every activation scalar of this step, stacked once; absent ones stay NaN
            scalars, where = [], []
            for i, stats in enumerate(pending["act"]):
                for k, value in enumerate(stats or ()):
                    if value is not None:
                        scalars.append(value.double().reshape(()).to(w_sq.device))
                        where.append(i * 5 + k)
            parts = [w_sq, dw_sq]
            if scalars:
                parts.append(torch.stack(scalars))
            if pending["grad"] is not None:
                present, grad = pending["grad"]
                parts.append(grad.to(w_sq.device).reshape(-1))
            flat = torch.cat(parts).cpu().numpy()  # the one device-to-host copy of this step
        n_p, n_l = len(self._params), len(self.layers)
        w_sq, dw_sq = flat[:n_p], flat[n_p:2 * n_p]
        acts = np.full(n_l * 5, np.nan)
        acts[where] = flat[2 * n_p:2 * n_p + len(where)]
        acts = acts.reshape(n_l, 5)
        # counts not taken on the CPU because mean and std were finite are zero
        counted = np.isfinite(acts[:, 0]) & np.isfinite(acts[:, 1])
        acts[counted & np.isnan(acts[:, 3]), 3:] = 0
        sums = np.full((n_p, 8), np.nan)
        sums[:, 5] = w_sq
        sums[:, 6] = dw_sq
        sums[:, 7] = [p.numel() for p in self._params]
        if pending["grad"] is not None:
            sums[np.asarray(present), :5] = flat[2 * n_p + len(where):].reshape(-1, 5)
        values = combine_parameter_sums(self._owner, sums, n_l)
        for k, name in enumerate(("act_mean", "act_std", "dead_fraction", "act_nan", "act_inf")):
            values[:, STAT_INDEX[name]] = acts[:, k]
        self._append(pending["step"], values)


def torch_watch(model, **settings) -> TorchWatch:
    """Build the torch watcher (``nd.watch`` dispatches here for ``nn.Module`` models)."""
    return TorchWatch(model, **settings)
