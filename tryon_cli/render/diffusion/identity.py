"""Identity for swaps: the source face's ArcFace embedding conditions the UNet through IP-Adapter.

One path for both adapters, diffusers' own IP-Adapter loader (`unet._load_ip_adapter_weights`, what
`pipeline.load_ip_adapter` calls): the adapter's projection turns the 512-d embedding into a few tokens
that every cross-attention layer reads beside the text, fed each step as
`added_cond_kwargs["image_embeds"]` (zeros in the unconditional half of classifier-free guidance, as
diffusers' FaceID example does).
- IP-Adapter FaceID (h94/IP-Adapter-FaceID, SD 1.5 / SDXL): a linear projection to 4 tokens.
- InstantID (InstantX/InstantID, SDXL): a resampler to 16 tokens; its face-keypoint ControlNet (set as
  the ControlNet) reads the target's five keypoints drawn as InstantID draws them, with the identity
  tokens as its cross-attention context (`UNetSampler`).

The embedding is computed once per source: from a precomputed .npy (`face_embedding`), or with the
insightface pack's recognition model (w600k_r50.onnx, through onnxruntime) on the source photo aligned
by the five keypoints of the source's face mesh (the mesh already found the face, so the pack's
detector is not run; the insightface package itself needs `onnx`, which this project does not install).
Every piece is checked in `load_identity`, before any work: a missing one is one ModelMissingError
naming the file and how to get it.

Left out: FaceID's LoRA (the `to_*_lora` tensors in the same file; diffusers applies it through peft),
FaceID Plus/PlusV2 (they also need a CLIP image encoder on the face crop): refused, not half-run. FLUX
families have no FaceID adapter: configuring one for them is an error, not a silent no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ...errors import InputError, ModelMissingError
from ...models.catalogue import configured, locate_pretrained
from ..contract import SourceFace
from ..options import DiffusionOptions
from .components import DiffusionComponents
from .keypoints import arcface_crop, five_points

FACEID, INSTANTID = "IP-Adapter FaceID", "InstantID"
RECOGNITION_FILE = "w600k_r50.onnx"  # buffalo_l's ArcFace recognition model
WEIGHT_SUFFIXES = (".bin", ".safetensors")
WEIGHT_NAMES = ("*faceid*", "ip-adapter.bin", "ip-adapter*.safetensors")
INSTANTID_CONTROLNET = ("InstantID needs its face-keypoint ControlNet as the ControlNet: "
                        "huggingface-cli download InstantX/InstantID --include 'ControlNetModel/*', "
                        "then --checkpoint an SDXL inpainting model and TRYON_CONTROLNET=<that folder>/ControlNetModel")

Embedder = Callable[[SourceFace], np.ndarray]


class ArcFaceEmbedder:
    """The insightface pack's ArcFace model on the source photo, aligned by its mesh keypoints."""

    def __init__(self, model: Path) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise ModelMissingError(f"{model}: onnxruntime is needed to run it (pip install onnxruntime)") from error
        try:
            self.session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime's own exception types (InvalidProtobuf, Fail) share no base
            raise ModelMissingError(f"{model}: unreadable ONNX recognition model ({str(error).splitlines()[0]})") \
                from error
        self.input = self.session.get_inputs()[0].name

    def __call__(self, source: SourceFace) -> np.ndarray:
        crop = arcface_crop(source.texture, five_points(source.texture_points)).astype(np.float32)
        blob = ((crop - 127.5) / 127.5).transpose(2, 0, 1)[None]  # RGB, [-1, 1], as insightface feeds it
        return self.session.run(None, {self.input: blob})[0][0]


class Identity:
    """The adapter's weights, what the source embedding comes from, and each source's embedding once."""

    def __init__(self, adapter: Path, kind: str, state: dict, dim: int, scale: float,
                 embedder: Embedder | None = None, fixed: np.ndarray | None = None) -> None:
        if (embedder is None) == (fixed is None):
            raise ValueError("an identity takes an embedder or a precomputed embedding, one of the two")
        self.adapter = adapter
        self.kind = kind
        self.state = state
        self.dim = dim
        self.scale = scale
        self.embedder = embedder
        self.fixed = None if fixed is None else _normed(fixed)
        self._cache: dict[int, tuple[SourceFace, np.ndarray]] = {}  # id -> (source held alive, embedding)

    def embedding(self, source: SourceFace | None) -> np.ndarray:
        """The source's unit-length embedding (computed on first use, then reused)."""
        if self.fixed is not None:
            return self.fixed
        if source is None:
            raise InputError("the swap has no source face to embed for the identity condition")
        if id(source) not in self._cache:
            vector = np.asarray(self.embedder(source), np.float32).reshape(-1)
            if vector.size != self.dim:
                raise InputError(f"{self.adapter}: the face embedding has {vector.size} values, the adapter takes "
                                 f"{self.dim}")
            self._cache[id(source)] = (source, _normed(vector))
        return self._cache[id(source)][1]

    def window_embeds(self, sources: Sequence[SourceFace | None], device, dtype) -> torch.Tensor:
        """Per frame, shaped for diffusers' image projection: (B, 1, D) FaceID, (B, 1, 1, D) InstantID."""
        vectors = torch.from_numpy(np.stack([self.embedding(s) for s in sources])).to(device, dtype)
        return vectors[:, None, None] if self.kind == INSTANTID else vectors[:, None]


def _normed(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0:
        raise InputError("the face embedding is zero or not finite")
    return vector / norm


def _adapter_file(value: str, allow_download: bool) -> Path:
    how = configured("ip_adapter").how_to_get
    path = locate_pretrained(value, allow_download)
    if path is None:
        raise ModelMissingError(f"IP-Adapter FaceID weights '{value}' not found; get them with: {how}")
    if path.is_dir():
        found = sorted(p for name in WEIGHT_NAMES for p in path.rglob(name) if p.suffix in WEIGHT_SUFFIXES)
        if not found:
            raise ModelMissingError(f"{path}: no ip-adapter-faceid*.bin or InstantID ip-adapter.bin inside; "
                                    f"get it with: {how}")
        path = found[0]
    return path


def _recognition_model(value: str | None, allow_download: bool) -> Path:
    entry = configured("insightface")
    value = entry.setting(value).value
    path = locate_pretrained(value, allow_download) if value else None
    if path is None or not (path / RECOGNITION_FILE).is_file():
        where = path or value or "~/.insightface/models/buffalo_l"
        raise ModelMissingError(f"the insightface model pack is incomplete: {where}/{RECOGNITION_FILE} not found "
                                f"(the identity condition needs it for the source embedding; or give "
                                f"--face-embedding); {entry.how_to_get}")
    return path / RECOGNITION_FILE


def _embedding_file(value: str, dim: int) -> np.ndarray:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ModelMissingError(f"{path}: face embedding file not found (a .npy of {dim} floats)")
    try:
        vector = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a .npy face embedding ({str(error).splitlines()[0]})") from error
    if vector.size != dim or not np.issubdtype(vector.dtype, np.floating):
        raise InputError(f"{path}: the face embedding must be {dim} floats, not {vector.size} {vector.dtype}")
    try:
        return _normed(vector)
    except InputError as error:
        raise InputError(f"{path}: {error}") from error


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


def _kind_and_dim(path: Path, state: dict) -> tuple[str, int]:
    """FaceID (linear projection + norm) or InstantID (resampler on the embedding), and the embedding size."""
    projection = state["image_proj"]
    if "perceiver_resampler.proj_in.weight" in projection:
        raise ModelMissingError(f"{path}: IP-Adapter FaceID Plus also needs a CLIP image encoder, which is not "
                                "supported; use ip-adapter-faceid_sd15.bin or ip-adapter-faceid_sdxl.bin")
    if "norm.weight" in projection and "proj.0.weight" in projection:
        return FACEID, int(projection["proj.0.weight"].shape[1])
    if "latents" in projection and "proj_in.weight" in projection:
        return INSTANTID, int(projection["proj_in.weight"].shape[1])
    raise ModelMissingError(f"{path}: not IP-Adapter FaceID or InstantID weights (its image projection takes "
                            "CLIP image features, not a face embedding)")


def load_identity(components: DiffusionComponents, settings: DiffusionOptions) -> Identity | None:
    """Read and check the identity adapter and where the embedding comes from; None where none is set."""
    value = configured("ip_adapter").setting(settings.ip_adapter).value
    if not value:
        given = "--face-embedding" if settings.face_embedding else "--face-pack" if settings.face_pack else None
        if given:
            raise InputError(f"{given} is for an identity adapter, and none is configured: give --ip-adapter "
                             "(or TRYON_IP_ADAPTER)")
        return None
    if components.family.is_flux:
        raise ModelMissingError(f"IP-Adapter FaceID '{value}' is for SD 1.5/SDXL UNets; {components.source} is a "
                                f"{components.family.name} checkpoint (unset ip_adapter / TRYON_IP_ADAPTER)")
    adapter = _adapter_file(value, settings.allow_download)
    try:
        state = _state_dict(adapter)
    except (OSError, RuntimeError, ValueError, EOFError) as error:
        raise ModelMissingError(f"{adapter}: unreadable IP-Adapter weights ({str(error).splitlines()[0]})") from error
    if not isinstance(state, dict) or not state.get("image_proj") or not state.get("ip_adapter"):
        raise ModelMissingError(f"{adapter}: not IP-Adapter FaceID weights (no image_proj and ip_adapter parts)")
    kind, dim = _kind_and_dim(adapter, state)
    if kind == INSTANTID and components.controlnet is None:
        raise ModelMissingError(f"{adapter}: {INSTANTID_CONTROLNET}")
    if settings.face_embedding:
        return Identity(adapter, kind, state, dim, settings.identity_scale,
                        fixed=_embedding_file(settings.face_embedding, dim))
    model = _recognition_model(settings.face_pack, settings.allow_download)
    return Identity(adapter, kind, state, dim, settings.identity_scale, embedder=ArcFaceEmbedder(model))


def install_identity(components: DiffusionComponents, identity: Identity) -> None:
    """Put the adapter into the UNet (diffusers' IP-Adapter processors and image projection), at its scale."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    unet = components.unet
    unet.set_attn_processor(AttnProcessor2_0())  # the loader rebuilds self-attention processors by class
    try:
        unet._load_ip_adapter_weights([identity.state], low_cpu_mem_usage=False)
    except (RuntimeError, KeyError, ValueError) as error:
        raise ModelMissingError(f"{identity.adapter}: these {identity.kind} weights do not fit the UNet of "
                                f"{components.source} ({str(error).splitlines()[0][:160]})") from error
    for processor in unet.attn_processors.values():
        if isinstance(getattr(processor, "scale", None), list):
            processor.scale = [identity.scale] * len(processor.scale)
    identity.state = {}  # the weights live in the UNet now
