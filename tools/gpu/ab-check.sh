#!/usr/bin/env bash
# Compares a change to the cuda backend with the commit before it in one
# device run, from the repository root on a GPU machine: .devpayload/
# holds the lean payload of the change (tools/gpu/pack.sh lean) and
# base-cuda.test.xz, the cuda test binary of the baseline (built with
# `go test -c ./core/cuda` from that commit, xz-compressed), and any
# further variants VARIANTS names. It runs the
# change's INT8 exactness tests, then BenchmarkThroughput (INT8, ResNet-20
# b256 and LeNet b32, with the per-kernel profile), BenchmarkRun (LeNet
# b32 INT8, host transfers included) and BenchmarkConvS8 for baseline and
# change in turn, ROUNDS times (default 3), and the sample
# `int8cal run --backend cuda` SAMPLES times (default 3); TESTS is the
# tests' -test.run pattern ('^$': none), CONVS8=0 leaves BenchmarkConvS8
# out and CONVS8PAT chooses its cases (default: every kernel's "full"
# case). Everything goes to $OUT/log.txt.
set -uo pipefail
OUT=${OUT:-/tmp/int8cal-gpu}
. tools/gpu/payload.sh
mkdir -p data/mnist
# VARIANTS: the binaries compared, in turn: cuda is the change (the
# payload's), any other name v the cuda test binary $P/v-cuda.test.xz.
VARIANTS=${VARIANTS:-base cuda}
for v in $VARIANTS; do
  [ "$v" = cuda ] || { xz -dc "$P/$v-cuda.test.xz" > "$B/$v.test" && chmod +x "$B/$v.test"; }
done
for f in "$P"/*-ubyte.xz; do [ -e "$f" ] && xz -dc "$f" > "data/mnist/$(basename "$f" .xz)"; done
step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
step "change: INT8 exactness tests"
(cd core/cuda && "$B/cuda.test" -test.v -test.count=1 -test.run "${TESTS:-TestKernelsCompile|TestINT8|TestRunStaged|TestPrecisionsMatchCPU|TestBatchesAndFusion|TestGolden}" 2>&1 |
  grep -E '^(--- |PASS|FAIL|ok|panic)|(product|cuda)_test.go')
for i in $(seq "${ROUNDS:-3}"); do
  for v in $VARIANTS; do
    step "round $i: $v"
    (cd core/cuda && "$B/$v.test" -test.v -test.run '^$' -test.bench 'Throughput/(resnet20|lenet)/b[0-9]+/INT8$' -test.benchtime 2s 2>&1 | grep -E 'profile|ns/op')
    (cd core/cuda && "$B/$v.test" -test.run '^$' -test.bench 'BenchmarkRun$/lenet/b32/INT8/staged' -test.benchtime 2s 2>&1 | grep ns/op)
  done
done
[ "${CONVS8:-1}" = 0 ] || for v in $VARIANTS; do
  step "conv_s8 alone on ResNet-20's stages (batch 256): $v"
  (cd core/cuda && "$B/$v.test" -test.run '^$' -test.bench "${CONVS8PAT:-ConvS8/.*/.*/full}" -test.benchtime 200x 2>&1 | grep ns/op)
done
for i in $(seq "${SAMPLES:-3}"); do
  step "sample $i: LeNet, cuda backend"
  "$B/int8cal" run --backend cuda --plugin-dir "$B" --cache "/tmp/t_$i" 2>&1 | grep -iE 'run:|averaged|top|accura|&&&&'
done
