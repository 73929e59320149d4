"""The diffusion engine: diffusers models behind the engine contract.

Per window of frames: crop around the masks, build the window's tensors, let the model kind's strategy
denoise them with one shared initial noise, blend overlapping windows' latents, decode, and paste back
inside the feathered mask (pixels outside it stay bit-exact). The window bookkeeping lives in
`stream.WindowStreamer`; each model kind is one small strategy:

- `inpaint.InpaintStrategy`: 9-channel UNets (SD 1.5 / SDXL inpainting, CatVTON side by side);
- `concat.ConcatStrategy`: 8-channel UNets (instruct-pix2pix style, mask-free try-on);
- `plain.PlainStrategy`: 4-channel UNets (blended-latent inpainting);
- `flux.FluxStrategy`: FLUX.1 Fill, FLUX ControlNet inpainting and FLUX Kontext, through diffusers'
  own pipelines.

The family comes from the checkpoint's files (`family.detect_family`), never from a flag. Video
consistency is training-free: the same noise for every frame, self-attention extended to an anchor
frame and the previous frame, and overlapping windows blended in latent space.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np
import torch

from ...errors import InputError
from ...masks.shapes import bounding_box, dilate, feather
from ..contract import Conditions, GarmentConditions, Progress, RenderItem, SwapConditions, paste_back
from ..options import DiffusionOptions
from .identity import INSTANTID, Identity, install_identity, load_identity
from .inputs import Codec, Strategy, WindowInputs, mask_tensor, to_tensor
from .loading import (DiffusionComponents, load_catvton_attention, load_components, load_controlnet, resolve_device,
                      resolve_dtype)
from .keypoints import draw_keypoints, five_points
from .stream import Crop, WindowStreamer, mask_of

FEATHER_FRACTION = 0.02  # paste-back feather width, as a fraction of the crop's long side
MASK_GROWTH = 2          # pixels the mask is dilated by before it reaches the model


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
        self.identity: Identity | None = None  # IP-Adapter FaceID / InstantID, for swaps where configured
        self.needs_normal_map = components.controlnet is not None
        self.codec = Codec(components.vae, device, dtype, settings.cpu_offload and components.pipeline is None)
        self.strategy: Strategy = self._strategy()

    def _strategy(self) -> Strategy:
        if self.components.family.is_flux:
            from .flux import FluxStrategy

            return FluxStrategy(self.components, self.settings, self.codec)
        from .concat import ConcatStrategy
        from .inpaint import InpaintStrategy
        from .plain import PlainStrategy
        from .unet import UNetSampler

        kinds = {9: InpaintStrategy, 8: ConcatStrategy, 4: PlainStrategy}
        channels = self.components.in_channels
        if channels not in kinds:
            raise InputError(f"{self.components.source}: unsupported UNet with {channels} input channels "
                             "(expected 4, 8 or 9)")
        if self.settings.attention_slicing:
            self.components.vae.enable_slicing()
        return kinds[channels](UNetSampler(self.components, self.settings, self.codec))

    @classmethod
    def load(cls, settings: DiffusionOptions, classical) -> "DiffusionEngine":
        """Load the checkpoint's components; extra weights come with `prepare`, by conditions type."""
        device = resolve_device(settings.device.value)
        dtype = resolve_dtype(settings.dtype.value, device)
        components = load_components(settings.checkpoint, device, dtype, settings.allow_download,
                                     offload=settings.cpu_offload)
        return cls(components, settings, classical, device, dtype)

    def prepare(self, kind: type) -> None:
        """Swaps take a ControlNet on the normal map and the identity adapter, garments CatVTON's attention,
        where configured. With InstantID the ControlNet is InstantID's and reads face keypoints instead."""
        from ...models.catalogue import configured

        if kind in self._prepared:
            return
        if kind is SwapConditions:
            controlnet = configured("controlnet").setting().value
            if controlnet and not self.components.family.is_flux:
                load_controlnet(self.components, controlnet, self.settings.allow_download)
                self.needs_normal_map = True
            self.identity = load_identity(self.components, self.settings)
            if self.identity is not None:
                install_identity(self.components, self.identity)
                self.needs_normal_map = self.needs_normal_map and self.identity.kind != INSTANTID
        elif kind is GarmentConditions:
            weights = configured("catvton").setting().value
            if weights and not self.components.family.is_flux:
                load_catvton_attention(self.components, weights, self.settings.allow_download)
        else:
            raise TypeError(f"the diffusion engine cannot render {kind.__name__}")
        self._prepared.add(kind)

    # ---------------------------------------------------------------- the contract
    def render(self, frames: Sequence[np.ndarray], masks: Sequence[np.ndarray],
               conditions: Sequence[Conditions]) -> list[np.ndarray]:
        """Render the frames as one video stream (windows and overlaps as configured)."""
        items = [RenderItem(i, f, m, c) for i, (f, m, c) in enumerate(zip(frames, masks, conditions))]
        return [out for _, out in self.render_stream(items)]

    def render_stream(self, items: Iterable[RenderItem],
                      progress: Progress | None = None) -> Iterator[tuple[object, np.ndarray]]:
        """Render items in order; yields (key, output) in the same order."""
        self.progress = progress
        streamer = WindowStreamer(self, self.settings.window, self.settings.overlap, self.settings.consistency)
        yield from streamer.run(self._prepared_items(items))

    def _prepared_items(self, items: Iterable[RenderItem]) -> Iterator[RenderItem]:
        for item in items:
            if item.conditions is not None:
                self.prepare(type(item.conditions))
            yield item

    # ---------------------------------------------------------------- WindowRenderer
    def crop_for(self, union: np.ndarray, first: RenderItem) -> Crop:
        """Garments: the whole frame; faces: a square around the masks with a margin."""
        height, width = first.frame.shape[:2]
        if isinstance(first.conditions, GarmentConditions):
            return 0, 0, width, height
        x0, y0, x1, y1 = bounding_box(union)
        side = int(max(x1 - x0, y1 - y0) * (1 + 2 * self.settings.crop_margin))
        side = min(side, width, height)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        left = int(np.clip(cx - side // 2, 0, width - side))
        top = int(np.clip(cy - side // 2, 0, height - side))
        return left, top, left + side, top + side

    def denoise(self, items: list[RenderItem], crop: Crop, anchor: RenderItem | None) -> torch.Tensor:
        label = f"window {items[0].key}-{items[-1].key}"
        return self.strategy.denoise(self._window_inputs(([anchor] if anchor else []) + items, crop,
                                                         anchor is not None, label))

    def finish(self, item: RenderItem, latent: torch.Tensor, crop: Crop) -> np.ndarray:
        image = self.codec.decode(latent[None])[0]
        x0, y0, x1, y1 = crop
        rendered = item.frame.copy()
        rendered[y0:y1, x0:x1] = cv2.resize(image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
        feather_width = max(int(max(x1 - x0, y1 - y0) * FEATHER_FRACTION), 1)
        return paste_back(item.frame, rendered, feather(mask_of(item), feather_width))

    # ---------------------------------------------------------------- window tensors
    def processing_size(self, crop: Crop) -> tuple[int, int]:
        x0, y0, x1, y1 = crop
        multiple = self.components.size_multiple
        scale = self.settings.resolution / max(x1 - x0, y1 - y0)
        width = max(multiple, int(round((x1 - x0) * scale / multiple)) * multiple)
        height = max(multiple, int(round((y1 - y0) * scale / multiple)) * multiple)
        return width, height

    def _starting_image(self, item: RenderItem) -> np.ndarray:
        """The classical render where strength < 1 (a mask-free try-on always starts from the person)."""
        condition = item.conditions
        if self.settings.strength < 1.0 and not (isinstance(condition, GarmentConditions)
                                                 and condition.mode == "mask-free"):
            return self.classical.render_one(item)
        return item.frame

    def _window_inputs(self, items: list[RenderItem], crop: Crop, anchored: bool, label: str) -> WindowInputs:
        x0, y0, x1, y1 = crop
        size = self.processing_size(crop)
        device, dtype = self.device, self.dtype
        crops = [item.frame[y0:y1, x0:x1] for item in items]
        masks = [dilate(mask_of(item), MASK_GROWTH)[y0:y1, x0:x1] for item in items]
        starts = [self._starting_image(item)[y0:y1, x0:x1] for item in items]
        conditions = [item.conditions for item in items]
        garment = control = None
        if isinstance(conditions[0], GarmentConditions):
            garment = to_tensor([c.garment for c in conditions], size, device, dtype)
        if self.needs_normal_map and isinstance(conditions[0], SwapConditions):
            normals = [c.faces[0].normal_map[y0:y1, x0:x1] if c.faces and c.faces[0].normal_map is not None
                       else np.full_like(image, 128) for c, image in zip(conditions, crops)]
            control = (to_tensor(normals, size, device, dtype) + 1) / 2
        identity, instantid = None, False
        if self.identity is not None and isinstance(conditions[0], SwapConditions):
            identity = self.identity.window_embeds([c.source for c in conditions], device, dtype)
            instantid = self.identity.kind == INSTANTID
            if instantid:  # InstantID's ControlNet reads the target's five keypoints, drawn at the working size
                control = (to_tensor([self._keypoints(c, crop, size) for c in conditions], size, device, dtype) + 1) / 2
        return WindowInputs(person=to_tensor(crops, size, device, dtype), mask=mask_tensor(masks, size, device, dtype),
                            start=to_tensor(starts, size, device, dtype), anchored=anchored, label=label,
                            garment=garment, control=control, progress=self.progress, identity=identity,
                            control_reads_identity=instantid)

    @staticmethod
    def _keypoints(condition: SwapConditions, crop: Crop, size: tuple[int, int]) -> np.ndarray:
        """The first face's keypoints (where the swapped face lands) in the crop, drawn at `size`."""
        x0, y0, x1, y1 = crop
        if not condition.faces:
            return np.zeros((size[1], size[0], 3), np.uint8)
        scale = np.array([size[0] / (x1 - x0), size[1] / (y1 - y0)], np.float32)
        return draw_keypoints((five_points(condition.faces[0].points) - (x0, y0)) * scale, size)
