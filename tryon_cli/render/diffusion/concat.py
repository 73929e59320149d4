"""8-channel concatenation UNets (instruct-pix2pix style, mask-free try-on): noisy latents + condition.

The condition is the person's latents, or [person | garment] side by side for a try-on; the model
decides where to paint, the mask only bounds the paste-back.
"""

from __future__ import annotations

import torch

from .inputs import WindowInputs
from .unet import UNetSampler, finish


class ConcatStrategy:
    channels = 8

    def __init__(self, sampler: UNetSampler) -> None:
        self.sampler = sampler

    def denoise(self, inputs: WindowInputs) -> torch.Tensor:
        codec = self.sampler.codec
        with torch.no_grad():
            person = codec.encode(inputs.person)
            start = codec.encode(inputs.start)
            width = person.shape[-1]
            condition = person
            if inputs.garment is not None:
                garment = codec.encode(inputs.garment)
                condition = torch.cat([person, garment], dim=-1)
                start = torch.cat([start, garment], dim=-1)
            latents = self.sampler.sample(inputs, start, extra=condition)
        return finish(latents, inputs, width)
