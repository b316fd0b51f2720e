#!/usr/bin/env python3
"""Wall time of a sharded calibration against one process (issue 19).

Calibrates ResNet-20 on the CIFAR-10 calibration images (npy plugin,
entropy2) in alternating rounds:

  one process      int8cal calibrate, all cores
  N shards         N `int8cal calibrate --shard I/N` processes at once, each
                   with cores/N workers, then `int8cal merge`

and reports medians: the shards' wall time (start of the first to end of
the last), the merge's, their sum against one process, per-shard fixed
and per-batch costs, and the statistics files' size. Every merged table
is checked byte-identical to the one-process table.

    shard_scaling.py [--cifar ../shared/data/cifar10] [--bin bin] [--shards 1,2,4] [--rounds 3]
"""
import argparse
import filecmp
import glob
import json
import os
import statistics
import subprocess
import tempfile
import time


def run(cmd):
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - began


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cifar", default="../shared/data/cifar10", help="directory of cifar10_calib_x.npy and cifar10_calib_y.npy")
    p.add_argument("--bin", default="bin")
    p.add_argument("--model", default="testdata/models/resnet20.onnx")
    p.add_argument("--shards", default="1,2,4")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batches", type=int, default=20)
    a = p.parse_args()
    if not os.path.exists(os.path.join(a.cifar, "cifar10_calib_x.npy")):
        print(f"shard_scaling: skipped, no CIFAR-10 calibration arrays in {a.cifar} (they live in ../shared beside the clone)")
        return
    cores = os.cpu_count()
    int8cal = os.path.join(a.bin, "int8cal")
    common = [
        "--model", a.model, "--plugin-dir", a.bin, "--calibrator", "entropy2", "--log-level", "error",
        "--cal-data", "npy", "--cal-opt", "x=" + os.path.join(a.cifar, "cifar10_calib_x.npy"),
        "--cal-opt", "y=" + os.path.join(a.cifar, "cifar10_calib_y.npy"), "--cal-opt", "scale=1/255",
        "--cal-opt", "mean=0.485,0.456,0.406", "--cal-opt", "std=0.229,0.224,0.225",
        "--cal-batch", "50", "--cal-batches", str(a.batches),
    ]
    counts = [int(n) for n in a.shards.split(",")]
    times = {"single": [], "fixed": []}
    for n in counts:
        times[n] = {"shards": [], "merge": [], "first": []}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        single = os.path.join(tmp, "single")
        for _ in range(a.rounds):
            if os.path.exists(single):
                os.remove(single)
            times["single"].append(run([int8cal, "calibrate", "--cache", single, "--workers", str(cores), *common]))
            # A calibration of one batch: the fixed cost of a process
            # (start, plugins, model, plan) and one batch.
            one_batch = os.path.join(tmp, "one")
            if os.path.exists(one_batch):
                os.remove(one_batch)
            times["fixed"].append(run([int8cal, "calibrate", "--cache", one_batch, "--workers", str(cores), *common, "--cal-batches", "1"]))
            for n in counts:
                table = os.path.join(tmp, f"table{n}")
                for f in glob.glob(table + "*"):
                    os.remove(f)
                workers = max(1, cores // n)
                began = time.perf_counter()
                procs = [subprocess.Popen([int8cal, "calibrate", "--shard", f"{i}/{n}", "--cache", table, "--workers", str(workers), *common],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(n)]
                ends = []
                for pr in procs:
                    _, err = pr.communicate()
                    ends.append(time.perf_counter() - began)
                    if pr.returncode != 0:
                        raise SystemExit(err.decode())
                times[n]["shards"].append(max(ends))
                times[n]["first"].append(min(ends))
                stats = sorted(glob.glob(table + ".shard-*.stats"))
                sizes[n] = sum(os.path.getsize(f) for f in stats) / n
                times[n]["merge"].append(run([int8cal, "merge", "--cache", table, "--model", a.model, "--plugin-dir", a.bin,
                                              "--calibrator", "entropy2", "--log-level", "error", *stats]))
                if not filecmp.cmp(table, single, shallow=False):
                    raise SystemExit(f"{n} shards: the merged table differs from one process's")
    med = statistics.median
    one = med(times["single"])
    rows = []
    print(f"{cores} cores; {a.batches} batches of 50 images; medians of {a.rounds} rounds; every merged table identical to one process's")
    per_batch = (one - med(times["fixed"])) / (a.batches - 1)
    fixed = med(times["fixed"]) - per_batch
    print(f"one process: {one:.3f} s; of it, fixed (start, plugins, model, plan) {fixed:.3f} s and {per_batch * 1e3:.1f} ms per batch")
    for n in counts:
        t = times[n]
        total = med(t["shards"]) + med(t["merge"])
        rows.append({"shards": n, "shards_s": med(t["shards"]), "merge_s": med(t["merge"]), "total_s": total,
                     "speedup": one / total, "stats_file_bytes": sizes[n]})
        print(f"{n} shards at once ({max(1, cores // n)} workers each): shards {med(t['shards']):.3f} s, merge {med(t['merge']):.3f} s, "
              f"total {total:.3f} s = {one / total:.2f}x one process; {sizes[n] / 1e6:.2f} MB per statistics file")
    print(json.dumps({"single_s": one, "fixed_s": fixed, "per_batch_s": per_batch, "rows": rows}))


if __name__ == "__main__":
    main()
