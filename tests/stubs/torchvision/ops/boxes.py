"""batched_nms and box_area, as segment_anything's automatic mask generator uses them."""

from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _iou(box: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(box[:2], others[:, :2])
    rb = torch.minimum(box[2:], others[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    return inter / (box_area(box[None])[0] + box_area(others) - inter)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    keep = []
    for category in idxs.unique():
        members = torch.nonzero(idxs == category).flatten()
        order = members[scores[members].argsort(descending=True)]
        while len(order):
            best, order = order[0], order[1:]
            keep.append(best)
            if len(order):
                order = order[_iou(boxes[best], boxes[order]) <= iou_threshold]
    if not keep:
        return torch.zeros(0, dtype=torch.long)
    keep = torch.stack(keep)
    return keep[scores[keep].argsort(descending=True)]
