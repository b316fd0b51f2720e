"""Registers, spills and shared memory of each kernel of core/cuda/kernels.cu.

Compiles the file with NVRTC (through ctypes, the options core/cuda uses)
for the GPU's architecture with ptxas's verbose report, and prints that
report: the first thing to read when a kernel is slower than its memory
traffic says (a register cap that spills, or too few warps per SM).
Usage: python3 tools/gpu/kernel_regs.py [sm_90]
"""
import ctypes
import glob
import os
import site
import sys


def nvrtc():
    names = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]
    for d in site.getsitepackages():
        names += sorted(glob.glob(os.path.join(d, "nvidia", "**", "libnvrtc.so*"), recursive=True))
    for n in names:
        try:
            return ctypes.CDLL(n)
        except OSError:
            pass
    sys.exit("no libnvrtc found")


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "sm_90"
    lib = nvrtc()
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "core", "cuda", "kernels.cu"), "rb").read()
    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), src, b"kernels.cu", 0, None, None):
        sys.exit("nvrtcCreateProgram failed")
    opts = [b"--gpu-architecture=" + arch.encode(), b"--fmad=false", b"-std=c++17", b"--ptxas-options=-v"]
    rc = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    print(log.value.decode(errors="replace"))
    sys.exit(rc)


if __name__ == "__main__":
    main()
