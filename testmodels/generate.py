#!/usr/bin/env python3
"""Export small PyTorch models (seeded random weights) to ONNX test cases.

Layout (ONNX backend-test style):

    <out>/<name>/model.onnx
    <out>/<name>/test_data_set_N/input_K.pb    TensorProto, name = graph input name
    <out>/<name>/test_data_set_N/output_K.pb   TensorProto, name = graph output name

Expected outputs are computed by PyTorch (float32, eval mode).

Usage:
    python3 generate.py                     # small models -> cases/ next to this script
    python3 generate.py --only NAME         # regenerate a single small model
    python3 generate.py --torchvision DIR   # torchvision models -> DIR (not committed)
    python3 generate.py --sequence DIR      # encoder and lstm2 benchmark models -> DIR (not committed)
    python3 generate.py --list              # list model names

Needs torch (1.13 tested), torchvision (--torchvision only), onnx, numpy.
"""

import argparse
import os
import shutil
import sys
import zlib

import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

# Known-benign exporter warnings: constant folding is safe because models are
# exported in eval mode (PRESERVE only stops BatchNorm being fused into Conv);
# RNN batch-size note and prim::Constant shape-inference note.
for _msg in (r"It is recommended that constant folding",
             r"Exporting a model to ONNX with a batch_size other than 1",
             r"The shape inference of prim::Constant"):
    warnings.filterwarnings("ignore", message=_msg)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "cases")
MAX_SMALL_BYTES = 2 * 1024 * 1024


def seed_for(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def randomize_batchnorm(model, gen):
    """Give every BatchNorm non-trivial affine params and running stats."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
                if m.affine:
                    m.weight.copy_(1.0 + torch.randn(c, generator=gen) * 0.2)
                    m.bias.copy_(torch.randn(c, generator=gen) * 0.2)


# ----------------------------------------------------------------------------
# Small models
# ----------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class LeNetBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class ResNetSmall(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, ReLU6, 1x1 project, add."""

    def __init__(self, channels=16, expand=4):
        super().__init__()
        hidden = channels * expand
        self.expand = nn.Conv2d(channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu6(self.bn1(self.expand(x)))
        out = F.relu6(self.bn2(self.dw(out)))
        out = self.bn3(self.project(out))
        return x + out


class SelfAttention(nn.Module):
    def __init__(self, d_model, nhead):
        super().__init__()
        self.nhead = nhead
        self.head_dim = d_model // nhead
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.scale = 1.0 / float(self.head_dim) ** 0.5

    def forward(self, x):
        b, t, d = x.shape  # static shapes at export time

        def heads(y):  # [b, t, d] -> [b, h, t, hd]
            return y.reshape(b, t, self.nhead, self.head_dim).transpose(1, 2)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        attn = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(attn, v).transpose(1, 2).reshape(b, t, d)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    """Post-norm encoder layer (like nn.TransformerEncoderLayer, norm_first=False)."""

    def __init__(self, d_model, nhead, dim_ff):
        super().__init__()
        self.attn = SelfAttention(d_model, nhead)
        self.norm1 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, dim_ff)
        self.act = nn.GELU()  # exact (erf) GELU
        self.ff2 = nn.Linear(dim_ff, d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x):
        x = self.norm1(x + self.attn(x))
        x = self.norm2(x + self.ff2(self.act(self.ff1(x))))
        return x


class TransformerTiny(nn.Module):
    def __init__(self, d_model=32, nhead=4, dim_ff=64, layers=2):
        super().__init__()
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, nhead, dim_ff) for _ in range(layers)]
        )

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def randomize_layernorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=gen) * 0.2)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


class LSTMModel(nn.Module):
    def __init__(self, bidirectional=False, num_layers=2, features=8, hidden=16):
        super().__init__()
        self.rnn = nn.LSTM(features, hidden, num_layers=num_layers, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 10)

    def forward(self, x):  # x: [seq, batch, feature]
        out, _ = self.rnn(x)
        return self.fc(out[-1])


class GRUModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(8, 16, num_layers=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[-1])


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):  # x: [batch, 3, 8, 8]
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        x = torch.flatten(x, 1)
        return self.fc(x)


def _spec(build, shapes, opset=13, dynamic_axes=None, extra_shapes=()):
    """shapes: input shapes for test_data_set_0; extra_shapes: list of
    input-shape lists for test_data_set_1, 2, ..."""
    return dict(
        build=build,
        shapes=[list(shapes)] + [list(s) for s in extra_shapes],
        opset=opset,
        dynamic_axes=dynamic_axes,
    )


def _with_bn(cls):
    def build(gen):
        m = cls()
        randomize_batchnorm(m, gen)
        return m

    return build


def _transformer(gen):
    m = TransformerTiny()
    randomize_layernorm(m, gen)
    return m


SMALL = {
    "mlp": _spec(lambda g: MLP(), [[2, 784]]),
    "lenet_bn": _spec(_with_bn(LeNetBN), [[2, 1, 28, 28]]),
    # untrained LeNet for `onnxrun train`: dynamic batch, opset 14 (BatchNormalization's training_mode)
    "lenet_train": _spec(
        lambda g: LeNetBN(),
        [[4, 1, 28, 28]],
        opset=14,
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    ),
    "resnet_small": _spec(_with_bn(ResNetSmall), [[1, 3, 32, 32]]),
    "mobilenet_block": _spec(_with_bn(InvertedResidual), [[1, 16, 16, 16]]),
    "transformer_tiny": _spec(_transformer, [[1, 10, 32]], opset=17),
    "lstm": _spec(lambda g: LSTMModel(), [[5, 1, 8]]),
    "lstm_bidir": _spec(lambda g: LSTMModel(bidirectional=True, num_layers=1), [[5, 1, 8]]),
    "gru": _spec(lambda g: GRUModel(), [[5, 1, 8]]),
    "dynamic_batch": _spec(
        _with_bn(SmallCNN),
        [[3, 3, 8, 8]],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        extra_shapes=[[[1, 3, 8, 8]]],
    ),
}


def _tv(fn_name):
    def build(gen):
        import torchvision.models as tvm

        m = getattr(tvm, fn_name)(weights=None)
        randomize_batchnorm(m, gen)
        return m

    return build


TORCHVISION = {
    name: _spec(_tv(name), [[1, 3, 224, 224]])
    for name in ("resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "efficientnet_b0", "densenet121")
}


def _encoder(gen):
    m = TransformerTiny(d_model=256, nhead=4, dim_ff=1024, layers=4)
    randomize_layernorm(m, gen)
    return m


# Sequence-model benchmarks (12.6 and 0.9 MB), with a symbolic batch dim so
# `benchmarks/run compare --batch 1,8` can time several batch sizes.
SEQUENCE = {
    # BERT-like: 4 post-norm layers, d_model 256, 4 heads, FF 1024, 128 tokens
    "encoder": _spec(
        _encoder,
        [[1, 128, 256]],
        opset=17,
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    ),
    # 2-layer LSTM(64->128) over 32 steps + Linear on the last step
    "lstm2": _spec(
        lambda g: LSTMModel(features=64, hidden=128),
        [[32, 1, 64]],
        dynamic_axes={"input": {1: "batch"}, "output": {0: "batch"}},
    ),
}


# ----------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------


def write_tensor(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def export_case(name, spec, out_root, size_limit=None):
    seed = seed_for(name)
    seed_all(seed)
    gen = torch.Generator().manual_seed(seed)
    model = spec["build"](gen)
    model.eval()

    rng = np.random.RandomState(seed)
    datasets = []
    for shape_list in spec["shapes"]:
        datasets.append(
            [rng.standard_normal(s).astype(np.float32) for s in shape_list]
        )

    n_in = len(spec["shapes"][0])
    input_names = ["input"] if n_in == 1 else ["input_%d" % i for i in range(n_in)]
    dummy = tuple(torch.from_numpy(a) for a in datasets[0])

    case_dir = os.path.join(out_root, name)
    if os.path.isdir(case_dir):
        shutil.rmtree(case_dir)
    os.makedirs(case_dir)
    model_path = os.path.join(case_dir, "model.onnx")

    with torch.no_grad():
        torch.onnx.export(
            model,
            dummy if len(dummy) > 1 else dummy[0],
            model_path,
            opset_version=spec["opset"],
            input_names=input_names,
            output_names=["output"],
            dynamic_axes=spec["dynamic_axes"],
            training=torch.onnx.TrainingMode.PRESERVE,  # keep BatchNorm nodes
            do_constant_folding=True,
        )

    onnx_model = onnx.load(model_path)
    onnx.checker.check_model(onnx_model)
    init_names = {i.name for i in onnx_model.graph.initializer}
    graph_inputs = [i.name for i in onnx_model.graph.input if i.name not in init_names]
    graph_outputs = [o.name for o in onnx_model.graph.output]
    assert graph_inputs == input_names, (name, graph_inputs)
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        assert any(
            n.op_type == "BatchNormalization" for n in onnx_model.graph.node
        ), "%s: BatchNormalization was folded away" % name

    for ds_idx, arrays in enumerate(datasets):
        ds_dir = os.path.join(case_dir, "test_data_set_%d" % ds_idx)
        os.makedirs(ds_dir)
        with torch.no_grad():
            outs = model(*[torch.from_numpy(a) for a in arrays])
        if isinstance(outs, torch.Tensor):
            outs = (outs,)
        assert len(outs) == len(graph_outputs), (name, len(outs), graph_outputs)
        for i, (a, n) in enumerate(zip(arrays, graph_inputs)):
            write_tensor(os.path.join(ds_dir, "input_%d.pb" % i), a, n)
        for i, (o, n) in enumerate(zip(outs, graph_outputs)):
            write_tensor(os.path.join(ds_dir, "output_%d.pb" % i), o.numpy(), n)

    size = os.path.getsize(model_path)
    if size_limit is not None and size > size_limit:
        raise RuntimeError("%s: model.onnx is %d bytes (> %d)" % (name, size, size_limit))
    print("%-18s %10d bytes" % (name, size))
    sys.stdout.flush()
    return size


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torchvision", metavar="DIR",
                   help="export torchvision models into DIR instead of the small set")
    p.add_argument("--sequence", metavar="DIR",
                   help="export the sequence benchmark models (encoder, lstm2) into DIR")
    p.add_argument("--only", metavar="NAME", help="export only this model")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output dir for the small set (default: cases/ next to this script)")
    p.add_argument("--list", action="store_true", help="list model names and exit")
    args = p.parse_args(argv)

    if args.list:
        print("small:       " + " ".join(SMALL))
        print("torchvision: " + " ".join(TORCHVISION))
        print("sequence:    " + " ".join(SEQUENCE))
        return 0

    if args.torchvision and args.sequence:
        p.error("--torchvision and --sequence write different sets; give one")
    if args.torchvision:
        specs, out_root, limit = TORCHVISION, os.path.abspath(args.torchvision), None
    elif args.sequence:
        specs, out_root, limit = SEQUENCE, os.path.abspath(args.sequence), None
    else:
        specs = SMALL
        out_root = os.path.abspath(args.out) if args.out else DEFAULT_OUT
        limit = MAX_SMALL_BYTES

    names = list(specs)
    if args.only:
        if args.only not in specs:
            p.error("unknown model %r; choose from: %s" % (args.only, ", ".join(specs)))
        names = [args.only]

    os.makedirs(out_root, exist_ok=True)
    torch.set_num_threads(1)  # reproducible float reductions
    for name in names:
        export_case(name, specs[name], out_root, size_limit=limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
