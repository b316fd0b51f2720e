"""Exports the test zoo of issue 15: small-width variants of the networks
researchers bring (torchvision classifiers, a YOLO-style detector, U-Net,
DeepLabV3, transformer encoders), each with PyTorch's TorchScript exporter
and with dynamo=True, plus ONNX Runtime's outputs on a seeded input as the
golden reference.

Weights are random (seeded; batch-norm statistics randomised too, so that
no layer is an identity): these models check operators, not accuracy.

Writes into --out:
  <name>.<exporter>.onnx
  <name>.input.<i>.npy            the inputs (shared by both exporters)
  <name>.<exporter>.output.<i>.npy ONNX Runtime's outputs
  manifest.json                   per model and exporter: files, input and
                                  output names, opset, status or the error,
                                  and the versions that made them
Run on the GPU machine (CPU is enough): python3 tools/gpu/export_zoo.py --out DIR
"""
import argparse
import json
import os
import sys
import traceback

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import models as tvm
from torchvision.ops.misc import Conv2dNormActivation

SEED = 20261207


def randomise_norms(model):
    """Random running statistics and affine parameters, so that batch norm
    is not an identity in eval mode."""
    g = torch.Generator().manual_seed(SEED)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model


def randomise_zero_weights(model):
    """Random values for weight matrices initialised to zero (torchvision's
    ViT head is), so that every layer reaches the output."""
    g = torch.Generator().manual_seed(SEED + 1)
    for p in model.parameters():
        if p.dim() >= 2 and not p.data.any():
            p.data.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


# --- custom networks -------------------------------------------------------

def conv_bn_silu(cin, cout, k=1, s=1):
    return Conv2dNormActivation(cin, cout, k, s, activation_layer=nn.SiLU)


class C2f(nn.Module):
    """YOLOv8's C2f: split, a chain of bottlenecks, concat."""

    def __init__(self, c, n=1):
        super().__init__()
        self.cv1 = conv_bn_silu(c, c)
        self.m = nn.ModuleList(nn.Sequential(conv_bn_silu(c // 2, c // 2, 3), conv_bn_silu(c // 2, c // 2, 3)) for _ in range(n))
        self.cv2 = conv_bn_silu(c // 2 * (2 + n), c)

    def forward(self, x):
        y = list(self.cv1(x).split(x.shape[1] // 2, dim=1))
        for m in self.m:
            y.append(y[-1] + m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cv1 = conv_bn_silu(c, c // 2)
        self.cv2 = conv_bn_silu(c // 2 * 4, c)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class TinyYOLO(nn.Module):
    """A YOLOv8-style detector: backbone with C2f and SPPF, an FPN neck
    (nearest upsampling, concat), and the anchor-free head decoding boxes
    with DFL (softmax over 8 bins) on anchors made with arange/expand."""

    def __init__(self, nc=4, reg_max=8):
        super().__init__()
        self.nc, self.reg_max = nc, reg_max
        self.stem = nn.Sequential(conv_bn_silu(3, 8, 3, 2), conv_bn_silu(8, 16, 3, 2), C2f(16))
        self.down1 = nn.Sequential(conv_bn_silu(16, 32, 3, 2), C2f(32))
        self.down2 = nn.Sequential(conv_bn_silu(32, 32, 3, 2), SPPF(32))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.neck = C2f(64)
        self.heads = nn.ModuleList(nn.Conv2d(c, 4 * reg_max + nc, 1) for c in (64, 32))
        self.register_buffer("proj", torch.arange(reg_max, dtype=torch.float32))

    def forward(self, x):
        p3 = self.down1(self.stem(x))
        p4 = self.down2(p3)
        n3 = self.neck(torch.cat((self.up(p4), p3), 1))
        outs = []
        for feat, head, stride in ((n3, self.heads[0], 8), (p4, self.heads[1], 16)):
            b, _, h, w = feat.shape
            y = head(feat).flatten(2)  # [b, 4*reg_max+nc, h*w]
            box, cls = y.split((4 * self.reg_max, self.nc), 1)
            box = box.view(b, 4, self.reg_max, h * w).softmax(2)
            dist = (box * self.proj.view(1, 1, -1, 1)).sum(2)  # [b, 4, hw]
            sx = torch.arange(w, dtype=torch.float32) + 0.5
            sy = torch.arange(h, dtype=torch.float32) + 0.5
            ay, ax = torch.meshgrid(sy, sx, indexing="ij")
            anchors = torch.stack((ax, ay)).view(1, 2, h * w).expand(b, 2, h * w)
            lt, rb = dist.split(2, 1)
            xy = (anchors + (rb - lt) / 2) * stride
            wh = (lt + rb) * stride
            outs.append(torch.cat((xy, wh, cls.sigmoid()), 1))
        return torch.cat(outs, 2)


class TinyUNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(Conv2dNormActivation(cin, cout, 3), Conv2dNormActivation(cout, cout, 3))

        self.e1, self.e2, self.e3 = block(3, 8), block(8, 16), block(16, 32)
        self.u2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.d2 = block(32, 16)
        self.u1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.d1 = block(16, 8)
        self.out = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        d2 = self.d2(torch.cat((self.u2(e3), e2), 1))
        d1 = self.d1(torch.cat((self.u1(d2), e1), 1))
        return self.out(d1)


class TinyDeepLab(nn.Module):
    """DeepLabV3: a backbone with dilated convolutions, torchvision's ASPP
    (atrous branches and image pooling) at 32 channels instead of 256, and
    a bilinear resize back to the input size."""

    def __init__(self, classes=4):
        super().__init__()
        self.backbone = nn.Sequential(
            Conv2dNormActivation(3, 16, 3, 2), Conv2dNormActivation(16, 32, 3, 2),
            Conv2dNormActivation(32, 32, 3, dilation=2), Conv2dNormActivation(32, 32, 3, dilation=4))
        self.head = nn.Sequential(
            tvm.segmentation.deeplabv3.ASPP(32, [2, 4, 6], out_channels=32),
            Conv2dNormActivation(32, 32, 3), nn.Conv2d(32, classes, 1))

    def forward(self, x):
        y = self.head(self.backbone(x))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class TinyBERT(nn.Module):
    """A BERT-style encoder: token, position and segment embeddings, an
    additive attention mask from a 0/1 mask input, LayerNorm, GELU."""

    def __init__(self, vocab=100, d=32, heads=4, layers=2, seq=16, classes=3):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.seg = nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d)
        self.heads = heads
        self.layers = nn.ModuleList()
        for _ in range(layers):
            self.layers.append(nn.ModuleDict(dict(
                qkv=nn.Linear(d, 3 * d), out=nn.Linear(d, d), n1=nn.LayerNorm(d),
                ff1=nn.Linear(d, 2 * d), ff2=nn.Linear(2 * d, d), n2=nn.LayerNorm(d))))
        self.pool = nn.Linear(d, d)
        self.cls = nn.Linear(d, classes)

    def forward(self, input_ids, attention_mask):
        b, s = input_ids.shape
        pos = torch.arange(s, dtype=torch.int64).unsqueeze(0).expand(b, s)
        x = self.norm(self.tok(input_ids) + self.pos(pos) + self.seg(torch.zeros_like(input_ids)))
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        d = x.shape[-1]
        hd = d // self.heads
        for l in self.layers:
            q, k, v = l["qkv"](x).split(d, -1)
            q = q.view(b, s, self.heads, hd).transpose(1, 2)
            k = k.view(b, s, self.heads, hd).transpose(1, 2)
            v = v.view(b, s, self.heads, hd).transpose(1, 2)
            att = (q @ k.transpose(-1, -2)) / (hd ** 0.5) + mask
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
            x = l["n1"](x + l["out"](y))
            x = l["n2"](x + l["ff2"](F.gelu(l["ff1"](x))))
        return self.cls(torch.tanh(self.pool(x[:, 0])))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True, dropout=0.0)
        self.enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, x):
        return self.enc(x)


class SmallBottleneck(tvm.resnet.Bottleneck):
    """ResNet-50's block at expansion 1, so that the test model stays small."""
    expansion = 1


def squeezenet_small():
    """SqueezeNet 1.1's layout (fire modules, ceil-mode pooling, a
    convolutional classifier) at a sixteenth of its width."""
    fire = tvm.squeezenet.Fire
    net = tvm.squeezenet1_1(num_classes=10)
    net.features = nn.Sequential(
        nn.Conv2d(3, 16, 3, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        fire(16, 4, 8, 8), fire(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True),
        fire(16, 8, 16, 16), fire(32, 8, 16, 16))
    net.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, 10, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
    return net


def efficientnet_b0_small():
    settings, last = tvm.efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return tvm.EfficientNet(settings, dropout=0.2, num_classes=10, last_channel=last)


def regnet_small():
    params = tvm.regnet.BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=4)
    return tvm.RegNet(params, num_classes=10, stem_width=8)


def convnext_small():
    cfg = tvm.convnext.CNBlockConfig
    return tvm.ConvNeXt([cfg(16, 32, 1), cfg(32, 64, 1), cfg(64, None, 1)], stochastic_depth_prob=0.0, num_classes=10)


def swin_small():
    return tvm.SwinTransformer(patch_size=[2, 2], embed_dim=16, depths=[1, 1], num_heads=[2, 4], window_size=[4, 4],
                               stochastic_depth_prob=0.0, num_classes=10)


def vit_small():
    return tvm.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)


IMAGE = ("input", (2, 3, 32, 32))

# name → (constructor, inputs); every classifier has 10 classes.
ZOO = {
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(num_classes=10, width_mult=0.25), [IMAGE]),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(num_classes=10, width_mult=0.25), [IMAGE]),
    "mobilenet_v3_large": (lambda: tvm.mobilenet_v3_large(num_classes=10, width_mult=0.25), [IMAGE]),
    "efficientnet_b0": (efficientnet_b0_small, [IMAGE]),
    "resnet50": (lambda: tvm.ResNet(SmallBottleneck, [3, 4, 6, 3], num_classes=10, width_per_group=4), [IMAGE]),
    "resnext": (lambda: tvm.ResNet(SmallBottleneck, [1, 1, 1, 1], num_classes=10, groups=4, width_per_group=4), [IMAGE]),
    "regnet": (regnet_small, [IMAGE]),
    "shufflenet_v2": (lambda: tvm.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=10), [IMAGE]),
    "squeezenet": (squeezenet_small, [IMAGE]),
    "densenet": (lambda: tvm.DenseNet(growth_rate=8, block_config=(2, 2, 2), num_init_features=16, num_classes=10), [IMAGE]),
    "convnext_tiny": (convnext_small, [IMAGE]),
    "vit_b_16": (vit_small, [IMAGE]),
    "swin_t": (swin_small, [IMAGE]),
    "yolo": (TinyYOLO, [("images", (2, 3, 64, 64))]),
    "unet": (TinyUNet, [IMAGE]),
    "deeplabv3": (TinyDeepLab, [IMAGE]),
    "transformer_encoder": (Encoder, [("x", (2, 16, 32))]),
    "bert": (TinyBERT, [("input_ids", (2, 16)), ("attention_mask", (2, 16))]),
}


def make_inputs(name, specs):
    rng = np.random.default_rng(SEED + sum(map(ord, name)))
    out = []
    for iname, shape in specs:
        if iname == "input_ids":
            out.append(rng.integers(0, 100, size=shape, dtype=np.int64))
        elif iname == "attention_mask":
            m = np.ones(shape, dtype=np.int64)
            m[1, shape[1] // 2:] = 0  # the second sequence is half padding
            out.append(m)
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def export(model, inputs, names, path, dynamo, opset):
    args = tuple(torch.from_numpy(a) for a in inputs)
    extra = {"external_data": False} if dynamo else {}
    torch.onnx.export(model, args, path, input_names=names, output_names=["output"], opset_version=opset,
                      dynamo=dynamo, **extra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="", help="comma-separated model names")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    import onnxruntime as ort
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnxruntime": ort.__version__,
                "python": sys.version.split()[0]}
    try:
        import onnxscript
        versions["onnxscript"] = onnxscript.__version__
    except ImportError as e:
        versions["onnxscript"] = "missing: %s" % e
    manifest = {"versions": versions, "seed": SEED, "models": []}
    only = set(filter(None, a.only.split(",")))
    for name, (ctor, specs) in ZOO.items():
        if only and name not in only:
            continue
        torch.manual_seed(SEED)
        model = randomise_zero_weights(randomise_norms(ctor())).eval()
        inputs = make_inputs(name, specs)
        names = [n for n, _ in specs]
        in_files = []
        for i, arr in enumerate(inputs):
            f = "%s.input.%d.npy" % (name, i)
            np.save(os.path.join(a.out, f), arr)
            in_files.append(f)
        for exporter, dynamo, opset in (("torchscript", False, 17), ("dynamo", True, 18)):
            entry = {"name": name, "exporter": exporter, "opset": opset, "inputs": names, "input_files": in_files}
            path = os.path.join(a.out, "%s.%s.onnx" % (name, exporter))
            try:
                # Not under no_grad: there nn.TransformerEncoder takes its
                # fused fast path, which the TorchScript exporter lacks.
                export(model, inputs, names, path, dynamo, opset)
                sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                feed = {i.name: arr for i, arr in zip(sess.get_inputs(), inputs)}
                outs = sess.run(None, feed)
                with torch.no_grad():
                    ref = model(*[torch.from_numpy(x) for x in inputs])
                entry["torch_vs_ort_max_abs"] = float(np.max(np.abs(ref.numpy() - outs[0])))
                entry["outputs"] = [o.name for o in sess.get_outputs()]
                entry["output_files"] = []
                for i, o in enumerate(outs):
                    f = "%s.%s.output.%d.npy" % (name, exporter, i)
                    np.save(os.path.join(a.out, f), o)
                    entry["output_files"].append(f)
                entry["file"] = os.path.basename(path)
                entry["bytes"] = os.path.getsize(path)
                entry["status"] = "ok"
            except Exception as e:  # recorded, so that one model does not stop the others
                entry["status"] = "failed"
                entry["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()[-2000:]
                if os.path.exists(path):
                    os.remove(path)
            detail = entry.get("error", "")[-300:] or "%d bytes, torch vs ORT %.2g" % (entry["bytes"], entry["torch_vs_ort_max_abs"])
            print(name, exporter, entry["status"], detail, flush=True)
            manifest["models"].append(entry)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
