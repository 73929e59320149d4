"""A small TensorFlow.js graph-model runner on torch (CPU): no TensorFlow needed."""

from .graph import GraphModel, GraphModelError, Node, load_graph_model
from .ops import OPS, same_padding

__all__ = ["GraphModel", "GraphModelError", "Node", "OPS", "load_graph_model", "same_padding"]
