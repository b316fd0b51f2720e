#!/usr/bin/env bash
# Same-run comparisons on the GPU machine, from the repository root with
# the payload `tools/gpu/pack.sh bench` made in .devpayload/:
#   the GPU: our BenchmarkThroughput (INT8, input on the GPU, one CUDA
#   graph replay a batch) before and after PyTorch's torch_bench.py
#   --graph (FP16 eager, max-autotune, and max-autotune replayed from one
#   CUDA graph);
#   the host's cores: tools/ort/compare.py --engine-test with our engine
#   beside ONNX Runtime, and with .devpayload/engine_base.test too when
#   it is there (an older build, for a ratio in the same run).
# Everything goes to $OUT/log.txt.
set -uo pipefail
OUT=${OUT:-/tmp/int8cal-gpu}
. tools/gpu/payload.sh
# One -test.bench pattern a model: go test splits a pattern at its slashes,
# so an alternation of paths matches nothing.
ours() {
  for m in resnet20/b256 lenet/b32; do
    (cd core/cuda && "$B/cuda.test" -test.run '^$' -test.bench "Throughput/$m/INT8\$" -test.benchtime 2s -test.count 3 | grep 'images/s')
  done
}
step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
step "int8cal INT8 on the GPU, before PyTorch"
ours
step "PyTorch on the same GPU"
python3 tools/gpu/torch_bench.py --seconds 2 --graph 2>&1 | grep -E '^torch|compiled in'
step "int8cal INT8 on the GPU, after PyTorch"
ours
for t in engine_base engine; do
  [ -x "$B/$t.test" ] || continue
  step "the host's cores: $t.test beside ONNX Runtime"
  python3 tools/ort/compare.py --engine-test "$B/$t.test" --rounds "${ROUNDS:-2}" --seconds 2 --models LeNet,ResNet20 2>&1
done
