#!/usr/bin/env bash
# Regenerates the committed protobuf code from Protocol/udf.proto and Protocol/plugin.proto. Run by hand after editing the
# .proto; the build never runs protoc. Needs `apt-get install protobuf-compiler`.
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build-protoc-gen-swift
if [ -z "${PROTOC_GEN_SWIFT:-}" ] && [ ! -x "$scratch/release/protoc-gen-swift" ]; then
  swift build -c release --scratch-path "$scratch" --product protoc-gen-swift
fi
protoc --plugin=protoc-gen-swift="${PROTOC_GEN_SWIFT:-$scratch/release/protoc-gen-swift}" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out=Protocol/Swift/UDFProtocol/Generated -IProtocol Protocol/udf.proto
protoc --python_out=Protocol/python/kapacitor/udf -IProtocol Protocol/udf.proto
protoc --plugin=protoc-gen-swift="${PROTOC_GEN_SWIFT:-$scratch/release/protoc-gen-swift}" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out=Protocol/Swift/PluginProtocol/Generated -IProtocol Protocol/plugin.proto
protoc --python_out=Protocol/python/tock_plugin -IProtocol Protocol/plugin.proto
echo "regenerated: Protocol/Swift/UDFProtocol/Generated/udf.pb.swift Protocol/python/kapacitor/udf/udf_pb2.py"
echo "regenerated: Protocol/Swift/PluginProtocol/Generated/plugin.pb.swift Protocol/python/tock_plugin/plugin_pb2.py"
