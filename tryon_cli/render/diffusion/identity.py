"""Identity for swaps: IP-Adapter FaceID weights and the insightface pack that embeds the source face.

`load_identity` checks and reads both before any work; a missing piece is one ModelMissingError that
names the file and how to get it. FLUX families have no FaceID adapter: configuring one for them is an
error, not a silent no-op.

Not wired yet: the weights are read and checked (FaceID's `image_proj` and `ip_adapter` parts) but not
installed into the UNet. Installing them (`unet._load_ip_adapter_weights`) makes every UNet call need
the source's insightface embedding as `added_cond_kwargs["image_embeds"]`, and the cross-frame
processors would have to carry the adapter's extra keys; until both are done the classical render
carries identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import ModelMissingError
from ...models.catalogue import configured, locate_pretrained
from .components import DiffusionComponents

INSIGHTFACE_FILES = ("w600k_r50.onnx", "det_10g.onnx")  # buffalo_l's recognition and detection models
WEIGHT_SUFFIXES = (".bin", ".safetensors")


@dataclass(frozen=True)
class Identity:
    """The IP-Adapter FaceID weights (checked) and where the insightface pack is."""

    adapter: Path
    insightface: Path
    state: dict


def _adapter_file(value: str, allow_download: bool) -> Path:
    how = configured("ip_adapter").how_to_get
    path = locate_pretrained(value, allow_download)
    if path is None:
        raise ModelMissingError(f"IP-Adapter FaceID weights '{value}' not found; get them with: {how}")
    if path.is_dir():
        found = sorted(p for p in path.rglob("*faceid*") if p.suffix in WEIGHT_SUFFIXES)
        if not found:
            raise ModelMissingError(f"{path}: no ip-adapter-faceid*.bin or .safetensors inside; get it with: {how}")
        path = found[0]
    return path


def _insightface_pack(allow_download: bool) -> Path:
    entry = configured("insightface")
    value = entry.setting().value
    path = locate_pretrained(value, allow_download) if value else None
    missing = [name for name in INSIGHTFACE_FILES if path is None or not (path / name).is_file()]
    if missing:
        where = path or value or "~/.insightface/models/buffalo_l"
        raise ModelMissingError(f"the insightface model pack is incomplete: {where}/{missing[0]} not found "
                                f"(IP-Adapter FaceID needs it for the source embedding); {entry.how_to_get}")
    return path


def _state_dict(path: Path) -> dict:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        flat = load_file(str(path))
        state: dict[str, dict] = {"image_proj": {}, "ip_adapter": {}}
        for key, value in flat.items():
            head, _, rest = key.partition(".")
            if head in state:
                state[head][rest] = value
        return state
    return torch.load(str(path), map_location="cpu", weights_only=True)


def load_identity(components: DiffusionComponents, allow_download: bool = False) -> Identity | None:
    """Read and check the configured IP-Adapter FaceID and insightface pack; None where none is configured."""
    value = configured("ip_adapter").setting().value
    if not value:
        return None
    if components.family.is_flux:
        raise ModelMissingError(f"IP-Adapter FaceID '{value}' is for SD 1.5/SDXL UNets; {components.source} is a "
                                f"{components.family.name} checkpoint (unset ip_adapter / TRYON_IP_ADAPTER)")
    adapter = _adapter_file(value, allow_download)
    pack = _insightface_pack(allow_download)
    try:
        state = _state_dict(adapter)
    except (OSError, RuntimeError, ValueError, EOFError) as error:
        raise ModelMissingError(f"{adapter}: unreadable IP-Adapter weights ({str(error).splitlines()[0]})") from error
    if not isinstance(state, dict) or not state.get("image_proj") or not state.get("ip_adapter"):
        raise ModelMissingError(f"{adapter}: not IP-Adapter FaceID weights (no image_proj and ip_adapter parts)")
    return Identity(adapter, pack, state)
