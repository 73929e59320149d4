"""The TensorFlow.js graph runner: every op against references written here (explicit loops, numpy,
hand-computed values) on tiny graphs written to model.json + weight shards by the test itself."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tryon_cli.models.tfjs import GraphModelError, load_graph_model

RNG = np.random.default_rng(7)


# ---------------------------------------------------------------------------------------------- graph writing
def s(text: str) -> dict:
    return {"s": base64.b64encode(text.encode()).decode()}


def ints(*values: int) -> dict:
    return {"list": {"i": [str(v) for v in values]}}


def strs(*values: str) -> dict:
    return {"list": {"s": [s(v)["s"] for v in values]}}


_TF_TYPES = {np.float32: "DT_FLOAT", np.int32: "DT_INT32", np.bool_: "DT_BOOL"}
_MANIFEST = {np.float32: "float32", np.int32: "int32", np.bool_: "bool"}


class Graph:
    """Builds a graph-model folder: placeholders, constants and op nodes."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.consts: dict[str, np.ndarray] = {}

    def placeholder(self, name: str, shape: list[int], dtype: str = "DT_FLOAT") -> str:
        dims = [{"size": str(d)} for d in shape]
        self.nodes.append({"name": name, "op": "Placeholder",
                           "attr": {"dtype": {"type": dtype}, "shape": {"shape": {"dim": dims}}}})
        return name

    def const(self, name: str, value) -> str:
        value = np.asarray(value)
        value = value.astype(np.int32) if value.dtype.kind in "iu" else value
        value = value.astype(np.float32) if value.dtype.kind == "f" else value
        self.consts[name] = value
        self.nodes.append({"name": name, "op": "Const", "attr": {
            "dtype": {"type": _TF_TYPES[value.dtype.type]},
            "value": {"tensor": {"dtype": _TF_TYPES[value.dtype.type], "tensorShape": {}}}}})
        return name

    def op(self, name: str, op: str, inputs: list[str], **attrs) -> str:
        self.nodes.append({"name": name, "op": op, "input": inputs, "attr": attrs})
        return name

    def save(self, folder: Path, quantization: dict[str, dict] | None = None, shard_size: int = 64) -> Path:
        """Weights packed back to back and cut into `shard_size`-byte shards (so entries straddle files)."""
        quantization = quantization or {}
        blob, entries = b"", []
        for name, value in self.consts.items():
            entry = {"name": name, "shape": list(value.shape), "dtype": _MANIFEST[value.dtype.type]}
            if name in quantization:
                q = quantization[name]
                entry["quantization"] = q["spec"]
                blob += q["data"].tobytes()
            else:
                blob += value.astype(value.dtype.newbyteorder("<")).tobytes()
            entries.append(entry)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(0, max(len(blob), 1), shard_size):
            paths.append(f"group1-shard{len(paths) + 1}.bin")
            (folder / paths[-1]).write_bytes(blob[i : i + shard_size])
        model = {"format": "graph-model", "modelTopology": {"node": self.nodes},
                 "weightsManifest": [{"paths": paths, "weights": entries}]}
        (folder / "model.json").write_text(json.dumps(model))
        return folder


def run(tmp_path, graph: Graph, feeds: dict, fetch: str | list[str], **save) -> np.ndarray | dict:
    model = load_graph_model(graph.save(tmp_path / "model", **save))
    names = [fetch] if isinstance(fetch, str) else fetch
    out = {k: v.numpy() for k, v in model.run(feeds, names).items()}
    return out[fetch] if isinstance(fetch, str) else out


# ---------------------------------------------------------------------------------------------- references
def tf_same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's rule, restated: output ceil(size/stride); odd padding goes to the end."""
    out = math.ceil(size / stride)
    need = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return need // 2, need - need // 2


def ref_conv(x, w, stride, pads, dilation=1, depthwise=False):
    """Direct loops over output pixels, NHWC input, HWIO (or HWIM for depthwise) filters."""
    (top, bottom), (left, right) = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    n, h, wd, c = xp.shape
    kh, kw = w.shape[:2]
    oh = (h - (kh - 1) * dilation - 1) // stride + 1
    ow = (wd - (kw - 1) * dilation - 1) // stride + 1
    channels_out = c * w.shape[3] if depthwise else w.shape[3]
    out = np.zeros((n, oh, ow, channels_out), np.float64)
    for i in range(oh):
        for j in range(ow):
            for di in range(kh):
                for dj in range(kw):
                    pix = xp[:, i * stride + di * dilation, j * stride + dj * dilation, :]  # (n, c)
                    if depthwise:
                        for ch in range(c):
                            for m in range(w.shape[3]):
                                out[:, i, j, ch * w.shape[3] + m] += pix[:, ch] * w[di, dj, ch, m]
                    else:
                        out[:, i, j, :] += pix @ w[di, dj]
    return out


def ref_pool(x, k, stride, pads, kind):
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    oh = (h + top + bottom - k) // stride + 1
    ow = (w + left + right - k) // stride + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * stride - top, j * stride - left
            window = x[:, max(r0, 0) : min(r0 + k, h), max(c0, 0) : min(c0 + k, w), :]  # real pixels only
            out[:, i, j] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
    return out


def ref_resize_bilinear(x, out_h, out_w, align_corners, half_pixel):
    """Per output pixel, TensorFlow's source coordinate and a two-by-two lerp."""
    n, h, w, c = x.shape

    def source(i, size_in, size_out):
        if align_corners and size_out > 1:
            pos = i * (size_in - 1) / (size_out - 1)
        elif half_pixel:
            pos = (i + 0.5) * size_in / size_out - 0.5
        else:
            pos = i * size_in / size_out
        lo = min(max(math.floor(pos), 0), size_in - 1)
        hi = min(max(math.ceil(pos), 0), size_in - 1)
        return lo, hi, pos - math.floor(pos)

    out = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        y0, y1, fy = source(i, h, out_h)
        for j in range(out_w):
            x0, x1, fx = source(j, w, out_w)
            top = x[:, y0, x0] * (1 - fx) + x[:, y0, x1] * fx
            bottom = x[:, y1, x0] * (1 - fx) + x[:, y1, x1] * fx
            out[:, i, j] = top * (1 - fy) + bottom * fy
    return out


# ---------------------------------------------------------------------------------------------- convolutions
@pytest.mark.parametrize("size,kernel,stride,dilation,padding", [
    (6, 3, 2, 1, "SAME"),   # SAME pads 0 before, 1 after: asymmetric
    (5, 3, 2, 1, "SAME"),   # symmetric
    (7, 4, 1, 1, "SAME"),   # even kernel: 1 before, 2 after
    (7, 3, 1, 2, "SAME"),   # dilated
    (7, 3, 2, 1, "VALID"),
    (1, 3, 1, 1, "SAME"),   # a single pixel
])
def test_conv2d_matches_loops(tmp_path, size, kernel, stride, dilation, padding):
    x = RNG.normal(size=(2, size, size + 1, 3)).astype(np.float32)
    w = RNG.normal(size=(kernel, kernel, 3, 4)).astype(np.float32)
    g = Graph()
    g.op("y", "Conv2D", [g.placeholder("x", [-1, -1, -1, 3]), g.const("w", w)],
         padding=s(padding), strides=ints(1, stride, stride, 1), dilations=ints(1, dilation, dilation, 1),
         data_format=s("NHWC"))
    pads = ((tf_same_pads(size, kernel, stride, dilation), tf_same_pads(size + 1, kernel, stride, dilation))
            if padding == "SAME" else ((0, 0), (0, 0)))
    expected = ref_conv(x, w, stride, pads, dilation)
    got = run(tmp_path, g, {"x": x}, "y")
    if padding == "SAME":
        assert got.shape[1:3] == (math.ceil(size / stride), math.ceil((size + 1) / stride))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_same_padding_puts_the_odd_pixel_at_the_end(tmp_path):
    """A 1x1 'picker' filter shows which input pixel each output reads: with a 2x2 kernel, stride 2 on
    a 3-pixel row, TensorFlow pads one zero at the end, so the outputs start at pixels 0 and 2."""
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    w = np.zeros((2, 2, 1, 1), np.float32)
    w[0, 0] = 1.0  # top-left tap
    g = Graph()
    g.op("y", "Conv2D", [g.placeholder("x", [1, 3, 3, 1]), g.const("w", w)],
         padding=s("SAME"), strides=ints(1, 2, 2, 1))
    np.testing.assert_array_equal(run(tmp_path, g, {"x": x}, "y")[0, :, :, 0], [[1, 3], [7, 9]])


def test_explicit_padding(tmp_path):
    x = RNG.normal(size=(1, 5, 5, 2)).astype(np.float32)
    w = RNG.normal(size=(3, 3, 2, 3)).astype(np.float32)
    g = Graph()
    g.op("y", "Conv2D", [g.placeholder("x", [1, 5, 5, 2]), g.const("w", w)], padding=s("EXPLICIT"),
         explicit_paddings=ints(0, 0, 2, 0, 1, 3, 0, 0), strides=ints(1, 1, 1, 1))
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), ref_conv(x, w, 1, ((2, 0), (1, 3))),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride,multiplier", [(1, 1), (2, 1), (2, 2)])
def test_depthwise_matches_loops(tmp_path, stride, multiplier):
    x = RNG.normal(size=(1, 6, 7, 3)).astype(np.float32)
    w = RNG.normal(size=(3, 3, 3, multiplier)).astype(np.float32)
    g = Graph()
    g.op("y", "DepthwiseConv2dNative", [g.placeholder("x", [1, -1, -1, 3]), g.const("w", w)],
         padding=s("SAME"), strides=ints(1, stride, stride, 1))
    pads = (tf_same_pads(6, 3, stride), tf_same_pads(7, 3, stride))
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), ref_conv(x, w, stride, pads, depthwise=True),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fused,activation", [
    (["BiasAdd"], lambda v: v),
    (["BiasAdd", "Relu"], lambda v: np.maximum(v, 0)),
    (["BiasAdd", "Relu6"], lambda v: np.clip(v, 0, 6)),
    (["BiasAdd", "Sigmoid"], lambda v: 1 / (1 + np.exp(-v))),
    (["BiasAdd", "LeakyRelu"], lambda v: np.where(v > 0, v, 0.1 * v)),
])
def test_fused_conv2d_applies_bias_then_activation(tmp_path, fused, activation):
    x = RNG.normal(size=(1, 6, 6, 3)).astype(np.float32) * 3
    w = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = RNG.normal(size=4).astype(np.float32)
    g = Graph()
    g.op("y", "_FusedConv2D", [g.placeholder("x", [1, 6, 6, 3]), g.const("w", w), g.const("b", bias)],
         padding=s("SAME"), strides=ints(1, 2, 2, 1), fused_ops=strs(*fused), num_args={"i": "1"},
         leakyrelu_alpha={"f": 0.1})
    expected = activation(ref_conv(x, w, 2, ((0, 1), (0, 1))) + bias)
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), expected, rtol=1e-4, atol=1e-4)


def test_fused_conv2d_with_batch_norm(tmp_path):
    x = RNG.normal(size=(1, 4, 4, 2)).astype(np.float32)
    w = RNG.normal(size=(1, 1, 2, 3)).astype(np.float32)
    scale, offset, mean = (RNG.normal(size=3).astype(np.float32) for _ in range(3))
    variance = RNG.uniform(0.5, 2, size=3).astype(np.float32)
    g = Graph()
    g.op("y", "_FusedConv2D", [g.placeholder("x", [1, 4, 4, 2]), g.const("w", w), g.const("scale", scale),
                               g.const("offset", offset), g.const("mean", mean), g.const("var", variance)],
         padding=s("VALID"), strides=ints(1, 1, 1, 1), fused_ops=strs("FusedBatchNorm", "Relu"),
         num_args={"i": "4"}, epsilon={"f": 0.001})
    conv = ref_conv(x, w, 1, ((0, 0), (0, 0)))
    expected = np.maximum((conv - mean) / np.sqrt(variance + 0.001) * scale + offset, 0)
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), expected, rtol=1e-4, atol=1e-4)


def test_fused_depthwise_adds_bias(tmp_path):
    x = RNG.normal(size=(1, 5, 5, 2)).astype(np.float32)
    w = RNG.normal(size=(3, 3, 2, 1)).astype(np.float32)
    bias = np.array([0.5, -2.0], np.float32)
    g = Graph()
    g.op("y", "FusedDepthwiseConv2dNative", [g.placeholder("x", [1, 5, 5, 2]), g.const("w", w), g.const("b", bias)],
         padding=s("SAME"), strides=ints(1, 2, 2, 1), fused_ops=strs("BiasAdd"), num_args={"i": "1"})
    expected = ref_conv(x, w, 2, ((1, 1), (1, 1)), depthwise=True) + bias
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), expected, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------- pooling, resize
@pytest.mark.parametrize("kind,op", [("max", "MaxPool"), ("avg", "AvgPool")])
@pytest.mark.parametrize("size,k,stride,padding", [(6, 3, 2, "SAME"), (7, 3, 2, "SAME"), (5, 2, 1, "SAME"),
                                                   (7, 3, 2, "VALID")])
def test_pooling_matches_loops(tmp_path, kind, op, size, k, stride, padding):
    x = RNG.normal(size=(1, size, size, 2)).astype(np.float32) - 1.0  # negative: zero padding would show
    g = Graph()
    g.op("y", op, [g.placeholder("x", [1, size, size, 2])], padding=s(padding), ksize=ints(1, k, k, 1),
         strides=ints(1, stride, stride, 1))
    pads = (tf_same_pads(size, k, stride),) * 2 if padding == "SAME" else ((0, 0), (0, 0))
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), ref_pool(x, k, stride, pads, kind),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("align,half,expected", [
    (False, False, [0, 0.5, 1, 1]),        # TensorFlow 1's default: source = i * in / out
    (False, True, [0, 0.25, 0.75, 1]),     # pixel centres
    (True, False, [0, 1 / 3, 2 / 3, 1]),   # corners aligned
])
def test_resize_bilinear_conventions_by_hand(tmp_path, align, half, expected):
    g = Graph()
    g.op("y", "ResizeBilinear", [g.placeholder("x", [1, 1, 2, 1]), g.const("size", [1, 4])],
         align_corners={"b": align}, half_pixel_centers={"b": half})
    got = run(tmp_path, g, {"x": np.array([0, 1], np.float32).reshape(1, 1, 2, 1)}, "y")
    np.testing.assert_allclose(got.ravel(), expected, atol=1e-6)


@pytest.mark.parametrize("align,half", [(False, False), (False, True), (True, False)])
@pytest.mark.parametrize("out_size", [(9, 13), (3, 2)])
def test_resize_bilinear_matches_loops(tmp_path, align, half, out_size):
    x = RNG.normal(size=(1, 5, 6, 3)).astype(np.float32)
    g = Graph()
    g.op("y", "ResizeBilinear", [g.placeholder("x", [1, -1, -1, 3]), g.const("size", list(out_size))],
         align_corners={"b": align}, half_pixel_centers={"b": half})
    np.testing.assert_allclose(run(tmp_path, g, {"x": x}, "y"), ref_resize_bilinear(x, *out_size, align, half),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("align,half,expected", [
    (False, False, [0, 0, 1, 1, 2, 2]),
    (False, True, [0, 0, 1, 1, 2, 2]),
    (True, False, [0, 0, 1, 1, 2, 2]),
])
def test_resize_nearest(tmp_path, align, half, expected):
    g = Graph()
    g.op("y", "ResizeNearestNeighbor", [g.placeholder("x", [1, 1, 3, 1]), g.const("size", [1, 6])],
         align_corners={"b": align}, half_pixel_centers={"b": half})
    got = run(tmp_path, g, {"x": np.array([0, 1, 2], np.float32).reshape(1, 1, 3, 1)}, "y")
    np.testing.assert_array_equal(got.ravel(), expected)


# ---------------------------------------------------------------------------------------------- element-wise
@pytest.mark.parametrize("op,fn", [
    ("Add", np.add), ("AddV2", np.add), ("Sub", np.subtract), ("Mul", np.multiply),
    ("RealDiv", np.divide), ("Maximum", np.maximum), ("Minimum", np.minimum),
    ("SquaredDifference", lambda a, b: (a - b) ** 2), ("BiasAdd", np.add),
])
def test_binary_ops_broadcast(tmp_path, op, fn):
    a = RNG.normal(size=(1, 3, 4, 5)).astype(np.float32)
    b = RNG.uniform(0.5, 2, size=(5,)).astype(np.float32)
    g = Graph()
    g.op("y", op, [g.placeholder("a", [1, 3, 4, 5]), g.const("b", b)])
    np.testing.assert_allclose(run(tmp_path, g, {"a": a}, "y"), fn(a, b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,fn", [
    ("Relu", lambda v: np.maximum(v, 0)), ("Relu6", lambda v: np.clip(v, 0, 6)),
    ("Sigmoid", lambda v: 1 / (1 + np.exp(-v))), ("Tanh", np.tanh), ("Exp", np.exp),
    ("Square", np.square), ("Neg", np.negative), ("Abs", np.abs), ("Floor", np.floor),
    ("Round", np.round), ("Identity", lambda v: v),
    ("Elu", lambda v: np.where(v > 0, v, np.exp(v) - 1)),
    ("Rsqrt", lambda v: 1 / np.sqrt(np.abs(v) + 1)),
])
def test_unary_ops(tmp_path, op, fn):
    x = (RNG.normal(size=(2, 3, 4)) * 4).astype(np.float32)
    x[0, 0, :2] = [2.5, -0.5]  # halves: TensorFlow rounds them to even
    feed = np.abs(x) + 1 if op == "Rsqrt" else x
    g = Graph()
    g.op("y", op, [g.placeholder("x", [2, 3, 4])])
    got = run(tmp_path, g, {"x": feed}, "y")
    np.testing.assert_allclose(got, fn(x), rtol=1e-5, atol=1e-6)


def test_integer_shape_arithmetic(tmp_path):
    """Shape -> StridedSlice (shrink) -> Mul -> Pack, as graphs compute a resize target from a tensor."""
    g = Graph()
    shape = g.op("shape", "Shape", [g.placeholder("x", [1, -1, -1, 8])], out_type={"type": "DT_INT32"})
    h = g.op("h", "StridedSlice", [shape, g.const("b1", [1]), g.const("e1", [2]), g.const("s1", [1])],
             shrink_axis_mask={"i": "1"})
    w = g.op("w", "StridedSlice", [shape, g.const("b2", [2]), g.const("e2", [3]), g.const("s2", [1])],
             shrink_axis_mask={"i": "1"})
    g.op("size", "Pack", [g.op("h8", "Mul", [h, g.const("k", 8)]), g.op("w8", "Mul", [w, g.const("k2", 8)])],
         axis={"i": "0"})
    out = run(tmp_path, g, {"x": np.zeros((1, 3, 5, 8), np.float32)}, ["shape", "size"])
    np.testing.assert_array_equal(out["shape"], [1, 3, 5, 8])
    assert out["shape"].dtype == np.int32
    np.testing.assert_array_equal(out["size"], [24, 40])


@pytest.mark.parametrize("begin,end,strides,masks,index", [
    ([1], [3], [1], {}, np.s_[1:3]),
    ([0, 1], [0, -1], [1, 2], {"begin_mask": 1, "end_mask": 1}, np.s_[:, 1:-1:2]),
    ([2], [0], [1], {"shrink_axis_mask": 1}, np.s_[2]),
    ([-1], [0], [1], {"shrink_axis_mask": 1}, np.s_[-1]),
    ([0, 0, 1], [0, 0, 3], [1, 1, 1], {"ellipsis_mask": 1, "new_axis_mask": 2}, np.s_[..., None, 1:3]),
    ([3, 0], [0, 0], [-1, 1], {"end_mask": 3}, np.s_[3::-1, :]),
    ([4], [1], [-2], {}, np.s_[4:1:-2]),
    ([0, 2], [0, 4], [1, 1], {"begin_mask": 1, "end_mask": 1, "new_axis_mask": 1}, np.s_[None, 2:4]),
])
def test_strided_slice_matches_numpy(tmp_path, begin, end, strides, masks, index):
    x = np.arange(5 * 6 * 4, dtype=np.float32).reshape(5, 6, 4)
    g = Graph()
    g.op("y", "StridedSlice", [g.placeholder("x", [5, 6, 4]), g.const("b", begin), g.const("e", end),
                               g.const("s", strides)], **{k: {"i": str(v)} for k, v in masks.items()})
    np.testing.assert_array_equal(run(tmp_path, g, {"x": x}, "y"), x[index])


def test_reductions_softmax_argmax_squeeze(tmp_path):
    x = RNG.normal(size=(1, 4, 5, 6)).astype(np.float32)
    g = Graph()
    inp = g.placeholder("x", [1, 4, 5, 6])
    g.op("mean", "Mean", [inp, g.const("axes", [1, 2])], keep_dims={"b": True})
    g.op("sum", "Sum", [inp, g.const("axes2", [-1])], keep_dims={"b": False})
    g.op("max", "Max", [inp, g.const("axes3", [2])])
    soft = g.op("soft", "Softmax", [inp])
    arg = g.op("arg", "ArgMax", [soft, g.const("dim", 3)], output_type={"type": "DT_INT64"})
    g.op("sq", "Squeeze", [arg], squeeze_dims=ints(0))
    out = run(tmp_path, g, {"x": x}, ["mean", "sum", "max", "soft", "sq"])
    np.testing.assert_allclose(out["mean"], x.mean(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["sum"], x.sum(axis=-1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["max"], x.max(axis=2), rtol=1e-6)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(out["soft"], e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert out["sq"].shape == (4, 5) and out["sq"].dtype == np.int64
    np.testing.assert_array_equal(out["sq"], x[0].argmax(axis=-1))


def test_shape_ops(tmp_path):
    a = RNG.normal(size=(1, 2, 3, 4)).astype(np.float32)
    b = RNG.normal(size=(1, 2, 3, 2)).astype(np.float32)
    g = Graph()
    pa, pb = g.placeholder("a", [1, 2, 3, 4]), g.placeholder("b", [1, 2, 3, 2])
    g.op("cat", "ConcatV2", [pa, pb, g.const("axis", -1)], N={"i": "2"})
    g.op("rs", "Reshape", [pa, g.const("shape", [2, -1])])
    g.op("tr", "Transpose", [pa, g.const("perm", [0, 3, 1, 2])])
    g.op("ex", "ExpandDims", [pb, g.const("ax", -1)])
    g.op("pk", "Pack", [pa, pa], axis={"i": "1"})
    g.op("pad", "Pad", [pb, g.const("pads", [[0, 0], [1, 2], [0, 1], [0, 0]])])
    g.op("mp", "MirrorPad", [pb, g.const("pads2", [[0, 0], [1, 1], [2, 0], [0, 0]])], mode=s("REFLECT"))
    g.op("sl", "Slice", [pa, g.const("begin", [0, 1, 0, 1]), g.const("size", [-1, 1, 2, -1])])
    g.op("sp", "SplitV", [pa, g.const("sizes", [1, -1]), g.const("spax", 3)], num_split={"i": "2"})
    g.op("un", "Unpack", [pa], axis={"i": "2"}, num={"i": "3"})
    g.op("id", "Identity", ["sp:1"])
    out = run(tmp_path, g, {"a": a, "b": b}, ["cat", "rs", "tr", "ex", "pk", "pad", "mp", "sl", "sp:1", "un:2", "id"])
    np.testing.assert_array_equal(out["cat"], np.concatenate([a, b], axis=-1))
    np.testing.assert_array_equal(out["rs"], a.reshape(2, -1))
    np.testing.assert_array_equal(out["tr"], a.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(out["ex"], b[..., None])
    np.testing.assert_array_equal(out["pk"], np.stack([a, a], axis=1))
    np.testing.assert_array_equal(out["pad"], np.pad(b, [[0, 0], [1, 2], [0, 1], [0, 0]]))
    np.testing.assert_array_equal(out["mp"], np.pad(b, [[0, 0], [1, 1], [2, 0], [0, 0]], mode="reflect"))
    np.testing.assert_array_equal(out["sl"], a[:, 1:2, 0:2, 1:])
    np.testing.assert_array_equal(out["sp:1"], a[..., 1:])
    np.testing.assert_array_equal(out["id"], a[..., 1:])
    np.testing.assert_array_equal(out["un:2"], a[:, :, 2])


# ---------------------------------------------------------------------------------------------- weights, graph
def test_weights_straddle_shards_and_dequantise(tmp_path):
    """uint8 and uint16 weights are value * scale + min; float16 is widened; entries cross shard files."""
    w8 = np.array([0, 1, 255, 128], np.uint8)
    w16 = np.array([0, 1000, 65535], np.uint16)
    w_half = np.array([0.5, -1.25, 3.0], np.float16)
    g = Graph()
    g.const("pad", np.arange(5, dtype=np.float32))  # 20 bytes, so later entries start mid-shard
    for name, shape in (("q8", 4), ("q16", 3), ("half", 3)):
        g.op(name + "_out", "Identity", [g.const(name, np.zeros(shape, np.float32))])
    quant = {"q8": {"spec": {"dtype": "uint8", "scale": 0.5, "min": -1.0}, "data": w8},
             "q16": {"spec": {"dtype": "uint16", "scale": 0.01, "min": 2.0}, "data": w16},
             "half": {"spec": {"dtype": "float16"}, "data": w_half}}
    out = run(tmp_path, g, {}, ["q8_out", "q16_out", "half_out", "pad"], quantization=quant, shard_size=7)
    assert len(list((tmp_path / "model").glob("*.bin"))) > 3
    np.testing.assert_allclose(out["q8_out"], w8 * 0.5 - 1.0)
    np.testing.assert_allclose(out["q16_out"], w16 * np.float32(0.01) + 2.0, rtol=1e-6)
    np.testing.assert_allclose(out["half_out"], w_half.astype(np.float32))
    np.testing.assert_array_equal(out["pad"], np.arange(5))


def test_graph_inputs_outputs_and_intermediates(tmp_path):
    g = Graph()
    x = g.placeholder("x", [1, -1])
    hidden = g.op("hidden", "Mul", [x, g.const("two", np.float32(2))])
    g.op("out", "Add", [hidden, g.const("one", np.float32(1))])
    model = load_graph_model(g.save(tmp_path / "m"))
    assert model.inputs == ("x",) and model.outputs == ("out",)
    value = np.array([[1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(model.run({"x": value})["out"].numpy(), [[3, 5]])
    np.testing.assert_array_equal(model.run({"x": value}, ["hidden"])["hidden"].numpy(), [[2, 4]])
    # feeding an intermediate skips what computes it
    np.testing.assert_array_equal(model.run({"hidden": value}, ["out"])["out"].numpy(), [[2, 3]])


def test_errors_name_the_problem(tmp_path):
    g = Graph()
    x = g.placeholder("x", [1, 2])
    g.op("out", "Erf", [x])
    g.op("ok", "Relu", [x])
    model = load_graph_model(g.save(tmp_path / "m"))
    with pytest.raises(GraphModelError, match="Erf"):
        model.run({"x": np.zeros((1, 2), np.float32)}, ["out"])
    with pytest.raises(GraphModelError, match="x"):
        model.run({}, ["ok"])
    with pytest.raises(GraphModelError, match="shape"):
        model.run({"x": np.zeros((1, 3), np.float32)}, ["ok"])
    with pytest.raises(GraphModelError, match="no node"):
        model.run({"x": np.zeros((1, 2), np.float32)}, ["missing"])
    (tmp_path / "m" / "group1-shard1.bin").unlink()
    with pytest.raises(GraphModelError, match="shard"):
        load_graph_model(tmp_path / "m")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(GraphModelError, match="bad.json"):
        load_graph_model(tmp_path / "bad.json")


# ---------------------------------------------------------------------------------------------- against TensorFlow.js
_TFJS_SCRIPT = r"""
const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
const tfc = require('@tensorflow/tfjs-converter'); const fs = require('fs');
const [dir, input, shape, fetch, out] = process.argv.slice(2);
(async () => {
  await tf.setBackend('cpu');
  const model = JSON.parse(fs.readFileSync(dir + '/model.json'));
  const specs = [].concat(...model.weightsManifest.map(g => g.weights));
  const data = Buffer.concat([].concat(...model.weightsManifest.map(g => g.paths.map(p => fs.readFileSync(dir + '/' + p)))));
  const weights = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const graph = await tfc.loadGraphModel(tf.io.fromMemory({modelTopology: model.modelTopology, weightSpecs: specs,
                                                          weightData: weights}));
  const raw = fs.readFileSync(input);
  const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), JSON.parse(shape));
  const y = await graph.executeAsync({[graph.inputs[0].name]: x}, fetch);
  fs.writeFileSync(out, Buffer.from(new Float32Array(await y.data()).buffer));
})();
"""


def test_real_parser_graph_matches_tensorflow_js(tmp_path):
    """Opt-in (slow, needs node and `npm install @tensorflow/tfjs-core@3 @tensorflow/tfjs-converter@3
    @tensorflow/tfjs-backend-cpu@3` in $TRYON_TFJS_NODE_MODULES/..): the real face parser's logits from
    this runner and from TensorFlow.js's own CPU backend."""
    import os
    import shutil
    import subprocess

    from tryon_cli.models.fetch import FACE_PARSER, model_path

    modules = os.environ.get("TRYON_TFJS_NODE_MODULES")
    folder = model_path(FACE_PARSER)
    if not modules or not shutil.which("node") or not (folder / "model.json").is_file():
        pytest.skip("set TRYON_TFJS_NODE_MODULES to a node_modules with tfjs-core/converter/backend-cpu 3.x, "
                    "and fetch the face parser")
    x = RNG.uniform(-1, 1, size=(1, 128, 128, 3)).astype("<f4")
    x.tofile(tmp_path / "x.bin")
    (tmp_path / "run.js").write_text(_TFJS_SCRIPT)
    fetch = "BiseNetV2/logits/1x1_conv_block/Conv2D"
    subprocess.run(["node", str(tmp_path / "run.js"), str(folder), str(tmp_path / "x.bin"), "[1,128,128,3]", fetch,
                    str(tmp_path / "y.bin")], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "NODE_PATH": modules})
    reference = np.fromfile(tmp_path / "y.bin", "<f4").reshape(1, 16, 16, 19)
    ours = load_graph_model(folder).run({"input_tensor": x}, [fetch])[fetch].numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-4)
