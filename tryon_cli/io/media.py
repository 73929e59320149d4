"""Image files and input discovery: read, write (atomic), classify paths."""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from ..errors import InputError
from .outputs import write_bytes_atomic
from .provenance import Provenance, current_command, image_metadata_kwargs

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


# Images larger than this are analysed on a downscaled copy (JPEGs are decoded at 1/2, 1/4 or 1/8 size by
# the JPEG decoder itself, so memory stays bounded); images larger than MAX_IMAGE_PIXELS are refused before
# any pixel is decoded. A 48-megapixel phone photo is worked on at 12 megapixels.
WORK_IMAGE_PIXELS = 16_000_000
MAX_IMAGE_PIXELS = 100_000_000
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


@dataclass(frozen=True)
class LoadedImage:
    """An image as analysers want it (RGB uint8, 3 channels) plus what its output must keep.

    `grey`: the file is grey (single-channel, or equal channels; its output is written grey); `alpha`: its alpha channel (uint8,
    same size as `rgb`), put back on output.
    """

    rgb: np.ndarray
    grey: bool = False
    alpha: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3 or self.rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be HxWx3 uint8, got {self.rgb.shape} {self.rgb.dtype}")
        if self.alpha is not None and self.alpha.shape != self.rgb.shape[:2]:
            raise ValueError("alpha must have the image's size")

    def restore(self, rendered: np.ndarray) -> np.ndarray:
        """A rendered RGB frame in the input's layout: grey stays grey, alpha comes back."""
        out = rendered
        if self.grey and out.ndim == 3:
            out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
        if self.alpha is not None and out.ndim == 3 and out.shape[2] == 3:
            alpha = self.alpha if self.alpha.shape == out.shape[:2] else cv2.resize(
                self.alpha, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_LINEAR)
            out = np.dstack([out, alpha])
        return out


def _header(path: Path) -> tuple[int, int, str, str]:
    """Width, height, Pillow mode and format from the file header, without decoding pixels."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.width, image.height, image.mode, image.format or ""
    except Image.DecompressionBombError as error:  # Pillow's own, higher limit: its message has the count
        stated = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(stated.group(1)) / 1e6:.0f} megapixels" if stated else "too many pixels"
        raise InputError(f"{path}: the image has {size}, above the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel "
                         "limit; downscale it first") from error
    except Exception:  # noqa: BLE001 - unknown to Pillow: let OpenCV try, with no size known
        return 0, 0, "", ""


def load_image(path: Path) -> LoadedImage:
    """Read an image for analysis and output (EXIF orientation applied); InputError when unreadable or too big.

    The pixel count is read from the header first: above MAX_IMAGE_PIXELS the file is refused, above
    WORK_IMAGE_PIXELS it is decoded at a reduced size (a warning on the `tryon_cli` logger says so).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    width, height, mode, fmt = _header(path)
    pixels = width * height
    factor = 1
    if pixels > WORK_IMAGE_PIXELS:
        factor = next((f for f in (2, 4, 8) if pixels / (f * f) <= WORK_IMAGE_PIXELS), 8)
        if pixels > MAX_IMAGE_PIXELS and not (fmt == "JPEG" and pixels / 64 <= WORK_IMAGE_PIXELS):
            raise InputError(f"{path}: {width}x{height} is {pixels / 1e6:.0f} megapixels, above the "
                             f"{MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit; downscale it first")
    data = np.fromfile(str(path), dtype=np.uint8)
    if not data.size:
        raise InputError(f"{path}: cannot read the image (the file is empty)")
    has_alpha = mode in {"RGBA", "LA", "PA"} or (mode == "P" and fmt == "PNG" and _png_has_transparency(path))
    if has_alpha:
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        if decoded is not None and decoded.dtype != np.uint8:
            decoded = (decoded / 257).astype(np.uint8) if decoded.dtype == np.uint16 else None
        if decoded is not None and decoded.ndim == 3 and decoded.shape[2] == 4:
            rgb, alpha = cv2.cvtColor(decoded[..., :3], cv2.COLOR_BGR2RGB), decoded[..., 3].copy()
            return _within_work_size(LoadedImage(np.ascontiguousarray(rgb), False, alpha), path)
    flag = _REDUCED[factor] if factor > 1 and fmt == "JPEG" else cv2.IMREAD_COLOR
    image = cv2.imdecode(data, flag)
    if image is None:
        raise InputError(f"{path}: cannot read the image (corrupt or not an image)")
    if factor > 1:
        log.warning("%s: %dx%d is above %d megapixels; working on a %dx%d copy", path, width, height,
                    WORK_IMAGE_PIXELS // 1_000_000, image.shape[1], image.shape[0])
    # grey: a single-channel file, or three channels that are equal everywhere (a grey photo saved as RGB)
    grey = mode in {"L", "I;16", "I", "1"} or bool(
        np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))
    loaded = LoadedImage(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), grey=grey)
    return _within_work_size(loaded, path)


def _png_has_transparency(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        return "transparency" in image.info


def _within_work_size(image: LoadedImage, path: Path) -> LoadedImage:
    """Downscale (area filter) an image still above WORK_IMAGE_PIXELS after decoding."""
    h, w = image.rgb.shape[:2]
    if h * w <= WORK_IMAGE_PIXELS:
        return image
    scale = (WORK_IMAGE_PIXELS / (h * w)) ** 0.5
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    log.warning("%s: %dx%d is above %d megapixels; working on a %dx%d copy", path, w, h,
                WORK_IMAGE_PIXELS // 1_000_000, *size)
    alpha = None if image.alpha is None else cv2.resize(image.alpha, size, interpolation=cv2.INTER_AREA)
    return LoadedImage(cv2.resize(image.rgb, size, interpolation=cv2.INTER_AREA), image.grey, alpha)


def read_image(path: Path) -> np.ndarray:
    """Read an image as RGB uint8, 3 channels (grey photos too; EXIF orientation applied)."""
    return load_image(path).rgb


def read_mask(path: Path) -> np.ndarray:
    """Read a mask image as uint8 {0, 255}."""
    image = read_image(path)
    return np.where(image.max(axis=2) > 127, 255, 0).astype(np.uint8)


def encode_image(image: np.ndarray, suffix: str, provenance: Provenance | None = None) -> bytes:
    """Encode RGB, RGBA or single-channel uint8 to the format named by `suffix`, tagged as synthetic.

    PNG, JPEG, WebP and TIFF carry the tag (see provenance.py); other formats are written untagged.
    """
    from PIL import Image

    suffix = suffix.lower()
    provenance = provenance or current_command()
    array = np.ascontiguousarray(image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
    if suffix not in formats:
        bgr = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA if array.ndim == 3 and array.shape[2] == 4 else
                           cv2.COLOR_RGB2BGR) if array.ndim == 3 else array
        ok, buffer = cv2.imencode(suffix, bgr)
        if not ok:
            raise InputError(f"cannot encode an image as '{suffix}'")
        return buffer.tobytes()
    picture = Image.fromarray(array)
    if formats[suffix] == "JPEG" and picture.mode == "RGBA":
        picture = picture.convert("RGB")  # JPEG has no alpha
    options: dict = {"quality": 95} if formats[suffix] in {"JPEG", "WEBP"} else {}
    if formats[suffix] == "PNG":
        options["compress_level"] = 1
    if formats[suffix] != "TIFF":
        options.update(image_metadata_kwargs(suffix, provenance))
    else:
        options["description"] = provenance.description
        options["software"] = provenance.software
    buffer = io.BytesIO()
    picture.save(buffer, format=formats[suffix], **options)
    return buffer.getvalue()


def write_image(path: Path, image: np.ndarray, provenance: Provenance | None = None) -> None:
    """Write an RGB, RGBA or grey uint8 image atomically, tagged as synthetic."""
    write_bytes_atomic(path, encode_image(image, path.suffix.lower() or ".png", provenance))


def expand_image_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files and folders to a sorted list of image files; InputError when none."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and is_image(p)))
        elif path.exists():
            if not is_image(path):
                raise InputError(f"{path}: unsupported image extension '{path.suffix}'")
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        names = ", ".join(str(p) for p in paths)
        raise InputError(f"no images found in {names}" if names else "no image paths were given")
    return found


def read_provenance(path: Path) -> str | None:
    """The synthetic-media description written into `path` (video or image), or None when there is none."""
    from .provenance import TOOL

    if is_video(path):
        import av

        with av.open(str(path)) as container:
            tags = {k.lower(): v for k, v in container.metadata.items()}
        return tags.get("comment") if TOOL in tags.get("comment", "") else None
    from PIL import Image

    with Image.open(path) as image:
        text = getattr(image, "text", None) or {}
        if TOOL in text.get("Comment", ""):
            return text["Comment"]
        description = image.getexif().get(0x010E)
        return description if description and TOOL in description else None
