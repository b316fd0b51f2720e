#!/usr/bin/env bash
# Runs, on a GPU machine from the repository root, the checks of the
# TensorRT backend that NVIDIA's real library allows without a builder:
# with the payload `tools/gpu/pack.sh tensorrt` made in .devpayload/, the
# lean runtimes of TensorRT 10.x and 11.x (PyPI wheels) are created on the
# GPU through the Go ILogger and the slot tables (TestRealRuntime), the
# wheel tests run, and int8cal doctor and --backend tensorrt report what a
# lean runtime can do. Everything goes to $OUT/log.txt.
set -uo pipefail
OUT=${OUT:-/tmp/int8cal-trt}
. tools/gpu/payload.sh
xz -dc "$P/trtlibs.tar.xz" | tar -xf -
step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
step "real TensorRT runtimes on the GPU (loader/tensorrt/abi TestRealRuntime)"
(cd loader/tensorrt/abi && "$B/abi.test" -test.run 'TestRealRuntime' -test.v -test.count=1)
step "wheel tests (loader/tensorrt)"
(cd loader/tensorrt && "$B/tensorrt.test" -test.run 'Wheel|Real' -test.v -test.count=1)
for lib in .trtlibs/*/tensorrt_lean_libs/libnvinfer_lean.so.*; do
  step "int8cal doctor, INT8CAL_TENSORRT_LIB=$lib"
  INT8CAL_TENSORRT_LIB=$lib "$B/int8cal" doctor
  step "int8cal run --backend tensorrt --tensorrt-lib $lib (a lean runtime cannot build)"
  "$B/int8cal" run --backend tensorrt --tensorrt-lib "$lib" --precision fp32 --score 2
  echo "exit $?"
done
