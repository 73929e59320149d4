"""resize and to_pil_image, as segment_anything uses them (tensor images, (h, w) sizes)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def resize(image: torch.Tensor, size, antialias: bool | None = None) -> torch.Tensor:
    squeeze = image.ndim == 3
    batch = image[None] if squeeze else image
    out = F.interpolate(batch.float(), size=tuple(size), mode="bilinear", align_corners=False, antialias=bool(antialias))
    out = out.to(image.dtype) if not image.dtype.is_floating_point else out
    return out[0] if squeeze else out


def to_pil_image(image) -> Image.Image:
    array = image.numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(1, 2, 0)
    return Image.fromarray(array.astype(np.uint8))
