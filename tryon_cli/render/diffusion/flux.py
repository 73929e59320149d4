"""FLUX families through diffusers' own pipelines: Fill, ControlNet inpainting, Kontext.

What this project adds rides on the pipelines' hooks rather than a loop of our own:
- shared initial noise: one generator per frame, all seeded alike (`generator=[...]`), so every frame
  starts from the same noise and the pipeline still noises the starting image to the strength;
- cross-frame attention: `FluxCrossFrameAttnProcessor` set on the transformer's attention modules;
- progress per step: `callback_on_step_end`;
- window blending and paste-back: the pipeline returns latents (`output_type="latent"`), which the
  streamer blends across windows, decodes and pastes back inside the mask.

Per family: Fill takes the image and the mask; ControlNet inpainting also takes a control image (the
normal map where the swap gives one, otherwise the masked image, what inpainting ControlNets read);
Kontext takes a context image (the starting image, with the garment photo beside it for a try-on)
and edits without a mask.
"""

from __future__ import annotations

import torch

from ..options import DiffusionOptions
from .family import FLUX_CONTROLNET, FLUX_FILL, FLUX_KONTEXT
from .flux_attention import set_flux_video_attention
from .inputs import Codec, WindowInputs
from .components import DiffusionComponents

DEFAULT_GUIDANCE = {FLUX_FILL: 30.0, FLUX_CONTROLNET: 3.5, FLUX_KONTEXT: 2.5}  # each model card's value
TILING_FROM = 1024  # working sizes from which the VAE decodes in tiles


class FluxStrategy:
    """One FLUX pipeline call per window, on the window's frames as one batch."""

    def __init__(self, components: DiffusionComponents, settings: DiffusionOptions, codec: Codec) -> None:
        self.pipeline = components.pipeline
        self.family = components.family
        self.settings = settings
        self.codec = codec
        if settings.attention_slicing:
            self.pipeline.vae.enable_slicing()
        if settings.resolution >= TILING_FROM:
            self.pipeline.vae.enable_tiling()
        self.prompt_embeds, self.pooled_embeds = self._encode_prompt()

    def _encode_prompt(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The prompt through the checkpoint's text encoders, or zero embeddings where it has none."""
        pipe = self.pipeline
        device = self.codec.device
        if pipe.text_encoder is not None and pipe.text_encoder_2 is not None:
            with torch.no_grad():
                embeds, pooled, _ = pipe.encode_prompt(self.settings.prompt, None, device=device)
            return embeds, pooled
        config = pipe.transformer.config
        return (torch.zeros((1, 1, config.joint_attention_dim), device=device, dtype=self.codec.dtype),
                torch.zeros((1, config.pooled_projection_dim), device=device, dtype=self.codec.dtype))

    def _generators(self, frames: int) -> torch.Generator | list[torch.Generator]:
        seed = self.settings.seed
        if self.settings.consistency:  # one generator per frame, all alike: the same noise in every frame
            return [torch.Generator("cpu").manual_seed(seed) for _ in range(frames)]
        return torch.Generator("cpu").manual_seed(seed)  # one draw for the batch: each frame its own noise

    def denoise(self, inputs: WindowInputs) -> torch.Tensor:
        pipe, s = self.pipeline, self.settings
        frames = inputs.frames
        height, width = inputs.person.shape[-2:]
        set_flux_video_attention(pipe.transformer, frames if s.consistency else 0)
        if self.family is FLUX_CONTROLNET and pipe.controlnet is not None:
            set_flux_video_attention(pipe.controlnet, frames if s.consistency else 0)

        def on_step(pipeline, step: int, timestep, tensors: dict) -> dict:
            inputs.report(step + 1, pipeline.num_timesteps)
            return {}

        start = (inputs.start + 1) / 2  # the pipelines' image processors take [0, 1]
        call = dict(prompt_embeds=self.prompt_embeds.expand(frames, -1, -1),
                    pooled_prompt_embeds=self.pooled_embeds.expand(frames, -1), height=height, width=width,
                    num_inference_steps=s.steps, generator=self._generators(frames), output_type="latent",
                    guidance_scale=s.guidance if s.guidance > 1 else DEFAULT_GUIDANCE[self.family],
                    callback_on_step_end=on_step)
        if self.family is FLUX_KONTEXT:
            context = start if inputs.garment is None else torch.cat([start, (inputs.garment + 1) / 2], dim=-1)
            call.update(image=context, max_area=height * width, _auto_resize=False)
        else:
            call.update(image=start, mask_image=inputs.mask, strength=s.strength)
            if self.family is FLUX_CONTROLNET:
                person = (inputs.person + 1) / 2
                control = inputs.control if inputs.control is not None else person * (inputs.mask < 0.5)
                call.update(control_image=control)
        with torch.no_grad():
            packed = pipe(**call).images
        latents = pipe._unpack_latents(packed, height, width, pipe.vae_scale_factor)
        if inputs.anchored:
            latents = latents[1:]
        return latents.float().cpu()
