# Sourced by the device scripts (ab-check.sh, bench-check.sh,
# device-check.sh, trt-check.sh) from the repository root, after they set
# OUT: everything after it also goes to $OUT/log.txt; the binaries of the
# payload pack.sh made in .devpayload/ (P) are unpacked into B; step
# prints a step's heading.
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
P=$PWD/.devpayload
B=/tmp/int8cal-bin
mkdir -p "$B"
tar -C "$B" -xJf "$P/bin.tar.xz"
step() { echo; echo "=== $*"; }
