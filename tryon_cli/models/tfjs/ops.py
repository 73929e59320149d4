"""TensorFlow ops on torch tensors, with TensorFlow's semantics (NHWC images, SAME padding, legacy resizes).

Every op takes its input tensors and the node's parsed attributes and returns a tensor (or a tuple for
ops with several outputs). Image tensors stay NHWC; convolutions view them as channels-last NCHW, which
is the same memory, so no copies are made.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
Attrs = Mapping[str, Any]
Op = Callable[[Sequence[Tensor], Attrs], "Tensor | tuple[Tensor, ...]"]


def _ints(tensor: Tensor) -> list[int]:
    return [int(v) for v in tensor.reshape(-1).tolist()]


def _check_nhwc(attrs: Attrs) -> None:
    if attrs.get("data_format", "NHWC") not in ("NHWC", ""):
        raise ValueError(f"data_format {attrs['data_format']} is not supported (NHWC only)")


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis: the output has ceil(size / stride) samples and any odd
    padding pixel goes after (bottom/right)."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _paddings(attrs: Attrs, height: int, width: int, kernel: tuple[int, int], strides: tuple[int, int],
              dilations: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) for the node's padding mode."""
    mode = attrs.get("padding", "VALID")
    if mode == "SAME":
        top, bottom = same_padding(height, kernel[0], strides[0], dilations[0])
        left, right = same_padding(width, kernel[1], strides[1], dilations[1])
        return top, bottom, left, right
    if mode == "EXPLICIT":
        pads = list(attrs.get("explicit_paddings", []))  # (before, after) per NHWC axis
        return pads[2], pads[3], pads[4], pads[5]
    if mode == "VALID":
        return 0, 0, 0, 0
    raise ValueError(f"padding {mode} is not supported")


def _hw(values: Sequence[int] | None, default: int = 1) -> tuple[int, int]:
    """The H and W entries of an NHWC attribute list (strides, dilations, ksize)."""
    if not values:
        return default, default
    return (values[1], values[2]) if len(values) == 4 else (values[0], values[-1])


def _as_nchw(x: Tensor) -> Tensor:
    return x.permute(0, 3, 1, 2)


def _as_nhwc(x: Tensor) -> Tensor:
    return x.permute(0, 2, 3, 1)


def _conv(x: Tensor, filters: Tensor, attrs: Attrs, depthwise: bool) -> Tensor:
    _check_nhwc(attrs)
    kh, kw = filters.shape[0], filters.shape[1]
    strides, dilations = _hw(attrs.get("strides")), _hw(attrs.get("dilations"))
    top, bottom, left, right = _paddings(attrs, x.shape[1], x.shape[2], (kh, kw), strides, dilations)
    xc = _as_nchw(x)
    padding: tuple[int, int] | int = 0
    if top == bottom and left == right:
        padding = (top, left)
    else:
        xc = F.pad(xc, (left, right, top, bottom))
    if depthwise:  # HWIM -> (I*M)1HW; TensorFlow's output channel order is in_channel * M + m
        channels, multiplier = filters.shape[2], filters.shape[3]
        weight = filters.permute(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        groups = channels
    else:  # HWIO -> OIHW
        weight = filters.permute(3, 2, 0, 1)
        groups = x.shape[3] // filters.shape[2]
    out = F.conv2d(xc, weight.contiguous(), None, strides, padding, dilations, groups)
    return _as_nhwc(out)


def _activation(x: Tensor, name: str, attrs: Attrs, extra: Sequence[Tensor]) -> Tensor:
    if name == "Relu":
        return torch.relu(x)
    if name == "Relu6":
        return torch.clamp(x, 0.0, 6.0)
    if name == "Elu":
        return F.elu(x)
    if name == "Sigmoid":
        return torch.sigmoid(x)
    if name == "Tanh":
        return torch.tanh(x)
    if name == "LeakyRelu":
        return F.leaky_relu(x, float(attrs.get("leakyrelu_alpha", 0.2)))
    if name == "Prelu":
        return torch.where(x >= 0, x, x * extra[0])
    raise ValueError(f"fused activation {name} is not supported")


def _fused(conv: Callable[[Tensor], Tensor], inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    """A convolution (or matmul) followed by the fused ops TensorFlow's grappler folded into it:
    BiasAdd or FusedBatchNorm, then at most one activation; their arguments are the extra inputs."""
    fused = list(attrs.get("fused_ops", []))
    args = list(inputs[2:])
    out = conv(inputs[0])
    if fused and fused[0] == "BiasAdd":
        out = out + args.pop(0)
        fused.pop(0)
    elif fused and fused[0] == "FusedBatchNorm":
        scale, offset, mean, variance = args[:4]
        args = args[4:]
        out = (out - mean) * (scale * torch.rsqrt(variance + float(attrs.get("epsilon", 1e-3)))) + offset
        fused.pop(0)
    for name in fused:
        out = _activation(out, name, attrs, args)
    return out


def fused_conv2d(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    return _fused(lambda x: _conv(x, inputs[1], attrs, depthwise=False), inputs, attrs)


def fused_depthwise(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    return _fused(lambda x: _conv(x, inputs[1], attrs, depthwise=True), inputs, attrs)


def fused_matmul(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    return _fused(lambda a: _matmul([a, inputs[1]], attrs), inputs, attrs)


def _pool(inputs: Sequence[Tensor], attrs: Attrs, kind: str) -> Tensor:
    _check_nhwc(attrs)
    x = inputs[0]
    kernel, strides = _hw(attrs.get("ksize")), _hw(attrs.get("strides"))
    top, bottom, left, right = _paddings(attrs, x.shape[1], x.shape[2], kernel, strides, (1, 1))
    xc = _as_nchw(x)
    if kind == "max":
        if top or bottom or left or right:
            xc = F.pad(xc, (left, right, top, bottom), value=-math.inf)
        return _as_nhwc(F.max_pool2d(xc, kernel, strides))
    # TensorFlow's average leaves the padding out of the count: divide a zero-padded sum by the number
    # of real pixels under each window.
    if not (top or bottom or left or right):
        return _as_nhwc(F.avg_pool2d(xc, kernel, strides))
    padded = F.pad(xc, (left, right, top, bottom))
    ones = F.pad(torch.ones((1, 1, x.shape[1], x.shape[2]), dtype=x.dtype), (left, right, top, bottom))
    sums = F.avg_pool2d(padded, kernel, strides, divisor_override=1)
    counts = F.avg_pool2d(ones, kernel, strides, divisor_override=1)
    return _as_nhwc(sums / counts)


def _resize_axis(in_size: int, out_size: int, align_corners: bool, half_pixel: bool,
                 ) -> tuple[Tensor, Tensor, Tensor]:
    """TensorFlow's bilinear source positions along one axis: lower index, upper index, weight of upper.

    align_corners maps the end pixels onto each other; half_pixel_centers samples at pixel centres;
    neither (TensorFlow 1's default) maps output i to input i * in / out, shifting the image by almost
    half an input pixel."""
    if align_corners and out_size > 1:
        scale = (in_size - 1) / (out_size - 1)
    else:
        scale = in_size / out_size
    i = torch.arange(out_size, dtype=torch.float32)
    pos = (i + 0.5) * scale - 0.5 if half_pixel else i * scale
    floor = torch.floor(pos)
    lower = floor.clamp(min=0).long().clamp(max=in_size - 1)
    upper = torch.ceil(pos).long().clamp(min=0, max=in_size - 1)
    return lower, upper, pos - floor


def resize_bilinear(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x, size = inputs[0], _ints(inputs[1])
    align, half = bool(attrs.get("align_corners", False)), bool(attrs.get("half_pixel_centers", False))
    dtype = x.dtype
    x = x.float()
    y0, y1, wy = _resize_axis(x.shape[1], size[0], align, half)
    x0, x1, wx = _resize_axis(x.shape[2], size[1], align, half)
    top, bottom = x[:, y0], x[:, y1]
    wy = wy.view(1, -1, 1, 1)
    rows = top + (bottom - top) * wy
    left, right = rows[:, :, x0], rows[:, :, x1]
    out = left + (right - left) * wx.view(1, 1, -1, 1)
    return out.to(dtype) if dtype.is_floating_point else out


def _nearest_axis(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> Tensor:
    scale = (in_size - 1) / (out_size - 1) if align_corners and out_size > 1 else in_size / out_size
    i = torch.arange(out_size, dtype=torch.float32)
    pos = (i + 0.5) * scale if half_pixel else i * scale
    index = torch.round(pos) if align_corners else torch.floor(pos)
    return index.long().clamp(0, in_size - 1)


def resize_nearest(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x, size = inputs[0], _ints(inputs[1])
    align, half = bool(attrs.get("align_corners", False)), bool(attrs.get("half_pixel_centers", False))
    rows = _nearest_axis(x.shape[1], size[0], align, half)
    cols = _nearest_axis(x.shape[2], size[1], align, half)
    return x[:, rows][:, :, cols]


def strided_slice(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    """TensorFlow's StridedSlice with its five masks (bit i of a mask applies to entry i of the spec)."""
    x = inputs[0]
    begin, end, strides = _ints(inputs[1]), _ints(inputs[2]), _ints(inputs[3])
    masks = {k: int(attrs.get(k, 0)) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                                 "shrink_axis_mask")}
    spec: list[Any] = []
    for i in range(len(begin)):
        if masks["ellipsis_mask"] >> i & 1:
            spec.append(Ellipsis)
        elif masks["new_axis_mask"] >> i & 1:
            spec.append(None)
        elif masks["shrink_axis_mask"] >> i & 1:
            spec.append(begin[i])
        else:
            spec.append(slice(None if masks["begin_mask"] >> i & 1 else begin[i],
                              None if masks["end_mask"] >> i & 1 else end[i], strides[i]))
    consumed = sum(1 for s in spec if s is not None and s is not Ellipsis)
    if Ellipsis in spec:
        at = spec.index(Ellipsis)
        spec[at : at + 1] = [slice(None)] * (x.dim() - consumed)
    else:
        spec += [slice(None)] * (x.dim() - consumed)
    out, axis = x, 0
    for item in spec:
        if item is None:
            out = out.unsqueeze(axis)
            axis += 1
        elif isinstance(item, int):
            size = out.shape[axis]
            if not -size <= item < size:
                raise IndexError(f"slice index {item} out of range for a dimension of {size}")
            out = out.select(axis, item % size)
        else:
            indices = range(*item.indices(out.shape[axis]))
            if item.step and item.step > 0:
                out = out.narrow(axis, indices.start, len(indices)) if indices.step == 1 else \
                    out[(slice(None),) * axis + (item,)]
            else:
                out = out.index_select(axis, torch.tensor(list(indices), dtype=torch.long))
            axis += 1
    return out


def _reduce(fn: Callable[..., Tensor]) -> Op:
    def op(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
        x, axes = inputs[0], _ints(inputs[1])
        keep = bool(attrs.get("keep_dims", False))
        if not axes:
            return x
        return fn(x, dim=[a % x.dim() for a in axes], keepdim=keep)
    return op


def _amax(x: Tensor, dim: list[int], keepdim: bool) -> Tensor:
    return torch.amax(x, dim=dim, keepdim=keepdim)


def _amin(x: Tensor, dim: list[int], keepdim: bool) -> Tensor:
    return torch.amin(x, dim=dim, keepdim=keepdim)


def _prod(x: Tensor, dim: list[int], keepdim: bool) -> Tensor:
    for axis in sorted(dim, reverse=True):
        x = torch.prod(x, dim=axis, keepdim=keepdim)
    return x


def _arg(fn: Callable[..., Tensor]) -> Op:
    def op(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
        axis = _ints(inputs[1])[0]
        out_type = attrs.get("output_type", torch.int64)
        return fn(inputs[0], dim=axis).to(out_type if isinstance(out_type, torch.dtype) else torch.int64)
    return op


def concat(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    *values, axis = inputs
    return torch.cat(list(values), dim=_ints(axis)[0])


def squeeze(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x = inputs[0]
    axes = attrs.get("squeeze_dims") or attrs.get("axis") or []
    if not axes:
        return x.squeeze()
    for axis in sorted((a % x.dim() for a in axes), reverse=True):
        if x.shape[axis] != 1:
            raise ValueError(f"cannot squeeze axis {axis} of size {x.shape[axis]}")
        x = x.squeeze(axis)
    return x


def reshape(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    return inputs[0].reshape(_ints(inputs[1]))


def shape(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    out_type = attrs.get("out_type", torch.int32)
    return torch.tensor(list(inputs[0].shape), dtype=out_type if isinstance(out_type, torch.dtype) else torch.int32)


def pack(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    return torch.stack(list(inputs), dim=int(attrs.get("axis", 0)))


def unpack(inputs: Sequence[Tensor], attrs: Attrs) -> tuple[Tensor, ...]:
    return tuple(torch.unbind(inputs[0], dim=int(attrs.get("axis", 0))))


def split(inputs: Sequence[Tensor], attrs: Attrs) -> tuple[Tensor, ...]:
    axis, x = _ints(inputs[0])[0], inputs[1]
    return tuple(torch.chunk(x, int(attrs["num_split"]), dim=axis))


def split_v(inputs: Sequence[Tensor], attrs: Attrs) -> tuple[Tensor, ...]:
    x, sizes, axis = inputs[0], _ints(inputs[1]), _ints(inputs[2])[0]
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    return tuple(torch.split(x, sizes, dim=axis))


def slice_op(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    out = inputs[0]
    for axis, (start, size) in enumerate(zip(_ints(inputs[1]), _ints(inputs[2]))):
        out = out.narrow(axis, start, out.shape[axis] - start if size == -1 else size)
    return out


def pad(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x, pads = inputs[0], _ints(inputs[1])
    value = float(inputs[2]) if len(inputs) > 2 else 0.0
    flat: list[int] = []
    for axis in reversed(range(x.dim())):  # torch lists (before, after) from the last axis backwards
        flat += [pads[2 * axis], pads[2 * axis + 1]]
    return F.pad(x, flat, value=value)


def mirror_pad(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x, pads = inputs[0], _ints(inputs[1])
    symmetric = attrs.get("mode", "REFLECT") == "SYMMETRIC"
    for axis in range(x.dim()):
        before, after = pads[2 * axis], pads[2 * axis + 1]
        if not (before or after):
            continue
        size = x.shape[axis]
        lead = range(before - 1, -1, -1) if symmetric else range(before, 0, -1)
        tail = range(size - 1, size - 1 - after, -1) if symmetric else range(size - 2, size - 2 - after, -1)
        index = torch.tensor([*lead, *range(size), *tail], dtype=torch.long)
        x = x.index_select(axis, index)
    return x


def _matmul(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    a, b = inputs[0], inputs[1]
    if attrs.get("transpose_a") or attrs.get("adj_x"):
        a = a.transpose(-1, -2)
    if attrs.get("transpose_b") or attrs.get("adj_y"):
        b = b.transpose(-1, -2)
    return torch.matmul(a, b)


def batch_norm(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    x, scale, offset, mean, variance = inputs[:5]
    return (x - mean) * (scale * torch.rsqrt(variance + float(attrs.get("epsilon", 1e-3)))) + offset


def cast(inputs: Sequence[Tensor], attrs: Attrs) -> Tensor:
    dtype = attrs.get("DstT")
    return inputs[0].to(dtype) if isinstance(dtype, torch.dtype) else inputs[0]


def _binary(fn: Callable[[Tensor, Tensor], Tensor]) -> Op:
    return lambda inputs, attrs: fn(inputs[0], inputs[1])


def _unary(fn: Callable[[Tensor], Tensor]) -> Op:
    return lambda inputs, attrs: fn(inputs[0])


def _floor_div(a: Tensor, b: Tensor) -> Tensor:
    return torch.div(a, b, rounding_mode="floor")


OPS: dict[str, Op] = {
    # convolutions and pooling (NHWC)
    "Conv2D": lambda i, a: _conv(i[0], i[1], a, depthwise=False),
    "_FusedConv2D": fused_conv2d,
    "DepthwiseConv2dNative": lambda i, a: _conv(i[0], i[1], a, depthwise=True),
    "FusedDepthwiseConv2dNative": fused_depthwise,
    "MaxPool": lambda i, a: _pool(i, a, "max"),
    "AvgPool": lambda i, a: _pool(i, a, "avg"),
    "ResizeBilinear": resize_bilinear,
    "ResizeNearestNeighbor": resize_nearest,
    "BiasAdd": _binary(torch.add),
    "FusedBatchNorm": batch_norm,
    "FusedBatchNormV3": batch_norm,
    "MatMul": _matmul,
    "BatchMatMul": _matmul,
    "BatchMatMulV2": _matmul,
    "_FusedMatMul": fused_matmul,
    # element-wise
    "Add": _binary(torch.add),
    "AddV2": _binary(torch.add),
    "AddN": lambda i, a: torch.stack(list(i)).sum(0),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "RealDiv": _binary(torch.div),
    "Div": _binary(torch.div),
    "FloorDiv": _binary(_floor_div),
    "Maximum": _binary(torch.maximum),
    "Minimum": _binary(torch.minimum),
    "Pow": _binary(torch.pow),
    "SquaredDifference": _binary(lambda a, b: (a - b) * (a - b)),
    "Relu": _unary(torch.relu),
    "Relu6": _unary(lambda x: torch.clamp(x, 0.0, 6.0)),
    "Elu": _unary(F.elu),
    "LeakyRelu": lambda i, a: F.leaky_relu(i[0], float(a.get("alpha", 0.2))),
    "Prelu": lambda i, a: torch.where(i[0] >= 0, i[0], i[0] * i[1]),
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Exp": _unary(torch.exp),
    "Log": _unary(torch.log),
    "Sqrt": _unary(torch.sqrt),
    "Rsqrt": _unary(torch.rsqrt),
    "Square": _unary(torch.square),
    "Neg": _unary(torch.neg),
    "Abs": _unary(torch.abs),
    "Reciprocal": _unary(torch.reciprocal),
    "Floor": _unary(torch.floor),
    "Round": _unary(torch.round),  # both round half to even
    "Identity": _unary(lambda x: x),
    "StopGradient": _unary(lambda x: x),
    "Cast": cast,
    # reductions and normalisation
    "Mean": _reduce(torch.mean),
    "Sum": _reduce(torch.sum),
    "Max": _reduce(_amax),
    "Min": _reduce(_amin),
    "Prod": _reduce(_prod),
    "Softmax": _unary(lambda x: torch.softmax(x, dim=-1)),
    "ArgMax": _arg(torch.argmax),
    "ArgMin": _arg(torch.argmin),
    # shapes
    "Shape": shape,
    "Reshape": reshape,
    "Squeeze": squeeze,
    "ExpandDims": lambda i, a: i[0].unsqueeze(_ints(i[1])[0] % (i[0].dim() + 1)),
    "Transpose": lambda i, a: i[0].permute(_ints(i[1])),
    "ConcatV2": concat,
    "Pack": pack,
    "Unpack": unpack,
    "Split": split,
    "SplitV": split_v,
    "Slice": slice_op,
    "StridedSlice": strided_slice,
    "Pad": pad,
    "PadV2": pad,
    "MirrorPad": mirror_pad,
    "Tile": lambda i, a: i[0].repeat(_ints(i[1])),
    "Fill": lambda i, a: torch.full(_ints(i[0]), i[1].item(), dtype=i[1].dtype),
}
