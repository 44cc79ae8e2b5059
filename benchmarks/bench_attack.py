"""nbdebug attacks against torchattacks, side by side in one run, as ratios (torchattacks time /
nbdebug time: above 1 means nbdebug is faster).

CPU (always): a digits CNN, batch 512 — PGD-10 and FGSM, both the whole ``nd.attack`` call (numpy in,
report with predictions before/after and PSNR/SSIM out) and the attack loop alone on tensors.
GPU (``--device cuda``, or when CUDA is available): a CIFAR-style ResNet-18 (10 classes) at 32×32,
batch 512, PGD-10 (ε = 8/255, α = 2/255, random start) after a short training on the digits
upscaled to 32×32×3 — torchattacks against nbdebug's loop in fp32, with one PGD step captured in a
CUDA graph, and with the graph plus bf16 autocast; images per second and success rates.

    python benchmarks/bench_attack.py                 # CPU section (and GPU when CUDA is there)
    python benchmarks/bench_attack.py --device cuda   # insist on the GPU section
    python benchmarks/bench_attack.py --gpu-smoke     # the GPU section's code on the CPU, tiny and
                                                      # untrained: checks the script, times nothing
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchattacks

import nbdebug as nd
from nbdebug.adapters import as_model
from nbdebug.analysis.attack import make_engine


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeats):
    """Best of ``repeats`` runs after one warm-up run; returns (seconds, last result)."""
    (t,), (out,) = compare([fn], device, repeats)
    return t, out


def compare(fns, device, repeats):
    """Run the functions round-robin (so load from other processes hits all alike) and keep each
    one's best time; returns (times, last results)."""
    outs = [fn() for fn in fns]  # warm-up
    _sync(device)
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            _sync(device)
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, outs


# -- CPU: digits ------------------------------------------------------------------------------------
def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 16, 10))


def train_full_batch(model, X, y, epochs, lr=1e-2):
    opt = torch.optim.Adam(model.parameters(), lr)
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    for p in model.parameters():
        p.grad = None
    return model.eval()


def cpu_section(repeats):
    torch.manual_seed(0)
    X, y, _ = nd.datasets.digits_images()
    model = train_full_batch(digits_cnn(), torch.tensor(X[:1200]), torch.tensor(y[:1200]), 60)
    x, yy = X[1200:1712].copy(), y[1200:1712].copy()  # batch 512
    xt, yt = torch.tensor(x), torch.tensor(yy)
    rows = []
    cases = [
        ("PGD-10", dict(method="pgd", eps=0.1, alpha=0.025, steps=10, random_start=False),
         lambda: torchattacks.PGD(model, eps=0.1, alpha=0.025, steps=10, random_start=False)),
        ("FGSM", dict(method="fgsm", eps=0.1), lambda: torchattacks.FGSM(model, eps=0.1)),
    ]
    adapter = as_model(model)
    for name, kw, make_ref in cases:
        ref_attack = make_ref()
        engine = make_engine(adapter)

        def loop():
            with adapter.guard():
                engine.prepare()
                if kw["method"] == "fgsm":
                    return engine.fgsm(xt, yt, kw["eps"])
                return engine.pgd(xt, yt, kw["eps"], kw["alpha"], kw["steps"], "linf", False, None)

        (t_ref, t_call, t_loop), (ref, rep, adv) = compare(
            [lambda: ref_attack(xt, yt), lambda: nd.attack(model, x, yy, batch_size=512, **kw), loop],
            torch.device("cpu"), repeats)
        same = np.array_equal(rep.adversarial, ref.numpy()) and torch.equal(adv, ref)
        rows.append((name, t_ref, t_call, t_loop, same, rep.success_rate))
    print("CPU · digits CNN (2 conv + dense), batch 512, torch threads:", torch.get_num_threads())
    print(f"  {'attack':8} {'torchattacks':>13} {'nd.attack':>10} {'ratio':>6} {'loop only':>10} {'ratio':>6}  identical  success")
    for name, t_ref, t_call, t_loop, same, succ in rows:
        print(f"  {name:8} {t_ref * 1e3:10.1f} ms {t_call * 1e3:7.1f} ms {t_ref / t_call:5.2f}× {t_loop * 1e3:7.1f} ms "
              f"{t_ref / t_loop:5.2f}×  {str(same):9}  {succ:.1%}")
    return {name: (t_ref / t_call, t_ref / t_loop, same) for name, t_ref, t_call, t_loop, same, _ in rows}


# -- GPU: ResNet-18 at 32×32 --------------------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


class ResNet18(nn.Module):
    """The CIFAR variant (3×3 stem, no max-pool), 11.2 M parameters."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(512, n_classes)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1).flatten(1))


def digits_32(device):
    X, y, _ = nd.datasets.digits_images()
    t = torch.tensor(X).to(device)
    t = F.interpolate(t, size=32, mode="bilinear", align_corners=False).clamp(0, 1).repeat(1, 3, 1, 1)
    return t, torch.tensor(y).to(device)


def gpu_section(repeats, batch=512, device="cuda", epochs=3):
    device = torch.device(device)
    torch.manual_seed(0)
    X, y = digits_32(device)
    model = ResNet18().to(device)
    opt = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9)
    model.train()
    for epoch in range(epochs):  # 3 take seconds on a GPU: >90 % accuracy on the held-out digits
        perm = torch.randperm(1200, device=device)
        for i in range(0, 1200, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    for p in model.parameters():
        p.grad = None
    xt = X[1200:].repeat(2, 1, 1, 1)[:batch].contiguous()
    yt = y[1200:].repeat(2)[:batch].contiguous()
    with torch.no_grad():
        clean = (model(xt).argmax(1) == yt).float().mean().item()
    eps, alpha, steps = 8 / 255, 2 / 255, 10

    def success(adv):
        with torch.no_grad():
            return (model(adv).argmax(1) != yt).cpu().numpy()

    ref_attack = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=True)
    adapter = as_model(model)
    labels, fns = ["torchattacks"], [lambda: ref_attack(xt, yt)]
    for label, amp, graph in (("nbdebug fp32", False, False), ("nbdebug fp32 + CUDA graph", False, True),
                              ("nbdebug bf16 + CUDA graph", True, True)):
        engine = make_engine(adapter, amp=amp, cuda_graph=graph)

        def loop(engine=engine):
            with adapter.guard():
                engine.prepare()
                return engine.pgd(xt, yt, eps, alpha, steps, "linf", True, engine.generator(0))

        labels.append(label)
        fns.append(loop)
    # the whole user-facing call, numpy in and report out, with the automatic graph path
    x_np, y_np = xt.cpu().numpy(), yt.cpu().numpy()
    labels.append("nd.attack(cuda_graph='auto') whole call")
    fns.append(lambda: nd.attack(model, x_np, y_np, "pgd", eps=eps, alpha=alpha, steps=steps,
                                 batch_size=batch, cuda_graph="auto"))
    times, outs = compare(fns, device, repeats)
    t_ref, ref_success = times[0], success(outs[0])
    results = []
    for label, t, out in zip(labels[1:], times[1:], outs[1:]):
        s = out.success if hasattr(out, "success") else success(out)
        results.append((label, t, s.mean(), (s == ref_success).mean()))
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU smoke run, untrained"
    print(f"GPU · {name} · ResNet-18 (CIFAR), 32×32, batch {batch}, PGD-{steps} "
          f"ε=8/255 α=2/255 random start · clean accuracy {clean:.1%}")
    print(f"  {'variant':42} {'img/s':>9} {'ratio':>6} {'success':>8} {'same flips':>10}")
    print(f"  {'torchattacks.PGD (fp32)':42} {batch / t_ref:9.0f} {1.0:5.2f}× {ref_success.mean():8.1%} {'—':>10}")
    for label, t, s, agree in results:
        print(f"  {label:42} {batch / t:9.0f} {t_ref / t:5.2f}× {s:8.1%} {agree:10.1%}")
    return {label: (t_ref / t, s - ref_success.mean()) for label, t, s, _ in results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--gpu-smoke", action="store_true",
                        help="run only the GPU section, on the CPU, batch 8, untrained (checks the script)")
    args = parser.parse_args()
    if args.gpu_smoke:
        gpu_section(1, batch=8, device="cpu", epochs=0)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    cpu = cpu_section(args.repeats)
    summary = (f"bench_attack: CPU digits batch 512 — PGD-10 {cpu['PGD-10'][0]:.2f}× (loop {cpu['PGD-10'][1]:.2f}×), "
               f"FGSM {cpu['FGSM'][0]:.2f}× (loop {cpu['FGSM'][1]:.2f}×) vs torchattacks, identical adversarials: "
               f"{cpu['PGD-10'][2] and cpu['FGSM'][2]}")
    want_gpu = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if want_gpu:
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: CUDA is not available on this machine")
        gpu = gpu_section(args.repeats)
        best = max(gpu, key=lambda k: gpu[k][0])
        summary += f"; GPU ResNet-18 PGD-10 best {gpu[best][0]:.2f}× ({best}, success {gpu[best][1]:+.1%} vs torchattacks)"
    else:
        summary += "; GPU section skipped (no CUDA)"
    print(summary)


if __name__ == "__main__":
    main()
