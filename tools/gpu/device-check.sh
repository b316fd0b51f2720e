#!/usr/bin/env bash
# Runs int8cal's GPU checks on a GPU machine from the repository root, with
# the payload pack.sh made in .devpayload/: the cuda package's tests and
# benchmarks, int8cal doctor, the sample on the cuda and cpu backends,
# calibration tables from GPU and CPU statistics, ResNet-20 on CIFAR-10 in
# every precision on both backends, and PyTorch beside us
# (torch_bench.py). Everything goes to $OUT/log.txt (and the tables to
# $OUT). With the argument "gpu-only" the cpu backend's runs are left out.
# TESTS, when set, is the -test.run pattern of the cuda package's tests;
# SKIP lists steps to leave out (convs8: the conv_s8 kernels alone, run:
# BenchmarkRun), and SAMPLES is how many times the sample runs on the
# cuda backend (default 1).
set -uo pipefail
mode=${1:-all}
OUT=${OUT:-/tmp/int8cal-gpu}
. tools/gpu/payload.sh
mkdir -p data/mnist /tmp/cifar
for f in "$P"/*-ubyte.gz; do [ -e "$f" ] && gunzip -c "$f" > "data/mnist/$(basename "$f" .gz)"; done
for f in "$P"/*-ubyte.xz; do [ -e "$f" ] && xz -dc "$f" > "data/mnist/$(basename "$f" .xz)"; done
if [ -f "$P/cifar10_test_x.npy.xz" ]; then
  xz -dc "$P/cifar10_test_x.npy.xz" > /tmp/cifar/cifar10_test_x.npy
  cp "$P"/cifar10_test_y.npy "$P"/cifar10_calib_*.npy /tmp/cifar/
fi
want() { [[ " ${SKIP:-} " != *" $1 "* ]]; }
step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
ldconfig -p | grep -E 'libcuda\.so|libnvrtc\.so|libcublasLt\.so' || true
ls /usr/local/cuda/lib64 2>/dev/null | grep -E '^lib(nvrtc|cublasLt)\.so' || true
step doctor
"$B/int8cal" doctor
step "cuda package tests"
(cd core/cuda && "$B/cuda.test" -test.v -test.count=1 -test.run "${TESTS:-.}" 2>&1 | grep -v '^=== RUN')
step "throughput (input on the GPU)"
(cd core/cuda && "$B/cuda.test" -test.run '^$' -test.bench Throughput -test.benchtime 2s -test.v | grep -v '^=== RUN')
if want convs8; then
  step "conv_s8 kernels alone on ResNet-20's stages (batch 256)"
  (cd core/cuda && "$B/cuda.test" -test.run '^$' -test.bench 'ConvS8/.*/.*k1/full' -test.benchtime 200x | grep -v '^=== RUN')
fi
if want run; then
  step "Run, host transfers included (LeNet b32)"
  (cd core/cuda && "$B/cuda.test" -test.run '^$' -test.bench 'BenchmarkRun$' -test.benchtime 2s -test.count 3 | grep -v '^=== RUN')
fi
step "PyTorch on the same GPU"
python3 tools/gpu/torch_bench.py --seconds 2 || true
for i in $(seq "${SAMPLES:-1}"); do
  step "sample: LeNet, cuda backend ($i)"
  cache="$OUT/CalibrationTable_lenet_cuda"
  [ "$i" = 1 ] || cache=/tmp/CalibrationTable_lenet_cuda_$i # each run calibrates afresh
  "$B/int8cal" run --backend cuda --plugin-dir "$B" --cache "$cache"
done
if [ "$mode" != gpu-only ]; then
step "sample: LeNet, cpu backend"
"$B/int8cal" run --backend cpu --plugin-dir "$B" --cache "$OUT/CalibrationTable_lenet_cpu"
step "LeNet calibration tables: GPU vs CPU statistics"
diff "$OUT/CalibrationTable_lenet_cuda" "$OUT/CalibrationTable_lenet_cpu" && echo "identical"
fi
if [ -f /tmp/cifar/cifar10_test_x.npy ]; then
  norm=(--eval-opt scale=1/255 --eval-opt mean=0.485,0.456,0.406 --eval-opt std=0.229,0.224,0.225)
  cnorm=(--cal-opt scale=1/255 --cal-opt mean=0.485,0.456,0.406 --cal-opt std=0.229,0.224,0.225)
  backends="cuda cpu"
  [ "$mode" = gpu-only ] && backends=cuda
  for backend in $backends; do
    step "ResNet-20 on CIFAR-10, $backend backend"
    "$B/int8cal" run --backend "$backend" --plugin-dir "$B" --model testdata/models/resnet20.onnx \
      --batch 100 --start 0 --score 100 --log-level warn \
      --eval-data npy --eval-opt x=/tmp/cifar/cifar10_test_x.npy --eval-opt y=/tmp/cifar/cifar10_test_y.npy "${norm[@]}" \
      --cal-data npy --cal-opt x=/tmp/cifar/cifar10_calib_x.npy --cal-opt y=/tmp/cifar/cifar10_calib_y.npy "${cnorm[@]}" \
      --cache "$OUT/CalibrationTable_resnet20_$backend"
  done
  [ "$mode" = gpu-only ] || step "ResNet-20 calibration tables: GPU vs CPU statistics"
  [ "$mode" = gpu-only ] || diff "$OUT/CalibrationTable_resnet20_cuda" "$OUT/CalibrationTable_resnet20_cpu" && echo "identical"
fi
