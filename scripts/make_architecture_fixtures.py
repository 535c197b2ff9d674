#!/usr/bin/env python3
"""Writes the reference fixtures of Gauntlet's built-in architectures from PyTorch.

    python3 scripts/make_architecture_fixtures.py Tests/RunnerTests/Fixtures/architectures

For each architecture (small widths, so the files stay small): the PyTorch model's state dict
(random weights, batch-norm statistics and affine parameters drawn away from their identity
values) under /state_dict as `models[].weights` reads it, a batch of inputs in [0, 1] (/input),
labels (/labels), the logits in evaluation mode (/logits), and the gradient of the summed
cross-entropy with respect to the input (/input_gradient). The modules below follow the
structure and module names of torchvision's `resnet.ResNet` with `BasicBlock` (ImageNet style;
the CIFAR style changes the stem and the stages as in He et al. 2016, §4.2), of RobustBench's
`wide_resnet.WideResNet`, and of torchvision's `vision_transformer.VisionTransformer`. Needs torch, h5py and NumPy (not a dependency of Gauntlet or its CI).
"""
import os
import sys

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_dict_to_hdf5 import write_state_dict  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, depth, width, channels, classes):
        super().__init__()
        imagenet = depth in (18, 34)
        stages = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}.get(depth, [(depth - 2) // 6] * 3)
        if imagenet:
            self.conv1 = nn.Conv2d(channels, width, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1) if imagenet else nn.Identity()
        inplanes = width
        for index, blocks in enumerate(stages):
            planes = width << index
            layers = []
            for block in range(blocks):
                layers.append(BasicBlock(inplanes, planes, 2 if block == 0 and index > 0 else 1))
                inplanes = planes
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))
        self.stages = len(stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(self.stages):
            x = getattr(self, f"layer{index + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class WideBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride, drop_rate):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.drop_rate = drop_rate
        self.equal = in_planes == out_planes and stride == 1
        self.convShortcut = None if self.equal else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False)

    def forward(self, x):
        activated = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(activated)))
        out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        return (x if self.equal else self.convShortcut(activated)) + out


class Group(nn.Module):
    def __init__(self, blocks, in_planes, out_planes, stride, drop_rate):
        super().__init__()
        self.layer = nn.Sequential(
            *[WideBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1, drop_rate) for i in range(blocks)]
        )

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, channels, classes, drop_rate=0.0):
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.block1 = Group(n, widths[0], widths[1], 1, drop_rate)
        self.block2 = Group(n, widths[1], widths[2], 2, drop_rate)
        self.block3 = Group(n, widths[2], widths[3], 2, drop_rate)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.relu = nn.ReLU()
        self.fc = nn.Linear(widths[3], classes)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class EncoderBlock(nn.Module):
    def __init__(self, heads, dim, mlp_dim, dropout=0.0, attention_dropout=0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(dim, heads, dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, dim), nn.Dropout(dropout))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = self.dropout(y) + x
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    def __init__(self, tokens, depth, heads, dim, mlp_dim, dropout=0.0, attention_dropout=0.0):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(
            OrderedDict((f"encoder_layer_{i}", EncoderBlock(heads, dim, mlp_dim, dropout, attention_dropout)) for i in range(depth))
        )
        self.ln = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    def __init__(self, image, channels, patch, depth, heads, dim, mlp_dim, classes, dropout=0.0, attention_dropout=0.0):
        super().__init__()
        self.patch = patch
        self.conv_proj = nn.Conv2d(channels, dim, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.encoder = Encoder((image // patch) ** 2 + 1, depth, heads, dim, mlp_dim, dropout, attention_dropout)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(dim, classes)))

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x).reshape(n, self.conv_proj.out_channels, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        return self.heads(self.encoder(x)[:, 0])


def perturb_batch_norms(model, generator):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.weight.data = 0.5 + torch.rand(c, generator=generator)
            module.bias.data = 0.1 * torch.randn(c, generator=generator)
            module.running_mean = 0.1 * torch.randn(c, generator=generator)
            module.running_var = 0.5 + torch.rand(c, generator=generator)
            module.num_batches_tracked.fill_(7)


def write(model, name, directory, shape, classes, seed):
    generator = torch.Generator().manual_seed(seed)
    perturb_batch_norms(model, generator)
    model.eval()
    x = torch.rand(shape, generator=generator).requires_grad_(True)
    labels = torch.arange(shape[0]) % classes
    logits = model(x)
    F.cross_entropy(logits, labels, reduction="sum").backward()
    write_state_dict(
        model.state_dict(),
        os.path.join(directory, f"{name}.h5"),
        extra={
            "input": x.detach().numpy(),
            "labels": labels.numpy(),
            "logits": logits.detach().numpy(),
            "input_gradient": x.grad.numpy(),
        },
    )
    print(name, sum(p.numel() for p in model.parameters()), "parameters")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "Tests/RunnerTests/Fixtures/architectures"
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(0)
    write(ResNet(20, 4, 3, 10), "resnet20-width4", directory, (2, 3, 32, 32), 10, 1)
    write(ResNet(18, 4, 3, 10), "resnet18-width4", directory, (2, 3, 32, 32), 10, 2)
    write(WideResNet(10, 1, 3, 10), "wide_resnet10-1", directory, (2, 3, 32, 32), 10, 3)
    vit = VisionTransformer(32, 3, 8, 2, 2, 16, 32, 10)
    with torch.no_grad():
        vit.class_token.normal_(std=0.5)  # zeros at initialisation; not here, so the test sees it
        for block in vit.encoder.layers:
            block.self_attention.in_proj_bias.normal_(std=0.1)
            block.self_attention.out_proj.bias.normal_(std=0.1)
    write(vit, "vit-patch8-dim16-depth2", directory, (2, 3, 32, 32), 10, 4)


if __name__ == "__main__":
    main()
