"""Capacity of a 152-layer ResNet (bottleneck blocks 3-8-36-3) against ``torchinfo.summary``.

Both walk the same model once on the same input size: torchinfo with forward hooks, nbdebug
through its layer graph (torch.fx trace plus shape propagation) and the capacity rules. One run
each, after one warm-up of both (imports, allocator); prints one summary line with the ratio
(nbdebug time / torchinfo time; below 1 means nbdebug is faster).

    PYTHONPATH=. python benchmarks/bench_capacity.py [--size 64]
"""
from __future__ import annotations

import argparse
import time


def resnet152(num_classes: int = 1000):
    """ResNet-152 as in He et al. (torchvision's layout), built here: torchvision is not needed."""
    import torch.nn as nn

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, cin, width, stride=1):
            super().__init__()
            cout = width * self.expansion
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + identity)

    class ResNet(nn.Module):
        def __init__(self, blocks=(3, 8, 36, 3)):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            stages, cin = [], 64
            for i, n in enumerate(blocks):
                width = 64 * 2 ** i
                layers = []
                for j in range(n):
                    layers.append(Bottleneck(cin, width, stride=2 if (j == 0 and i > 0) else 1))
                    cin = width * 4
                stages.append(nn.Sequential(*layers))
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="input height and width (default 64)")
    args = parser.parse_args()
    import torch
    import torchinfo

    import nbdebug as nd

    torch.set_num_threads(2)
    model = resnet152()
    shape = (3, args.size, args.size)
    n_conv = sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in model.modules())

    def run_torchinfo():
        return torchinfo.summary(model, input_size=(1, *shape), verbose=0)

    def run_nbdebug():
        return nd.capacity(model, input_shape=shape)

    run_torchinfo(), run_nbdebug()  # warm-up: imports, first-call caches
    t0 = time.perf_counter()
    info = run_torchinfo()
    t_info = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = run_nbdebug()
    t_nbd = time.perf_counter() - t0
    assert rep.n_params == info.trainable_params, (rep.n_params, info.trainable_params)
    print(
        f"capacity ResNet-152 ({n_conv} conv/linear layers, {len(rep.layers)} graph nodes, {rep.n_params:,} params, "
        f"input {shape}): nbdebug {t_nbd:.3f} s ({rep.total_bits:,} bits) vs torchinfo.summary {t_info:.3f} s "
        f"-> ratio {t_nbd / t_info:.2f}x"
    )


if __name__ == "__main__":
    main()
