#!/usr/bin/env python3
"""Runs models written by `gauntlet export` (or by ExportTests with GAUNTLET_EXPORT_DIR set) in
onnxruntime and compares with Gauntlet's outputs.

Each folder under DIR holds model.onnx, input.pb and Gauntlet's output.pb (TensorProtos).
The model must pass onnx's full checker (shape inference included) and give Gauntlet's outputs
within 1e-5 · max(1, max |output|). Needs `pip install onnx onnxruntime numpy`; a cross-check
for developers, not part of CI.

    GAUNTLET_EXPORT_DIR=/tmp/exported swift test --filter ExportTests
    python3 scripts/check_onnx_export.py /tmp/exported
"""
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime
from onnx import numpy_helper


def tensor(path):
    proto = onnx.TensorProto()
    proto.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(proto)


def main(root):
    failures = 0
    folders = sorted(p.parent for p in pathlib.Path(root).glob("*/model.onnx"))
    if not folders:
        sys.exit(f"{root}: no */model.onnx")
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}")
    for folder in folders:
        model = onnx.load(str(folder / "model.onnx"))
        onnx.checker.check_model(model, full_check=True)
        session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
        x = tensor(folder / "input.pb")
        expected = tensor(folder / "output.pb")
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        difference = float(np.abs(got - expected).max())
        bound = 1e-5 * max(1.0, float(np.abs(expected).max()))
        ok = got.shape == expected.shape and difference <= bound
        failures += not ok
        print(f"{folder.name:16s} opset {model.opset_import[0].version}  {len(model.graph.node):4d} nodes  "
              f"max |onnxruntime - gauntlet| = {difference:.2e} (bound {bound:.1e})  {'ok' if ok else 'FAILED'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/exported")
