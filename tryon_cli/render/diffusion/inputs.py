"""What every model-kind strategy gets for one window, and the VAE codec they share."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import torch

from ..contract import Progress


@dataclass(frozen=True)
class WindowInputs:
    """One window's tensors at the processing size, the anchor frame (if any) first.

    `person` and `start` are images in [-1, 1] (start: the classical render where strength < 1);
    `mask` is 1 where pixels may change; `garment` (try-on) and `control` (ControlNet, [0, 1]) are
    present only where the conditions carry them. `identity` is each frame's source embedding shaped for
    the UNet's IP-Adapter projection; with `control_reads_identity` (InstantID) the ControlNet's
    cross-attention reads the projected identity tokens instead of the text.
    """

    person: torch.Tensor
    mask: torch.Tensor
    start: torch.Tensor
    anchored: bool
    label: str
    garment: torch.Tensor | None = None
    control: torch.Tensor | None = None
    progress: Progress | None = None
    identity: torch.Tensor | None = None
    control_reads_identity: bool = False

    def __post_init__(self) -> None:
        if self.person.shape != self.start.shape or self.mask.shape[0] != self.person.shape[0]:
            raise ValueError("person, start and mask must hold the same frames")

    @property
    def frames(self) -> int:
        return int(self.person.shape[0])

    def report(self, step: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.label, step, total)


class Strategy(Protocol):
    """One model kind's denoising of a window: returns the final latents of the window's frames."""

    def denoise(self, inputs: WindowInputs) -> torch.Tensor:
        ...


def to_tensor(images: list[np.ndarray], size: tuple[int, int], device, dtype) -> torch.Tensor:
    """uint8 RGB images resized to `size` (w, h) as a (B, 3, h, w) tensor in [-1, 1]."""
    batch = np.stack([cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images]).astype(np.float32)
    return torch.from_numpy(batch).permute(0, 3, 1, 2).to(device, dtype) / 127.5 - 1.0


def mask_tensor(masks: list[np.ndarray], size: tuple[int, int], device, dtype) -> torch.Tensor:
    """uint8 masks resized to `size` as a (B, 1, h, w) tensor in [0, 1]."""
    batch = np.stack([cv2.resize(m, size, interpolation=cv2.INTER_NEAREST) for m in masks]).astype(np.float32)
    return torch.from_numpy(batch / 255.0)[:, None].to(device, dtype)


class Codec:
    """The VAE both ways, with its scaling and shift, on the working device (offloaded between uses)."""

    def __init__(self, vae, device: torch.device, dtype: torch.dtype, offload: bool) -> None:
        self.vae = vae
        self.device = device
        self.dtype = dtype
        self.offload = offload

    @contextmanager
    def on_device(self, module):
        """Move a module to the working device for a block and back to the CPU after, when offloading."""
        if not self.offload or module is None:
            yield
            return
        module.to(self.device)
        try:
            yield
        finally:
            module.to("cpu")

    @property
    def shift(self) -> float:
        return getattr(self.vae.config, "shift_factor", None) or 0.0

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        with self.on_device(self.vae), torch.no_grad():
            latents = self.vae.encode(images.to(self.device, self.dtype)).latent_dist.mode()
        return (latents - self.shift) * self.vae.config.scaling_factor

    def decode(self, latents: torch.Tensor) -> list[np.ndarray]:
        with self.on_device(self.vae), torch.no_grad():
            scaled = latents.to(self.device, self.dtype) / self.vae.config.scaling_factor + self.shift
            images = self.vae.decode(scaled).sample
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return list(images)
