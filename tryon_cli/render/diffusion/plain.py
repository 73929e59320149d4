"""4-channel text-to-image UNets: blended-latent inpainting.

After every step the region outside the mask is reset to the starting image noised to the next
timestep, so only the masked region is painted while it stays in tune with its surroundings.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .inputs import WindowInputs
from .unet import UNetSampler, finish


class PlainStrategy:
    channels = 4

    def __init__(self, sampler: UNetSampler) -> None:
        self.sampler = sampler

    def denoise(self, inputs: WindowInputs) -> torch.Tensor:
        with torch.no_grad():
            start = self.sampler.codec.encode(inputs.start)
            mask = F.interpolate(inputs.mask, size=start.shape[-2:], mode="nearest")
            latents = self.sampler.sample(inputs, start, extra=None, known_mask=mask)
        return finish(latents, inputs, start.shape[-1])
