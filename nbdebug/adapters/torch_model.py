"""PyTorch model adapter. torch is imported only here, and only when a torch model is wrapped."""
from __future__ import annotations

import operator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .base import LayerNode, ModelAdapter, layer_category, probabilities_from_outputs


def _function_kind(target: Any) -> str:
    if isinstance(target, str):  # call_method: "view", "flatten", ...
        return target
    name = getattr(target, "__name__", None) or type(target).__name__
    return name.strip("_") if name.startswith("__") else name


class TorchModel(ModelAdapter):
    """Adapter for a ``torch.nn.Module``.

    The layer graph comes from ``torch.fx`` symbolic tracing, which sees branches, skip
    connections and functional ops (``x + y``, ``torch.cat``); output shapes from running the
    traced graph once on a zero input in eval mode. Models that fx cannot trace (data-dependent
    control flow) fall back to forward hooks on the leaf modules, which see the modules in call
    order; inbound edges are then found by matching tensors, and a tensor made by an untraced
    functional op is attributed to the previously called module.
    """

    framework = "torch"

    def __init__(self, model, input_shape=None, output="auto", input_dtype=None):
        super().__init__(model, input_shape, output)
        self._input_dtype = input_dtype

    # -- basics ---------------------------------------------------------------------------------
    @property
    def device(self):
        import torch

        for t in self.model.parameters():
            return t.device
        for t in self.model.buffers():
            return t.device
        return torch.device("cpu")

    @property
    def dtype(self):
        import torch

        if self._input_dtype is not None:
            return self._input_dtype
        for t in self.model.parameters():
            if t.is_floating_point():
                return t.dtype
        return torch.float32

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    @property
    def n_params_non_trainable(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if not p.requires_grad)

    def _resolve_input_shape(self) -> tuple:
        if self.input_shape is not None:
            return self.input_shape
        import torch.nn as nn

        for module in self.model.modules():
            if isinstance(module, nn.Linear):
                return (module.in_features,)
            if isinstance(module, nn.Embedding):
                raise ValueError("input_shape: required for models that start with an Embedding (sequence length)")
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase)):
                break
        raise ValueError(
            "input_shape: required for this torch model (its first layer does not fix the input "
            "size); pass the shape of one sample without the batch dimension, e.g. (3, 32, 32)"
        )

    def example_input(self, batch: int = 1):
        """A zero batch of the model's input shape on the model's device."""
        import torch

        shape = (batch, *self._resolve_input_shape())
        return torch.zeros(shape, dtype=self.dtype, device=self.device)

    def _to_tensor(self, x: np.ndarray):
        import torch

        x = np.ascontiguousarray(x)
        if not x.flags.writeable:  # torch cannot share read-only memory: copy instead of warning
            x = x.copy()
        t = torch.as_tensor(x)
        if t.is_floating_point():
            t = t.to(self.dtype)
        return t.to(self.device)

    # -- guard ----------------------------------------------------------------------------------
    @contextmanager
    def guard(self, *, weights: bool = False):
        """Restore train/eval mode, ``requires_grad``, ``.grad``, hooks, device and torch's RNG.

        With ``weights=True`` the parameters and buffers are copied and restored too (costs one
        copy of the model; analyses that only read the model do not need it).
        """
        import torch

        model = self.model
        modules = list(model.modules())
        modes = [m.training for m in modules]
        params = list(model.parameters())
        requires = [p.requires_grad for p in params]
        grads = [p.grad for p in params]
        devices = [p.device for p in params]
        hook_attrs = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                      "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called",
                      "_state_dict_hooks", "_load_state_dict_pre_hooks")
        hooks = [{a: dict(getattr(m, a)) for a in hook_attrs if hasattr(m, a)} for m in modules]
        param_hooks = [dict(p._backward_hooks) if getattr(p, "_backward_hooks", None) else None for p in params]
        state = {k: v.detach().clone() for k, v in model.state_dict().items()} if weights else None
        cpu_rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
        try:
            yield
        finally:
            for m, mode in zip(modules, modes):
                m.training = mode
            for p, req, g, dev in zip(params, requires, grads, devices):
                if p.device != dev:
                    p.data = p.data.to(dev)
                p.requires_grad_(req)
                p.grad = g
            for m, saved in zip(modules, hooks):
                for attr, value in saved.items():
                    current = getattr(m, attr)
                    current.clear()
                    current.update(value)
            for p, saved in zip(params, param_hooks):
                if getattr(p, "_backward_hooks", None) is not None and saved is not None:
                    p._backward_hooks.clear()
                    p._backward_hooks.update(saved)
            if state is not None:
                with torch.no_grad():
                    current = model.state_dict()
                    for k, v in state.items():
                        current[k].copy_(v)
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)

    # -- graph ----------------------------------------------------------------------------------
    def _build_graph(self) -> list[LayerNode]:
        import torch

        try:
            import torch.fx as fx

            traced = fx.symbolic_trace(self.model)
        except Exception:  # data-dependent control flow, unsupported ops, ...
            traced = None
        if traced is not None:
            try:
                nodes = self._fx_nodes(traced)
                self.graph_source = "fx"
                return nodes
            except (ValueError, TypeError):
                raise
            except Exception:
                pass
        self.graph_source = "hooks"
        with torch.no_grad():
            return self._hook_nodes()

    def _fx_nodes(self, traced) -> list[LayerNode]:
        import torch
        from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

        example = self.example_input()
        if not _meta_shapes(traced, example):
            with self.guard(), torch.no_grad():
                self.model.eval()
                ShapeProp(traced).propagate(example)

        def meta_shape(node):
            meta = node.meta.get("tensor_meta")
            # TensorMetadata is itself a NamedTuple: test for it before unwrapping tuple outputs
            while not isinstance(meta, TensorMetadata) and isinstance(meta, (tuple, list)) and meta:
                meta = meta[0]
            if isinstance(meta, TensorMetadata):
                return tuple(int(s) for s in meta.shape[1:])
            return None

        placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
        out: list[LayerNode] = []
        produced: dict = {}  # fx node -> list of layer names it stands for
        calls: dict[str, int] = {}

        def inbound_of(node) -> list[str]:
            names: list[str] = []
            stack = list(node.all_input_nodes)
            for arg in stack:
                for name in produced.get(arg, []):
                    if name not in names:
                        names.append(name)
            return names

        for node in traced.graph.nodes:
            if node.op == "output":
                continue
            if node.op == "placeholder":
                name = "input" if len(placeholders) == 1 else node.name
                shape = tuple(self._resolve_input_shape()) if node is placeholders[0] else (meta_shape(node) or ())
                out.append(LayerNode(name, "Input", 0, shape, [], "input", owner=name))
                produced[node] = [name]
                continue
            if node.op == "get_attr":
                produced[node] = []
                continue
            shape = meta_shape(node)
            if shape is None:  # not a tensor: sizes, shapes, python values
                produced[node] = []
                continue
            if node.op == "call_function" and node.target is operator.getitem and not isinstance(
                node.args[0].meta.get("tensor_meta"), TensorMetadata
            ):
                produced[node] = inbound_of(node)  # element of a tuple output: same producer
                continue
            if node.op == "call_module":
                module = traced.get_submodule(node.target)
                owner = str(node.target)
                kind = type(module).__name__
                trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
                frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
                details = _module_details(module)
            else:
                owner = node.name
                kind = _function_kind(node.target)
                attrs = [a for a in node.all_input_nodes if a.op == "get_attr"]
                tensors = [_fetch_attr(traced, a.target) for a in attrs]
                trainable = sum(t.numel() for t in tensors if isinstance(t, torch.nn.Parameter) and t.requires_grad)
                frozen = sum(t.numel() for t in tensors if isinstance(t, torch.nn.Parameter) and not t.requires_grad)
                details = {}
            index = calls.get(owner, 0)
            calls[owner] = index + 1
            name = owner if index == 0 else f"{owner}#{index + 1}"
            out.append(LayerNode(
                name=name, kind=kind, params=int(trainable if index == 0 else 0), output_shape=shape,
                inbound=inbound_of(node), category=layer_category(kind),
                params_non_trainable=int(frozen if index == 0 else 0), owner=owner, call_index=index,
                details=details,
            ))
            produced[node] = [name]
        return out

    def _hook_nodes(self) -> list[LayerNode]:
        import torch

        model = self.model
        names = {m: n for n, m in model.named_modules()}
        leaves = [m for m in model.modules() if not list(m.children()) and m is not model]
        if not leaves:
            leaves = [model]
        records: list[tuple] = []
        producer: dict[int, tuple] = {}  # id -> (layer name, tensor kept alive so ids are not reused)
        calls: dict[str, int] = {}
        example = self.example_input()
        producer[id(example)] = ("input", example)
        out = [LayerNode("input", "Input", 0, tuple(self._resolve_input_shape()), [], "input", owner="input")]

        def first_tensor(value):
            if isinstance(value, torch.Tensor):
                return value
            if isinstance(value, (tuple, list)):
                for v in value:
                    t = first_tensor(v)
                    if t is not None:
                        return t
            return None

        def hook(module, inputs, output):
            owner = names.get(module, type(module).__name__)
            index = calls.get(owner, 0)
            calls[owner] = index + 1
            name = owner if index == 0 else f"{owner}#{index + 1}"
            inbound = []
            for t in inputs:
                if isinstance(t, torch.Tensor):
                    src = producer[id(t)][0] if id(t) in producer else (records[-1][0] if records else "input")
                    if src not in inbound:
                        inbound.append(src)
            t_out = first_tensor(output)
            if t_out is not None:
                producer[id(t_out)] = (name, t_out)
            shape = tuple(int(s) for s in t_out.shape[1:]) if t_out is not None else ()
            records.append((name, module, owner, index, shape, inbound))

        with self.guard():
            handles = [m.register_forward_hook(hook) for m in leaves]
            try:
                model.eval()
                model(example)
            finally:
                for h in handles:
                    h.remove()
        for name, module, owner, index, shape, inbound in records:
            kind = type(module).__name__
            trainable = sum(p.numel() for p in module.parameters() if p.requires_grad) if index == 0 else 0
            frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad) if index == 0 else 0
            out.append(LayerNode(name, kind, int(trainable), shape, inbound or ["input"], layer_category(kind),
                                 int(frozen), owner, index, _module_details(module)))
        return out

    # -- computation ----------------------------------------------------------------------------
    def _output_kind(self) -> str:
        if self._output != "auto":
            return self._output
        import torch.nn as nn

        last = None
        for module in self.model.modules():
            if not list(module.children()):
                last = module
        if isinstance(last, nn.Softmax):
            return "probs"
        if isinstance(last, nn.LogSoftmax):
            return "log_probs"
        return "logits"

    def _batches(self, n: int, batch_size: int):
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))

    def predict_proba(self, x, *, batch_size=256):
        import torch

        x = np.asarray(x)
        kind = self._output_kind()
        chunks = []
        with self.guard(), torch.no_grad():
            self.model.eval()
            for sl in self._batches(len(x), batch_size):
                out = self.model(self._to_tensor(x[sl]))
                chunks.append(out.float().cpu().numpy())
        return probabilities_from_outputs(np.concatenate(chunks), kind)

    def loss_tensor(self, logits_or_probs, y):
        """Per-sample cross-entropy from the model's raw outputs (torch tensors)."""
        import torch
        import torch.nn.functional as F

        kind = self._output_kind()
        out = logits_or_probs.float()
        if out.ndim == 1 or out.shape[-1] == 1:  # one sigmoid/logit output: binary
            out = out.reshape(-1)
            yf = y.float()
            if kind == "probs":
                return F.binary_cross_entropy(out.clamp(1e-12, 1 - 1e-12), yf, reduction="none")
            return F.binary_cross_entropy_with_logits(out, yf, reduction="none")
        if kind == "probs":
            return F.nll_loss(torch.log(out.clamp_min(1e-12)), y, reduction="none")
        if kind == "log_probs":
            return F.nll_loss(out, y, reduction="none")
        return F.cross_entropy(out, y, reduction="none")

    def loss_input_gradient(self, x, y, *, batch_size=256):
        import torch

        x = np.asarray(x)
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"y: has {len(y)} labels for {len(x)} inputs")
        losses, grads = [], []
        with self.guard(), torch.enable_grad():
            self.model.eval()
            for sl in self._batches(len(x), batch_size):
                xt = self._to_tensor(x[sl]).requires_grad_(True)
                yt = torch.as_tensor(y[sl], dtype=torch.long, device=self.device)
                loss = self.loss_tensor(self.model(xt), yt)
                (grad,) = torch.autograd.grad(loss.sum(), xt)
                losses.append(loss.detach().cpu().numpy())
                grads.append(grad.detach().cpu().numpy())
        return np.concatenate(losses), np.concatenate(grads).astype(x.dtype if x.dtype.kind == "f" else np.float32)

    def activations(self, x, layer, *, batch_size=256):
        import torch

        modules = dict(self.model.named_modules())
        if layer not in modules or layer == "":
            raise ValueError(f"layer: {layer!r} is not a submodule of the model; choose one of {[n for n in modules if n]}")
        captured = []

        def hook(module, inputs, output):
            t = output[0] if isinstance(output, (tuple, list)) else output
            captured.append(t.detach().float().cpu().numpy())

        x = np.asarray(x)
        with self.guard(), torch.no_grad():
            self.model.eval()
            handle = modules[layer].register_forward_hook(hook)
            try:
                for sl in self._batches(len(x), batch_size):
                    self.model(self._to_tensor(x[sl]))
            finally:
                handle.remove()
        return np.concatenate(captured)


def _meta_clone(module):
    """An eval-mode copy of ``module`` whose parameters and buffers are meta tensors (no data).

    Shallow: the user's module, its dictionaries and its tensors are not touched. Hooks are left
    out of the copy so no user hook sees the meta tensors.
    """
    import copy
    from collections import OrderedDict

    import torch

    clone = copy.copy(module)
    clone.__dict__["_parameters"] = {
        k: None if p is None else torch.nn.Parameter(p.detach().to("meta"), requires_grad=p.requires_grad)
        for k, p in module._parameters.items()
    }
    clone.__dict__["_buffers"] = {k: None if b is None else b.detach().to("meta") for k, b in module._buffers.items()}
    clone.__dict__["_modules"] = {k: None if m is None else _meta_clone(m) for k, m in module._modules.items()}
    for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                 "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called"):
        if attr in module.__dict__:
            clone.__dict__[attr] = OrderedDict()
    clone.__dict__["training"] = False
    return clone


def _meta_shapes(traced, example) -> bool:
    """Propagate shapes through ``traced`` on meta tensors: no arithmetic, no activation memory.

    A 150-layer ResNet takes milliseconds instead of a full forward pass. Returns False (and the
    caller runs the real forward pass) when an op has no meta kernel, mixes devices, or depends
    on data.
    """
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    class MetaShapeProp(ShapeProp):
        def call_module(self, target, args, kwargs):
            original = self.fetch_attr(target)
            if isinstance(original, shape_keeping) and args and isinstance(args[0], torch.Tensor):
                # normalisation keeps its input's shape; its meta kernel is a slow Python decomposition
                return torch.empty_like(args[0])
            module = modules.get(target)
            if module is None:
                module = modules[target] = _meta_clone(original)
            return module(*args, **kwargs)

        def get_attr(self, target, args, kwargs):
            value = super().get_attr(target, args, kwargs)
            return value.detach().to("meta") if isinstance(value, torch.Tensor) else value

    nn = torch.nn
    shape_keeping = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)
    modules: dict = {}
    try:
        with torch.no_grad():
            MetaShapeProp(traced).propagate(example.to("meta"))
    except Exception:
        for node in traced.graph.nodes:
            node.meta.pop("tensor_meta", None)
        return False
    return True


def _fetch_attr(root, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _module_details(module) -> dict:
    details = {}
    for attr in ("in_features", "out_features", "in_channels", "out_channels", "kernel_size", "stride",
                 "padding", "num_features", "hidden_size", "num_layers", "embed_dim", "num_heads",
                 "num_embeddings", "embedding_dim", "p"):
        value = getattr(module, attr, None)
        if isinstance(value, (int, float, tuple, str)) and not isinstance(value, bool):
            details[attr] = value
    return details
