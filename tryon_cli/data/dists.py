"""DISTS (Ding et al. 2020): deep image structure and texture similarity, for the texture filter.

Built on plain torch (no torchvision): VGG16's convolution layers by index, max-pooling replaced by
Hann-window L2 pooling, and DISTS's learned per-channel weights. The weights folder holds the VGG16
ImageNet state dict (torchvision's `vgg16-*.pth`) and DISTS's `weights.pt` (alpha, beta).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelMissingError
from ..models.catalogue import locate_pretrained

# torchvision's vgg16().features: (index, in, out) of each convolution; 4, 9, 16, 23 are max-pools
_CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256),
          (17, 256, 512), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512)]
_STAGES = [(0, 4), (5, 9), (10, 16), (17, 23), (24, 30)]
CHANNELS = [3, 64, 128, 256, 512, 512]


class L2Pooling(nn.Module):
    """sqrt(Hann-weighted mean of x^2), stride 2: an anti-aliased replacement for max-pooling."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([0.5, 1.0, 0.5])
        kernel = taps[:, None] * taps[None, :]
        self.register_buffer("kernel", (kernel / kernel.sum())[None, None].repeat(channels, 1, 1, 1))
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(F.conv2d(x**2, self.kernel, stride=2, padding=1, groups=self.channels) + 1e-12)


class DISTS(nn.Module):
    """DISTS distance between images in [0, 1], shape (N, 3, H, W): 0 for identical images."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.ModuleDict({str(i): nn.Conv2d(a, b, 3, padding=1) for i, a, b in _CONVS})
        self.pools = nn.ModuleList([L2Pooling(c) for c in (64, 128, 256, 512)])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.alpha = nn.Parameter(torch.ones(1, sum(CHANNELS), 1, 1))
        self.beta = nn.Parameter(torch.ones(1, sum(CHANNELS), 1, 1))

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = [x]
        h = (x - self.mean) / self.std
        for n, (start, end) in enumerate(_STAGES):
            if n:
                h = self.pools[n - 1](h)
            for index in range(start, end, 2):
                h = F.relu(self.features[str(index)](h))
            out.append(h)
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fx, fy = self._stages(x), self._stages(y)
        total = self.alpha.sum() + self.beta.sum()
        alphas = torch.split(self.alpha / total, CHANNELS, dim=1)
        betas = torch.split(self.beta / total, CHANNELS, dim=1)
        structure = texture = 0.0
        for a, b, alpha, beta in zip(fx, fy, alphas, betas):
            mean_a, mean_b = a.mean([2, 3], keepdim=True), b.mean([2, 3], keepdim=True)
            s1 = (2 * mean_a * mean_b + 1e-6) / (mean_a**2 + mean_b**2 + 1e-6)
            var_a = ((a - mean_a) ** 2).mean([2, 3], keepdim=True)
            var_b = ((b - mean_b) ** 2).mean([2, 3], keepdim=True)
            cov = (a * b).mean([2, 3], keepdim=True) - mean_a * mean_b
            s2 = (2 * cov + 1e-6) / (var_a + var_b + 1e-6)
            structure = structure + (alpha * s1).sum(1, keepdim=True)
            texture = texture + (beta * s2).sum(1, keepdim=True)
        return 1 - (structure + texture).flatten()


def load_dists(folder: str) -> DISTS:
    """DISTS from a folder with a VGG16 state dict (vgg16*.pth) and DISTS's weights.pt (alpha, beta)."""
    path = locate_pretrained(folder)
    vgg = sorted(path.glob("vgg16*.pth")) if path is not None and path.is_dir() else []
    weights = path / "weights.pt" if path is not None else None
    if not vgg or weights is None or not weights.exists():
        raise ModelMissingError(f"DISTS weights not found in '{folder}': it needs vgg16-*.pth (torchvision's VGG16 "
                                "ImageNet weights) and weights.pt (alpha, beta) from the DISTS_pytorch package")
    model = DISTS()
    state = torch.load(vgg[0], map_location="cpu", weights_only=True)
    for index, _, _ in _CONVS:
        for part in ("weight", "bias"):
            key = f"features.{index}.{part}"
            if key not in state:
                raise ModelMissingError(f"{vgg[0]}: not a VGG16 state dict (no {key})")
            getattr(model.features[str(index)], part).data.copy_(state[key])
    learned = torch.load(weights, map_location="cpu", weights_only=True)
    model.alpha.data.copy_(learned["alpha"].view_as(model.alpha))
    model.beta.data.copy_(learned["beta"].view_as(model.beta))
    return model.eval()


def dists_distance(model: DISTS, a: np.ndarray, b: np.ndarray, size: int = 256) -> float:
    """DISTS between two RGB uint8 images, both resized to size x size."""
    import cv2

    def tensor(image: np.ndarray) -> torch.Tensor:
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        return torch.from_numpy(resized).permute(2, 0, 1)[None]

    with torch.no_grad():
        return float(model(tensor(a), tensor(b))[0])

