#!/usr/bin/env python3
"""Writes the ONNX whole-model fixtures of Tests/OnnxTests/Fixtures.

Small PyTorch models for 1x28x28 inputs (Fashion-MNIST's shape) and 10 classes, exported to
ONNX with a dynamic batch axis, each with a batch of inputs, PyTorch's logits, onnxruntime's
logits, and the input gradient of a fixed projection of the logits (sum of logits * weights),
all as ONNX TensorProto files (the layout of ONNX's own test cases):

  <name>/model.onnx, input.pb, logits.pb, onnxruntime_logits.pb, projection.pb, input_gradient.pb

Models: a residual network with batch norm, a ViT (class token, position embedding, layer norm,
erf GELU, attention), and a depthwise-separable network (groups = channels, ReLU6, hard-swish).
Each is exported twice where the exporters differ: by TorchScript (opset 17, Shape/Gather/
Concat chains for the batch) and by torch.export (opset 18).

Needs torch, onnx, onnxruntime and onnxscript from PyPI (only here, never in CI):
  pip install torch onnx onnxruntime onnxscript
Run from the repository root: python3 scripts/make_onnx_fixtures.py
"""
import os

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

OUT = "Tests/OnnxTests/Fixtures"


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attention = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        attention = attention.softmax(dim=-1)
        x = (attention @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SmallViT(nn.Module):
    def __init__(self, dim=32, depth=2, heads=2, patch=7):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (28 // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class DepthwiseSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.pointwise = nn.Sequential(nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU6())
        self.dilated = nn.Conv2d(24, 24, 3, 1, 2, dilation=2, groups=24)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(24, 10))

    def forward(self, x):
        x = self.pointwise(self.depthwise(self.stem(x)))
        x = F.hardsigmoid(self.dilated(x)) * x
        return self.classifier(self.pool(x))


def randomize_batch_norm(model, generator):
    """Running statistics and affine parameters away from their initial 0/1, so the fixture tests them."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.num_features, generator=generator) * 0.1)


def save(tensor, path):
    array = tensor.detach().numpy() if isinstance(tensor, torch.Tensor) else tensor
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32)).SerializeToString())


def export(name, model, dynamo):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    model.eval()
    generator = torch.Generator().manual_seed(7)
    x = torch.rand(4, 1, 28, 28, generator=generator)
    path = os.path.join(folder, "model.onnx")
    if dynamo:
        batch = torch.export.Dim("batch", min=1, max=1024)
        torch.onnx.export(model, (x,), path, input_names=["image"], output_names=["logits"], dynamo=True,
                          dynamic_shapes={"x": {0: batch}}, opset_version=18, external_data=False)
    else:
        torch.onnx.export(model, (x,), path, input_names=["image"], output_names=["logits"], dynamo=False,
                          opset_version=17, dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    projection = torch.randn(logits.shape, generator=generator)
    (logits * projection).sum().backward()
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_logits = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    save(x, os.path.join(folder, "input.pb"))
    save(logits, os.path.join(folder, "logits.pb"))
    save(ort_logits, os.path.join(folder, "onnxruntime_logits.pb"))
    save(projection, os.path.join(folder, "projection.pb"))
    save(xg.grad, os.path.join(folder, "input_gradient.pb"))
    ops = sorted({node.op_type for node in onnx.load(path).graph.node})
    print(f"{name}: {os.path.getsize(path)} bytes, opset {onnx.load(path).opset_import[0].version}, "
          f"|torch - ort| = {np.abs(logits.detach().numpy() - ort_logits).max():.2e}, ops {ops}")


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    resnet = SmallResNet()
    randomize_batch_norm(resnet, generator)
    vit = SmallViT()
    separable = DepthwiseSeparable()
    randomize_batch_norm(separable, generator)
    for name, model in [("resnet", resnet), ("vit", vit), ("separable", separable)]:
        export(name + "-opset17", model, dynamo=False)
        export(name + "-opset18", model, dynamo=True)


if __name__ == "__main__":
    main()
