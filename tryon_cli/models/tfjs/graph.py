"""Load a TensorFlow.js graph model (model.json + binary weight shards) and execute it with torch ops.

The format: `modelTopology.node` is a TensorFlow GraphDef in JSON (op, inputs, attrs); constants are not
inline but listed in `weightsManifest` groups, each group's entries packed back to back across that
group's shard files, optionally quantised (uint8/uint16 with scale and min, or float16).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ...errors import InputError
from .ops import OPS

_DTYPES: dict[str, torch.dtype] = {
    "DT_FLOAT": torch.float32,
    "DT_HALF": torch.float16,
    "DT_DOUBLE": torch.float64,
    "DT_INT32": torch.int32,
    "DT_INT64": torch.int64,
    "DT_INT8": torch.int8,
    "DT_UINT8": torch.uint8,
    "DT_INT16": torch.int16,
    "DT_BOOL": torch.bool,
}
_MANIFEST_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("u1"),
}
_QUANTISED: dict[str, np.dtype] = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2")}
_SOURCE_OPS = ("Const", "Placeholder")


class GraphModelError(InputError):
    """A TensorFlow.js model that cannot be read or run: bad files, or ops this runner lacks."""


@dataclass(frozen=True)
class Node:
    """One graph node: its op, parsed attributes and inputs as (node name, output index)."""

    name: str
    op: str
    inputs: tuple[tuple[str, int], ...]
    attrs: Mapping[str, Any]


def _attr_value(value: Mapping[str, Any]) -> Any:
    """A GraphDef AttrValue in JSON as a Python value (strings are base64 in the JSON)."""
    if "list" in value:
        items = value["list"]
        for key in ("i", "f", "s", "b", "type"):
            if key in items:
                return [_attr_value({key: item}) for item in items[key]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode("utf-8", "replace")
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return _DTYPES.get(value["type"], value["type"])
    if "shape" in value:
        shape = value["shape"]
        return None if shape.get("unknownRank") else [int(d.get("size", -1)) for d in shape.get("dim", [])]
    return value  # tensor/func values: left as they are (constants come from the weights)


def _parse_input(text: str) -> tuple[str, int] | None:
    """'name', 'name:1' -> (name, index); control inputs ('^name') carry no data and are dropped."""
    if text.startswith("^"):
        return None
    name, _, index = text.rpartition(":")
    if name and index.isdigit():
        return name, int(index)
    return text, 0


def _read_weights(manifest: Sequence[Mapping[str, Any]], folder: Path) -> dict[str, torch.Tensor]:
    """Every weight of every manifest group, dequantised, as torch tensors."""
    weights: dict[str, torch.Tensor] = {}
    for group in manifest:
        try:
            blob = b"".join((folder / path).read_bytes() for path in group["paths"])
        except OSError as error:
            raise GraphModelError(f"{folder}: cannot read a weight shard ({error})") from error
        offset = 0
        for entry in group["weights"]:
            shape = [int(d) for d in entry["shape"]]
            count = int(np.prod(shape, dtype=np.int64))
            quant = entry.get("quantization")
            dtype = entry["dtype"]
            stored = _QUANTISED.get(quant["dtype"]) if quant else _MANIFEST_DTYPES.get(dtype)
            if stored is None:
                raise GraphModelError(f"{folder}: weight {entry['name']} has an unsupported dtype "
                                      f"{quant['dtype'] if quant else dtype}")
            size = count * stored.itemsize
            if offset + size > len(blob):
                raise GraphModelError(f"{folder}: the weight shards are shorter than the manifest says")
            values = np.frombuffer(blob, dtype=stored, count=count, offset=offset)
            offset += size
            if quant and quant["dtype"] != "float16":
                values = values.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            if dtype == "int32":
                values = np.rint(values).astype(np.int32)
            elif dtype == "bool":
                values = values.astype(bool)
            else:
                values = values.astype(np.float32)
            weights[entry["name"]] = torch.from_numpy(values.reshape(shape).copy())
    return weights


@dataclass
class GraphModel:
    """A loaded graph: nodes by name and constant tensors. Running it changes nothing in it."""

    nodes: dict[str, Node]
    constants: dict[str, torch.Tensor]
    outputs: tuple[str, ...]
    _plans: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Node]] = field(default_factory=dict, repr=False)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of the graph's placeholders."""
        return tuple(name for name, node in self.nodes.items() if node.op == "Placeholder")

    def input_shape(self, name: str) -> list[int] | None:
        """A placeholder's declared shape (-1 for a free dimension), None when unknown."""
        return self.nodes[name].attrs.get("shape")

    def _plan(self, feeds: tuple[str, ...], fetches: tuple[str, ...]) -> list[Node]:
        """The nodes to execute, in dependency order, to compute `fetches` from `feeds` (cached)."""
        key = (feeds, fetches)
        if key in self._plans:
            return self._plans[key]
        order: list[Node] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done
        for root in fetches:
            stack = [(root, False)]
            while stack:
                name, expanded = stack.pop()
                if state.get(name) == 2:
                    continue
                if name not in self.nodes:
                    raise GraphModelError(f"the graph has no node named {name!r}")
                node = self.nodes[name]
                if expanded:
                    state[name] = 2
                    order.append(node)
                    continue
                if state.get(name) == 1:
                    raise GraphModelError(f"the graph has a cycle at {name!r} (control flow is not supported)")
                state[name] = 1
                stack.append((name, True))
                if name not in feeds:
                    stack.extend((source, False) for source, _ in node.inputs if state.get(source) != 2)
        missing = [n.name for n in order if n.op == "Placeholder" and n.name not in feeds]
        if missing:
            raise GraphModelError(f"no value given for the graph input(s) {', '.join(missing)}")
        unsupported = sorted({n.op for n in order if n.op not in OPS and n.op not in _SOURCE_OPS
                              and n.name not in feeds})
        if unsupported:
            raise GraphModelError(f"the graph uses ops this runner does not implement: {', '.join(unsupported)}")
        self._plans[key] = order
        return order

    @torch.inference_mode()
    def run(self, feeds: Mapping[str, np.ndarray | torch.Tensor],
            fetches: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Compute the tensors named in `fetches` (default: the graph outputs; 'name:1' picks a second
        output) from the placeholder values in `feeds`."""
        fetch_names = tuple(fetches) if fetches else self.outputs
        targets = [_parse_input(name) for name in fetch_names]
        plan = self._plan(tuple(sorted(feeds)), tuple(dict.fromkeys(t[0] for t in targets)))
        uses: dict[str, int] = {}
        for node in plan:
            for source, _ in node.inputs:
                uses[source] = uses.get(source, 0) + 1
        keep = {t[0] for t in targets}
        values: dict[str, tuple[torch.Tensor, ...]] = {}
        for node in plan:
            if node.name in feeds:
                values[node.name] = (self._feed(node, feeds[node.name]),)
            elif node.op == "Const":
                if node.name not in self.constants:
                    raise GraphModelError(f"constant {node.name!r} is missing from the weights manifest")
                values[node.name] = (self.constants[node.name],)
            else:
                args = [values[source][index] for source, index in node.inputs]
                try:
                    result = OPS[node.op](args, node.attrs)
                except (RuntimeError, ValueError, IndexError, TypeError) as error:
                    raise GraphModelError(f"op {node.op} at node {node.name!r} failed: {error}") from error
                values[node.name] = result if isinstance(result, tuple) else (result,)
            for source, _ in node.inputs:  # free intermediates as soon as their last reader ran
                uses[source] -= 1
                if uses[source] == 0 and source not in keep:
                    values.pop(source, None)
        return {name: values[source][index] for name, (source, index) in zip(fetch_names, targets)}

    def _feed(self, node: Node, value: np.ndarray | torch.Tensor) -> torch.Tensor:
        tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(value))
        dtype = node.attrs.get("dtype")
        if isinstance(dtype, torch.dtype) and tensor.dtype != dtype:
            tensor = tensor.to(dtype)
        shape = node.attrs.get("shape")
        if shape is not None and node.op == "Placeholder":
            if len(shape) != tensor.dim() or any(d not in (-1, s) for d, s in zip(shape, tensor.shape)):
                raise GraphModelError(f"input {node.name!r} expects shape {shape}, got {list(tensor.shape)}")
        return tensor


def _default_outputs(data: Mapping[str, Any], nodes: Mapping[str, Node]) -> tuple[str, ...]:
    """The signature's outputs when the file names them, else the nodes nothing reads."""
    signature = data.get("signature") or data.get("userDefinedMetadata", {}).get("signature") or {}
    named = [spec.get("name", key).split(":")[0] for key, spec in (signature.get("outputs") or {}).items()]
    if named and all(name in nodes for name in named):
        return tuple(named)
    read = {source for node in nodes.values() for source, _ in node.inputs}
    return tuple(name for name, node in nodes.items() if name not in read and node.op not in _SOURCE_OPS)


def load_graph_model(path: str | Path) -> GraphModel:
    """Read a TensorFlow.js graph model from its model.json (or the folder holding it) and its shards."""
    path = Path(path)
    model_json = path / "model.json" if path.is_dir() else path
    try:
        data = json.loads(model_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GraphModelError(f"{model_json}: cannot read the TensorFlow.js model ({error})") from error
    if data.get("format", "graph-model") != "graph-model" or "modelTopology" not in data:
        raise GraphModelError(f"{model_json}: not a TensorFlow.js graph model (format {data.get('format')!r})")
    topology = data["modelTopology"]
    if topology.get("library", {}).get("function"):
        raise GraphModelError(f"{model_json}: graphs with functions (control flow) are not supported")
    nodes: dict[str, Node] = {}
    for raw in topology.get("node", []):
        inputs = tuple(parsed for text in raw.get("input", []) if (parsed := _parse_input(text)))
        attrs = {key: _attr_value(value) for key, value in raw.get("attr", {}).items() if key != "value"}
        nodes[raw["name"]] = Node(raw["name"], raw["op"], inputs, attrs)
    constants = _read_weights(data.get("weightsManifest", []), model_json.parent)
    return GraphModel(nodes, constants, _default_outputs(data, nodes))
