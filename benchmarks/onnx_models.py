#!/usr/bin/env python3
"""Reference side of the ONNX import benchmark. Exports the CIFAR ResNet-20 (the module the
built-in `resnet` architecture's fixture is written with; random weights, eval mode, batch
norm with random statistics) to benchmarks/onnx/resnet20.onnx with a dynamic batch axis, then
measures on random 28×28 single-channel images with the same threads:

- onnxruntime inference (samples/s at batch 250, CPU execution provider),
- PyTorch inference (samples/s at batch 250, torch.no_grad),
- PyTorch PGD-10 (L∞, ε = 0.03) on 500 images at batch 250, seconds.

    python3 benchmarks/onnx_models.py --threads 2

Gauntlet's side in the same session: gauntlet-bench --experiment benchmarks/onnx-models.yaml
(inference samples/s and PGD step) and gauntlet run benchmarks/onnx-models.yaml (PGD seconds).
Prints one JSON object. Needs torch, onnx, onnxscript and onnxruntime (never Gauntlet's).
"""
import argparse
import json
import os
import sys
import time

import onnxruntime
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_architecture_fixtures import ResNet  # noqa: E402
from pytorch_graph_models import inference_samples_per_second, pgd_seconds  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--test", type=int, default=500)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    model = ResNet(20, 16, 1, 10)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    model.eval()
    images = torch.rand(arguments.images, 1, 28, 28)
    labels = torch.randint(0, 10, (arguments.images,))
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "resnet20.onnx")
    torch.onnx.export(model, (images[:2],), path, input_names=["image"], output_names=["logits"], dynamo=False,
                      opset_version=17, dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = arguments.threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    array = images.numpy()
    session.run(None, {"image": array[:250]})  # warm-up
    start = time.perf_counter()
    for i in range(0, len(array), 250):
        session.run(None, {"image": array[i : i + 250]})
    runtime = len(array) / (time.perf_counter() - start)

    torch_inference = inference_samples_per_second(model, images, 250)
    attack = pgd_seconds(model, images[: arguments.test], labels[: arguments.test], 250)
    print(json.dumps({
        "model": "resnet20 (onnx)", "threads": arguments.threads, "onnxruntime_inference_samples_per_second": runtime,
        "pytorch_inference_samples_per_second": torch_inference, "pytorch_pgd_seconds": attack,
        "onnxruntime_version": onnxruntime.__version__, "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
