#!/usr/bin/env bash
# Regenerates Sources/OnnxProto/onnx/onnx.pb.swift from proto/onnx/onnx.proto (ONNX's own
# message definitions, Apache-2.0, taken from the onnx 1.23.2 wheel). Run only when the proto
# changes; the output is committed, so builds need neither protoc nor the plugin.
# Needs protoc (Debian's protobuf-compiler) and swift-protobuf's plugin of the version that
# Package.swift pins (1.39.0): the generated code checks ProtobufAPIVersion_2.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product protoc-gen-swift
protoc --plugin=protoc-gen-swift=.build/debug/protoc-gen-swift --swift_out=Sources/OnnxProto \
  --swift_opt=Visibility=Public -I proto proto/onnx/onnx.proto
