"""The diffusion engine: real diffusers components behind the engine interface.

Per window of frames: crop around the masks, encode, denoise with one shared initial noise, decode,
paste back inside the feathered mask (pixels outside it stay bit-exact). The UNet's input channels
choose the pipeline:

- 9 channels (SD 1.5 / SDXL-style inpainting): noisy latents + mask + masked-image latents; for
  garments, CatVTON-style: person and garment side by side in one latent, garment half unmasked;
- 8 channels (instruct-pix2pix style, mask-free try-on): noisy latents + [person | garment] latents;
- 4 channels (plain text-to-image): blended-latent inpainting (known region re-noised each step).

Video consistency is training-free: the same noise for every frame, self-attention extended to an
anchor frame and the previous frame, and overlapping windows blended in latent space.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np
import torch

from ...errors import InputError
from ...masks.shapes import bounding_box, dilate, feather
from .attention import set_video_attention
from ..contract import Conditions, GarmentConditions, Progress, RenderItem, SwapConditions, paste_back
from ..options import DiffusionOptions
from .loading import (DiffusionComponents, load_catvton_attention, load_components, load_controlnet, resolve_device,
                      resolve_dtype)
from .windows import LatentBlender

Item = tuple[object, np.ndarray, np.ndarray | None, Conditions | None]


@dataclass
class _Window:
    """Tensors of one window, in the crop's processing size."""

    items: list[tuple[int, Item]]
    crop: tuple[int, int, int, int]
    size: tuple[int, int]


class DiffusionEngine:
    """Diffusion renderer; the classical engine makes starting images where strength < 1."""

    name = "diffusion"

    def __init__(self, components: DiffusionComponents, settings: DiffusionOptions, classical,
                 device: torch.device, dtype: torch.dtype) -> None:
        self.components = components
        self.settings = settings
        self.classical = classical
        self.device = device
        self.dtype = dtype
        self.progress: Progress | None = None
        self._prepared: set[type] = set()
        self.window = settings.window
        self.overlap = settings.overlap
        self.needs_normal_map = components.controlnet is not None
        if settings.attention_slicing:
            components.vae.enable_slicing()
        self._text = self._encode_prompts()

    @classmethod
    def load(cls, settings: DiffusionOptions, classical) -> "DiffusionEngine":
        """Load the checkpoint's components; extra weights come with `prepare`, by conditions type."""
        device = resolve_device(settings.device.value)
        dtype = resolve_dtype(settings.dtype.value, device)
        components = load_components(settings.checkpoint, device if not settings.cpu_offload else torch.device("cpu"),
                                     dtype, settings.allow_download)
        return cls(components, settings, classical, device, dtype)

    def prepare(self, kind: type) -> None:
        """Swaps take a ControlNet on the normal map, garments CatVTON's attention, where configured."""
        from ...models.catalogue import configured

        if kind in self._prepared:
            return
        if kind is SwapConditions:
            controlnet = configured("controlnet").setting().value
            if controlnet:
                load_controlnet(self.components, controlnet, self.settings.allow_download)
                self.needs_normal_map = True
        elif kind is GarmentConditions:
            weights = configured("catvton").setting().value
            if weights:
                load_catvton_attention(self.components, weights, self.settings.allow_download)
        else:
            raise TypeError(f"the diffusion engine cannot render {kind.__name__}")
        self._prepared.add(kind)

    # ---------------------------------------------------------------- public interface
    def render(self, frames: Sequence[np.ndarray], masks: Sequence[np.ndarray],
               conditions: Sequence[Conditions]) -> list[np.ndarray]:
        """Render the frames as one video stream (windows and overlaps as configured)."""
        items = [RenderItem(i, f, m, c) for i, (f, m, c) in enumerate(zip(frames, masks, conditions))]
        return [out for _, out in self.render_stream(items)]

    def render_stream(self, items: Iterable[RenderItem],
                      progress: Progress | None = None) -> Iterator[tuple[object, np.ndarray]]:
        """Render items in order; yields (key, output) in the same order."""
        self.progress = progress
        ready: dict[int, tuple[object, np.ndarray]] = {}
        next_out = 0
        blender = LatentBlender(self.overlap, renormalize=self.settings.consistency)
        state = {"crop": None, "anchor": None, "pending": {}, "emitted": set()}
        buffer: list[tuple[int, Item]] = []
        processed_until = 0

        def drain() -> Iterator[tuple[object, np.ndarray]]:
            nonlocal next_out
            while next_out in ready:
                yield ready.pop(next_out)
                next_out += 1

        for index, render_item in enumerate(items):
            if render_item.conditions is not None:
                self.prepare(type(render_item.conditions))
            item = (render_item.key, render_item.frame, render_item.mask, render_item.conditions)
            buffer.append((index, item))
            if len(buffer) == self.window:
                for done in self._process(buffer, blender, state, final=False):
                    ready[done[0]] = done[1]
                processed_until = buffer[-1][0] + 1
                yield from drain()
                buffer = buffer[self.window - self.overlap :]
        if any(i >= processed_until for i, _ in buffer):
            for done in self._process(buffer, blender, state, final=True):
                ready[done[0]] = done[1]
        for done in self._flush(blender, state):
            ready[done[0]] = done[1]
        yield from drain()

    # ---------------------------------------------------------------- windows
    def _process(self, buffer: list[tuple[int, Item]], blender: LatentBlender, state: dict,
                 final: bool) -> Iterator[tuple[int, tuple[object, np.ndarray]]]:
        masks = [self._mask_for(item) for _, item in buffer]
        union = np.bitwise_or.reduce(masks) if masks else None
        if union is None or not union.any():
            yield from self._flush(blender, state)
            for index, item in buffer:
                if index not in state["pending"] and index not in state["emitted"]:
                    state["emitted"].add(index)
                    yield index, (item[0], item[1])
            state["crop"] = None
            return
        frame_shape = buffer[0][1][1].shape[:2]
        crop = state["crop"]
        if crop is None or not _inside(bounding_box(union), crop):
            yield from self._flush(blender, state)
            crop = self._crop_for(union, frame_shape, buffer[0][1][3])
            state["crop"], state["anchor"] = crop, None
        window = _Window(items=buffer, crop=crop, size=self._processing_size(crop))
        latents = self._denoise_window(window, state)
        for index, item in buffer:
            state["pending"].setdefault(index, item)
        start = buffer[0][0]
        for index, latent in blender.add(start, latents, final):
            yield from self._emit(index, latent, window, state)

    def _flush(self, blender: LatentBlender, state: dict) -> Iterator[tuple[int, tuple[object, np.ndarray]]]:
        """Decode every frame the blender still holds (a crop change, a gap without masks, the end)."""
        held = list(blender.flush())
        if not held:
            return
        window = _Window(items=[], crop=state["crop"], size=self._processing_size(state["crop"]))
        for index, latent in held:
            yield from self._emit(index, latent, window, state)

    def _emit(self, index: int, latent: torch.Tensor, window: _Window,
              state: dict) -> Iterator[tuple[int, tuple[object, np.ndarray]]]:
        key, frame, mask, condition = state["pending"].pop(index)
        state["emitted"].add(index)
        image = self._decode(latent[None])[0]
        x0, y0, x1, y1 = window.crop
        resized = cv2.resize(image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
        rendered = frame.copy()
        rendered[y0:y1, x0:x1] = resized
        region = self._mask_for((key, frame, mask, condition))
        size = max(x1 - x0, y1 - y0)
        yield index, (key, paste_back(frame, rendered, feather(region, max(int(size * 0.02), 1))))

    # ---------------------------------------------------------------- geometry
    def _mask_for(self, item: Item) -> np.ndarray:
        _, frame, mask, condition = item
        if condition is None or mask is None:
            return np.zeros(frame.shape[:2], dtype=np.uint8)
        return mask

    def _crop_for(self, union: np.ndarray, shape: tuple[int, int], condition) -> tuple[int, int, int, int]:
        height, width = shape
        if isinstance(condition, GarmentConditions):
            return 0, 0, width, height
        x0, y0, x1, y1 = bounding_box(union)
        side = int(max(x1 - x0, y1 - y0) * (1 + 2 * self.settings.crop_margin))
        side = min(side, width, height)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        left = int(np.clip(cx - side // 2, 0, width - side))
        top = int(np.clip(cy - side // 2, 0, height - side))
        return left, top, left + side, top + side

    def _processing_size(self, crop: tuple[int, int, int, int]) -> tuple[int, int]:
        x0, y0, x1, y1 = crop
        multiple = self.components.vae_scale * self.components.latent_multiple
        scale = self.settings.resolution / max(x1 - x0, y1 - y0)
        width = max(multiple, int(round((x1 - x0) * scale / multiple)) * multiple)
        height = max(multiple, int(round((y1 - y0) * scale / multiple)) * multiple)
        return width, height

    # ---------------------------------------------------------------- tensors
    def _to_tensor(self, images: list[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
        batch = np.stack([cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images]).astype(np.float32)
        return torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device, self.dtype) / 127.5 - 1.0

    def _mask_tensor(self, masks: list[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
        batch = np.stack([cv2.resize(m, size, interpolation=cv2.INTER_NEAREST) for m in masks]).astype(np.float32)
        return torch.from_numpy(batch / 255.0)[:, None].to(self.device, self.dtype)

    @contextmanager
    def _on_device(self, module):
        if not self.settings.cpu_offload or module is None:
            yield
            return
        module.to(self.device)
        try:
            yield
        finally:
            module.to("cpu")

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        vae = self.components.vae
        with self._on_device(vae), torch.no_grad():
            latents = vae.encode(images).latent_dist.mode()
        shift = getattr(vae.config, "shift_factor", None) or 0.0
        return (latents - shift) * vae.config.scaling_factor

    def _decode(self, latents: torch.Tensor) -> list[np.ndarray]:
        vae = self.components.vae
        with self._on_device(vae), torch.no_grad():
            scaled = latents.to(self.device, self.dtype) / vae.config.scaling_factor
            scaled = scaled + (getattr(vae.config, "shift_factor", None) or 0.0)
            images = vae.decode(scaled).sample
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return list(images)

    def _encode_prompts(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        components = self.components
        dim = int(components.unet.config.cross_attention_dim)
        if components.text_encoder is None or components.tokenizer is None:
            return torch.zeros((1, 1, dim), device=self.device, dtype=self.dtype), None

        def encode(text: str) -> torch.Tensor:
            tokens = components.tokenizer(text, padding="max_length", truncation=True,
                                          max_length=components.tokenizer.model_max_length, return_tensors="pt")
            with self._on_device(components.text_encoder), torch.no_grad():
                return components.text_encoder(tokens.input_ids.to(self.device))[0].to(self.dtype)

        negative = encode(self.settings.negative_prompt) if self.settings.guidance > 1 else None
        return encode(self.settings.prompt), negative

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

    def _noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        generator = torch.Generator(device="cpu").manual_seed(self.settings.seed)
        return torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device, self.dtype)

    # ---------------------------------------------------------------- sampling
    def _window_inputs(self, window: _Window, state: dict) -> dict:
        """Person, start and condition tensors of the window (with the anchor frame first when used)."""
        items = [item for _, item in window.items]
        use_anchor = self.settings.consistency and state["anchor"] is not None
        if use_anchor:
            items = [state["anchor"]] + items
        elif self.settings.consistency:
            state["anchor"] = items[0]
        x0, y0, x1, y1 = window.crop
        crops = [item[1][y0:y1, x0:x1] for item in items]
        masks = [dilate(self._mask_for(item), 2)[y0:y1, x0:x1] for item in items]
        starts = []
        for item, crop in zip(items, crops):
            key, frame, mask, condition = item
            if self.settings.strength < 1.0 and not (isinstance(condition, GarmentConditions) and condition.mode == "mask-free"):
                starts.append(self.classical.render_one(RenderItem(key, frame, mask, condition))[y0:y1, x0:x1])
            else:
                starts.append(crop)
        inputs = {"items": items, "anchor": use_anchor, "person": self._to_tensor(crops, window.size),
                  "mask": self._mask_tensor(masks, window.size), "start": self._to_tensor(starts, window.size)}
        conditions = [item[3] for item in items]
        if isinstance(conditions[0], GarmentConditions):
            inputs["garment"] = self._to_tensor([c.garment for c in conditions], window.size)
        if self.components.controlnet is not None and isinstance(conditions[0], SwapConditions):
            normals = [c.faces[0].normal_map[y0:y1, x0:x1] if c.faces and c.faces[0].normal_map is not None
                       else np.full_like(crop, 128) for c, crop in zip(conditions, crops)]
            inputs["control"] = (self._to_tensor(normals, window.size) + 1) / 2
        return inputs

    def _denoise_window(self, window: _Window, state: dict) -> torch.Tensor:
        """Final (person-half) latents of the window's frames."""
        inputs = self._window_inputs(window, state)
        channels = self.components.in_channels
        garment = inputs.get("garment")
        side_by_side = garment is not None and channels in (8, 9)
        person = inputs["person"]
        mask = inputs["mask"]
        with torch.no_grad():
            person_latents = self._encode(person)
            start_latents = self._encode(inputs["start"])
            latent_mask = torch.nn.functional.interpolate(mask, size=person_latents.shape[-2:], mode="nearest")
            if channels == 9:
                masked = self._encode(person * (mask < 0.5))
                if side_by_side:
                    garment_latents = self._encode(garment)
                    masked = torch.cat([masked, garment_latents], dim=-1)
                    latent_mask = torch.cat([latent_mask, torch.zeros_like(latent_mask)], dim=-1)
                    start_latents = torch.cat([start_latents, garment_latents], dim=-1)
                extra = torch.cat([latent_mask, masked], dim=1)
            elif channels == 8:
                condition = person_latents
                if side_by_side:
                    garment_latents = self._encode(garment)
                    condition = torch.cat([person_latents, garment_latents], dim=-1)
                    start_latents = torch.cat([start_latents, garment_latents], dim=-1)
                extra = condition
            elif channels == 4:
                extra = None
            else:
                raise InputError(f"unsupported UNet with {channels} input channels (expected 4, 8 or 9)")
            batch = start_latents.shape[0]
            if self.settings.consistency:  # one initial noise shared by every frame
                noise = self._noise((1,) + tuple(start_latents.shape[1:])).expand(batch, -1, -1, -1)
            else:  # what a per-frame pipeline does: each frame its own noise
                noise = self._noise(tuple(start_latents.shape))
            latents = self._sample(start_latents, noise, extra, latent_mask if channels == 4 else None,
                                   inputs.get("control"), batch, window)
        if side_by_side:
            latents = latents[..., : person_latents.shape[-1]]
        if inputs["anchor"]:
            latents = latents[1:]
        return latents.float().cpu()

    def _sample(self, start: torch.Tensor, noise: torch.Tensor, extra: torch.Tensor | None,
                known_mask: torch.Tensor | None, control: torch.Tensor | None, batch: int,
                window: _Window) -> torch.Tensor:
        s = self.settings
        scheduler = self.components.scheduler
        scheduler.set_timesteps(s.steps, device=self.device)
        skip = min(int(round(s.steps * (1.0 - s.strength))), s.steps - 1)
        timesteps = scheduler.timesteps[skip:]
        if s.strength >= 1.0:
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(start, noise, timesteps[:1].repeat(batch))
        text, negative = self._text
        guided = negative is not None and s.guidance > 1.0
        context = torch.cat([negative.expand(batch, -1, -1), text.expand(batch, -1, -1)]) if guided \
            else text.expand(batch, -1, -1)
        unet = self.components.unet
        groups = 2 if guided else 1
        set_video_attention(unet, batch if s.consistency else 0, anchor=0,
                            skip_cross=self.components.skip_cross_attention)
        label = f"window {window.items[0][0]}-{window.items[-1][0]}" if window.items else "window"
        with self._on_device(unet), self._on_device(self.components.controlnet):
            for step, t in enumerate(timesteps):
                model_input = torch.cat([latents] * groups)
                model_input = scheduler.scale_model_input(model_input, t)
                kwargs = {}
                if control is not None:
                    down, mid = self.components.controlnet(
                        model_input, t, encoder_hidden_states=context, controlnet_cond=torch.cat([control] * groups),
                        return_dict=False)
                    kwargs = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
                if extra is not None:
                    model_input = torch.cat([model_input, torch.cat([extra] * groups)], dim=1)
                prediction = unet(model_input, t, encoder_hidden_states=context,
                                  added_cond_kwargs=self._added_conditions(model_input), **kwargs).sample
                if guided:
                    uncond, cond = prediction.chunk(2)
                    prediction = uncond + s.guidance * (cond - uncond)
                latents = scheduler.step(prediction, t, latents).prev_sample
                if known_mask is not None:
                    following = timesteps[step + 1 : step + 2]
                    known = scheduler.add_noise(start, noise, following.repeat(batch)) if len(following) else start
                    latents = known_mask * latents + (1 - known_mask) * known
                if self.progress:
                    self.progress(label, step + 1, len(timesteps))
        return latents


def _inside(box: tuple[int, int, int, int] | None, crop: tuple[int, int, int, int]) -> bool:
    if box is None:
        return True
    return box[0] >= crop[0] and box[1] >= crop[1] and box[2] <= crop[2] and box[3] <= crop[3]
