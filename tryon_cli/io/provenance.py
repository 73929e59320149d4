"""The synthetic-media tag every output carries: made with tryon-cli, by which command.

Videos carry it as container metadata (`comment`, and `encoded_by`), PNG images as tEXt chunks
(`Software`, `Comment`), JPEG and WebP images as EXIF (`Software`, `ImageDescription`) plus an XMP packet
for JPEG. `io.media.read_provenance` reads it back from any of them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import __version__

TOOL = "tryon-cli"
_WORD = re.compile(r"^[a-z][a-z-]*$")


@dataclass(frozen=True)
class Provenance:
    """Who made an output: the tool, its version and the command line's command words (no paths)."""

    command: str
    version: str = __version__

    def __post_init__(self) -> None:
        if not self.command.strip():
            raise ValueError("a provenance needs a command")

    @property
    def software(self) -> str:
        return f"{TOOL} {self.version}"

    @property
    def description(self) -> str:
        return f"Synthetic media: made with {self.software} ({self.command})"

    def video_tags(self) -> dict[str, str]:
        return {"comment": self.description, "encoded_by": self.software}


def current_command(argv: list[str] | None = None) -> Provenance:
    """The provenance of this process: `tryon` and its subcommand words (`tryon eval swap`), never paths."""
    argv = list(sys.argv if argv is None else argv)
    words = []
    for token in argv[1:3]:
        if not _WORD.match(token):
            break
        words.append(token)
    program = Path(argv[0]).name if argv else ""
    if words and program in {"tryon", "-c", "__main__.py", "-m"}:
        return Provenance(" ".join(["tryon", *words]))
    return Provenance("tryon_cli Python API")


def image_metadata_kwargs(suffix: str, provenance: Provenance) -> dict:
    """Pillow `save` keyword arguments that embed the tag in an image of format `suffix`."""
    from PIL import Image, PngImagePlugin

    suffix = suffix.lower()
    if suffix == ".png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", provenance.software)
        info.add_text("Comment", provenance.description)
        return {"pnginfo": info}
    exif = Image.Exif()
    exif[0x0131] = provenance.software  # Software
    exif[0x010E] = provenance.description  # ImageDescription
    kwargs: dict = {"exif": exif.tobytes()}
    if suffix in {".jpg", ".jpeg"}:
        kwargs["xmp"] = _xmp(provenance).encode("utf-8")
    return kwargs


def _xmp(provenance: Provenance) -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<xmp:CreatorTool>{provenance.software}</xmp:CreatorTool>"
        '<Iptc4xmpExt:DigitalSourceType>'
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic</Iptc4xmpExt:DigitalSourceType>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{provenance.description}</rdf:li></rdf:Alt>'
        "</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
