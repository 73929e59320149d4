"""9-channel inpainting UNets (SD 1.5 / SDXL inpainting): noisy latents + mask + masked-image latents.

For garments the layout is CatVTON's: person and garment side by side in one latent, the garment half
never masked, so self-attention reads the garment while the person half is painted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .inputs import WindowInputs
from .unet import UNetSampler, finish


class InpaintStrategy:
    channels = 9

    def __init__(self, sampler: UNetSampler) -> None:
        self.sampler = sampler

    def denoise(self, inputs: WindowInputs) -> torch.Tensor:
        codec = self.sampler.codec
        with torch.no_grad():
            start = codec.encode(inputs.start)
            width = start.shape[-1]
            mask = F.interpolate(inputs.mask, size=start.shape[-2:], mode="nearest")
            masked = codec.encode(inputs.person * (inputs.mask < 0.5))
            if inputs.garment is not None:
                garment = codec.encode(inputs.garment)
                masked = torch.cat([masked, garment], dim=-1)
                mask = torch.cat([mask, torch.zeros_like(mask)], dim=-1)
                start = torch.cat([start, garment], dim=-1)
            latents = self.sampler.sample(inputs, start, extra=torch.cat([mask, masked], dim=1))
        return finish(latents, inputs, width)
