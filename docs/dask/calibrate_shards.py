#!/usr/bin/env python3
"""A calibration split into shards run by Dask, then merged.

Each shard is one `int8cal calibrate --shard I/N` run, a Dask task on
whichever worker is free; each writes its statistics file to a directory
that every worker and this script reach (a shared file system on a real
cluster). When every shard is done, `int8cal merge` makes the table: the
bytes one process calibrating on all the data writes. A failed shard is
retried by Dask; its file is written atomically, so a retry simply
replaces it.

    calibrate_shards.py [--scheduler ADDRESS] --shards N --out DIR \\
        [--int8cal PATH] -- CALIBRATE-OPTIONS...

CALIBRATE-OPTIONS are those of `int8cal calibrate` (model, data,
calibrator, batches); the merge gets the model and calibrator from them.
Without --scheduler, a local cluster of N worker processes runs the
shards (as many as there are cores, at most). See
docs/sharded-calibration.md.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile

import dask
from dask.distributed import Client, LocalCluster


def shard(int8cal, index, count, out, options):
    """Runs shard index of count; returns its statistics file."""
    stats = os.path.join(out, f"shard-{index}-of-{count}.stats")
    subprocess.run(
        [int8cal, "calibrate", f"--shard={index}/{count}", f"--stats-out={stats}", "--format=json", *options],
        check=True, stdout=subprocess.PIPE, text=True,
    )
    return stats


def merge_options(options):
    """The options of calibrate that merge takes too (calibrate's options
    all take a value: --name=value or --name value)."""
    keep = {"--model", "--calibrator", "--calibrator-opt", "--cache", "--trt-version", "--plugin-dir", "--datadir"}
    out, i = [], 0
    while i < len(options):
        n = 1 if "=" in options[i] else 2
        if options[i].split("=", 1)[0] in keep:
            out += options[i:i + n]
        i += n
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    p.add_argument("--shards", type=int, required=True)
    p.add_argument("--out", required=True, help="directory for the statistics files, shared by the workers")
    p.add_argument("--int8cal", default="int8cal", help="the int8cal command on the workers")
    p.add_argument("options", nargs=argparse.REMAINDER)
    a = p.parse_args()
    options = a.options[1:] if a.options[:1] == ["--"] else a.options
    os.makedirs(a.out, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if a.scheduler:
            client = stack.enter_context(Client(a.scheduler))
        else:
            # A local cluster, its scratch space removed with it.
            scratch = stack.enter_context(tempfile.TemporaryDirectory())
            stack.enter_context(dask.config.set({"temporary-directory": scratch}))
            workers = max(1, min(a.shards, os.cpu_count() or 1))
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, local_directory=scratch))
            client = stack.enter_context(Client(cluster))
        futures = [client.submit(shard, a.int8cal, i, a.shards, a.out, options, retries=2, pure=False) for i in range(a.shards)]
        files = client.gather(futures)
    merged = subprocess.run(
        [a.int8cal, "merge", "--format=json", *merge_options(options), *files],
        check=True, stdout=subprocess.PIPE, text=True,
    )
    json.dump(json.loads(merged.stdout), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
