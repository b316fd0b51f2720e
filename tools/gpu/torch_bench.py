"""PyTorch beside int8cal's cuda backend on the same GPU, in the same run.

The networks are those of lenet.onnx and resnet20.onnx (batch norm folded
into the convolutions' biases, as in the ONNX files; ResNet-20 with the
option-A shortcut: stride-2 subsampling and zero channel padding), with
random weights: this measures speed only. Inputs stay on the GPU, as in
BenchmarkThroughput. Each network runs eager in FP32 and FP16, and, as
issue 18 asks, in FP16 under torch.compile(mode="max-autotune") (Triton
and cuBLAS kernels autotuned, CUDA graphs): compiled once, warmed up, then
timed like the eager runs. With --graph, the compiled FP16 network is
also compiled with mode="max-autotune-no-cudagraphs" and its call
captured into one CUDA graph that is replayed (max-autotune-graph): the
same autotuned kernels without Python's per-call work, which on a slow
host can bound the compiled runs (BenchmarkThroughput replays a graph
too). --models chooses the networks. Prints one line per configuration:
  torch <model> b<batch> <fp32|fp16> <eager|max-autotune|max-autotune-graph> <images/s>
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.ip1 = nn.Linear(800, 500)
        self.ip2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2)
        x = F.max_pool2d(self.conv2(x), 2)
        x = F.relu(self.ip1(torch.flatten(x, 1)))
        return F.softmax(self.ip2(x), dim=1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.pad = cout - cin
        self.stride = stride

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        s = x
        if self.stride != 1 or self.pad:
            s = x[:, :, ::2, ::2]
            s = F.pad(s, (0, 0, 0, 0, self.pad // 2, self.pad // 2))
        return F.relu(y + s)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                layers.append(Block(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(F.relu(self.conv1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def bench(model, shape, half, seconds, compiled=False):
    dev = torch.device("cuda")
    model = model.to(dev).eval()
    x = torch.rand(*shape, device=dev)
    if half:
        model = model.half().to(memory_format=torch.channels_last)
        x = x.half().to(memory_format=torch.channels_last)
    if compiled:
        began = time.time()
        model = torch.compile(model, mode="max-autotune")
    with torch.inference_mode():
        model(x)
        torch.cuda.synchronize()
        if compiled:
            print(f"# compiled in {time.time() - began:.0f} s", flush=True)
        return timed(lambda: model(x), shape[0], seconds)


def timed(call, batch, seconds):
    """Images a second of call (one batch): 20 calls to warm up, then
    twice as many each round until a round takes seconds."""
    for _ in range(20):
        call()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    n = 50
    while True:
        start.record()
        for _ in range(n):
            call()
        stop.record()
        torch.cuda.synchronize()
        ms = start.elapsed_time(stop)
        if ms >= seconds * 1000:
            return batch * n / (ms / 1000)
        n *= 2


def bench_graph(model, shape, seconds):
    """The FP16 network compiled without CUDA graphs, its call captured
    into one graph (after warming up on a side stream, as capture asks),
    the replays timed as bench times calls."""
    dev = torch.device("cuda")
    model = model.to(dev).eval().half().to(memory_format=torch.channels_last)
    x = torch.rand(*shape, device=dev).half().to(memory_format=torch.channels_last)
    began = time.time()
    model = torch.compile(model, mode="max-autotune-no-cudagraphs")
    with torch.inference_mode():
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(s)
        torch.cuda.synchronize()
        print(f"# compiled in {time.time() - began:.0f} s", flush=True)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            model(x)
        return timed(g.replay, shape[0], seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--no-compile", action="store_true", help="eager runs only")
    ap.add_argument("--graph", action="store_true", help="also the compiled FP16 network replayed from one CUDA graph")
    ap.add_argument("--models", default="lenet,resnet20", help="comma-separated: lenet, resnet20")
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    print("torch", torch.__version__, torch.cuda.get_device_name(), flush=True)
    for name, net, shape in (("lenet", LeNet, (32, 1, 28, 28)), ("resnet20", ResNet20, (256, 3, 32, 32))):
        if name not in args.models.split(","):
            continue
        runs = [(False, False), (True, False)]
        if not args.no_compile:
            runs.append((True, True))
        for half, compiled in runs:
            torch.manual_seed(0)
            ips = bench(net(), shape, half, args.seconds, compiled)
            mode = "max-autotune" if compiled else "eager"
            print(f"torch {name} b{shape[0]} {'fp16' if half else 'fp32'} {mode} {ips:.0f}", flush=True)
        if args.graph and not args.no_compile:
            torch.manual_seed(0)
            try:
                ips = bench_graph(net(), shape, args.seconds)
                print(f"torch {name} b{shape[0]} fp16 max-autotune-graph {ips:.0f}", flush=True)
            except Exception as e:  # a capture PyTorch refuses is reported, not fatal
                print(f"torch {name} b{shape[0]} fp16 max-autotune-graph failed: {e}", flush=True)


if __name__ == "__main__":
    main()
