"""The UNet denoising loop the three UNet strategies share (SD 1.5 / SDXL shapes, DDIM).

This loop stays our own rather than diffusers' inpainting pipelines: CatVTON's side-by-side latents
(garment half never masked), the 8-channel concatenation and the blended-latent re-noising of the
4-channel kind each change what goes into the UNet every step, which `callback_on_step_end` (it sees
the latents only after the step) cannot express. Moving only the 9-channel kind onto
`StableDiffusion(XL)(ControlNet)InpaintPipeline` would keep this loop for the other two and add a second
path (four pipeline classes for SD/SDXL with and without a ControlNet) for the same behaviour: more code,
not less. The identity condition rides here as `added_cond_kwargs["image_embeds"]`, the tensor those
pipelines build from `ip_adapter_image_embeds`, through the same diffusers IP-Adapter processors.
"""

from __future__ import annotations

import torch

from ..options import DiffusionOptions
from .attention import set_video_attention
from .inputs import Codec, WindowInputs
from .components import DiffusionComponents


class UNetSampler:
    """Text embeddings, shared noise and the sampling loop for one UNet checkpoint."""

    def __init__(self, components: DiffusionComponents, settings: DiffusionOptions, codec: Codec) -> None:
        self.components = components
        self.settings = settings
        self.codec = codec
        self.device = codec.device
        self.dtype = codec.dtype
        self.text, self.negative = self._encode_prompts()

    def _encode_prompts(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        components = self.components
        dim = int(components.unet.config.cross_attention_dim)
        if components.text_encoder is None or components.tokenizer is None:
            return torch.zeros((1, 1, dim), device=self.device, dtype=self.dtype), None

        def encode(text: str) -> torch.Tensor:
            tokens = components.tokenizer(text, padding="max_length", truncation=True,
                                          max_length=components.tokenizer.model_max_length, return_tensors="pt")
            with self.codec.on_device(components.text_encoder), torch.no_grad():
                return components.text_encoder(tokens.input_ids.to(self.device))[0].to(self.dtype)

        negative = encode(self.settings.negative_prompt) if self.settings.guidance > 1 else None
        return encode(self.settings.prompt), negative

    def noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        """The initial noise: one draw shared by every frame with consistency, one per frame without."""
        frames = shape[0]
        generator = torch.Generator(device="cpu").manual_seed(self.settings.seed)
        if self.settings.consistency:
            drawn = torch.randn((1,) + tuple(shape[1:]), generator=generator, dtype=torch.float32)
            return drawn.expand(frames, -1, -1, -1).to(self.device, self.dtype)
        return torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device, self.dtype)

    def _added_conditions(self, model_input: torch.Tensor) -> dict | None:
        """SDXL-family UNets also take a pooled text embedding and size/crop time ids.

        Without SDXL's two text encoders loaded the pooled embedding is zero (unconditional), and the
        time ids say: original size = target size = the working size, no crop.
        """
        config = self.components.unet.config
        if getattr(config, "addition_embed_type", None) != "text_time":
            return None
        batch, _, height, width = model_input.shape
        scale = self.components.vae_scale
        pooled = int(config.projection_class_embeddings_input_dim) - 6 * int(config.addition_time_embed_dim)
        size = [height * scale, width * scale]
        time_ids = torch.tensor([size + [0, 0] + size], device=self.device, dtype=self.dtype).repeat(batch, 1)
        return {"text_embeds": torch.zeros((batch, pooled), device=self.device, dtype=self.dtype),
                "time_ids": time_ids}

    def sample(self, inputs: WindowInputs, start: torch.Tensor, extra: torch.Tensor | None,
               known_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Denoise from `start` (noised to the strength's timestep).

        `extra` is concatenated to the UNet input on the channel axis every step (mask and masked image,
        or the condition latents); where `known_mask` is given, the region where it is 0 is reset to
        `start` noised to the next timestep after every step (blended-latent inpainting).
        """
        s = self.settings
        batch = start.shape[0]
        noise = self.noise(tuple(start.shape))
        scheduler = self.components.scheduler
        scheduler.set_timesteps(s.steps, device=self.device)
        skip = min(int(round(s.steps * (1.0 - s.strength))), s.steps - 1)
        timesteps = scheduler.timesteps[skip:]
        if s.strength >= 1.0:
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(start, noise, timesteps[:1].repeat(batch))
        guided = self.negative is not None and s.guidance > 1.0
        text = self.text.expand(batch, -1, -1)
        context = torch.cat([self.negative.expand(batch, -1, -1), text]) if guided else text
        groups = 2 if guided else 1
        unet, controlnet = self.components.unet, self.components.controlnet
        control = inputs.control if controlnet is not None else None
        identity = inputs.identity
        if identity is not None and guided:  # the unconditional half has no identity (zeros)
            identity = torch.cat([torch.zeros_like(identity), identity])
        set_video_attention(unet, batch if s.consistency else 0, anchor=0,
                            skip_cross=self.components.skip_cross_attention)
        with torch.no_grad(), self.codec.on_device(unet), self.codec.on_device(controlnet if control is not None else None):
            control_context = context
            if control is not None and inputs.control_reads_identity:  # InstantID: the identity tokens
                projected = unet.encoder_hid_proj([identity])[0]
                control_context = projected.reshape(projected.shape[0], -1, projected.shape[-1])
            for step, t in enumerate(timesteps):
                model_input = scheduler.scale_model_input(torch.cat([latents] * groups), t)
                added = self._added_conditions(model_input)
                residuals = {}
                if control is not None:
                    down, mid = controlnet(model_input, t, encoder_hidden_states=control_context,
                                           controlnet_cond=torch.cat([control] * groups), added_cond_kwargs=added,
                                           return_dict=False)
                    residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
                if identity is not None:
                    added = {**(added or {}), "image_embeds": [identity]}
                if extra is not None:
                    model_input = torch.cat([model_input, torch.cat([extra] * groups)], dim=1)
                prediction = unet(model_input, t, encoder_hidden_states=context, added_cond_kwargs=added,
                                  **residuals).sample
                if guided:
                    uncond, cond = prediction.chunk(2)
                    prediction = uncond + s.guidance * (cond - uncond)
                latents = scheduler.step(prediction, t, latents).prev_sample
                if known_mask is not None:
                    following = timesteps[step + 1 : step + 2]
                    known = scheduler.add_noise(start, noise, following.repeat(batch)) if len(following) else start
                    latents = known_mask * latents + (1 - known_mask) * known
                inputs.report(step + 1, len(timesteps))
        return latents


def finish(latents: torch.Tensor, inputs: WindowInputs, person_width: int) -> torch.Tensor:
    """The person half (side-by-side layouts), without the anchor frame, as float32 on the CPU."""
    latents = latents[..., :person_width]
    if inputs.anchored:
        latents = latents[1:]
    return latents.float().cpu()
