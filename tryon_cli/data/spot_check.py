"""Spot-check sheets a person can use: a sample of items, big panels, scores and the filter's decision.

30 of every 500 items, and at least 30 (or all of a smaller set), chosen by seed. Each chosen item
gets one PNG (original, repainted, garment, mask side by side, PANEL_HEIGHT px tall) and a row in
index.html with its decision, the reasons and every score.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import cv2
import numpy as np

from ..io.media import write_image
from ..io.outputs import write_text_atomic
from .store import read_images

PANEL_HEIGHT = 384
PER_BLOCK, TAKE = 500, 30
PANELS = (("target", "original"), ("input", "repainted"), ("condition", "garment"), ("mask", "mask"))


def spot_check_indices(count: int, seed: int, per: int = PER_BLOCK, take: int = TAKE) -> list[int]:
    """`take` of every `per` items (rounded up), at least `take`, at most all; sorted, seeded."""
    wanted = min(count, max(take, math.ceil(take * count / per)))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(count, size=wanted, replace=False)) if wanted else []


def contact_row(images: dict[str, np.ndarray], height: int = PANEL_HEIGHT) -> np.ndarray:
    """Original, repainted, garment and mask side by side, each `height` px tall."""
    tiles = []
    for key, _ in PANELS:
        image = images[key]
        width = max(1, round(image.shape[1] * height / image.shape[0]))
        interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_CUBIC
        tiles.append(cv2.resize(image, (width, height), interpolation=interpolation))
    return np.concatenate(tiles, axis=1)


def _format(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def write_spot_check(folder: Path, root: Path, results: list[dict], seed: int) -> Path:
    """Sheets and index.html for a sample of `results` (records with scores and reasons); the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("sheet_*.png"):
        stale.unlink()
    rows = []
    for n, index in enumerate(spot_check_indices(len(results), seed)):
        result = results[index]
        name = f"sheet_{n:03d}.png"
        try:
            write_image(folder / name, contact_row(read_images(root, result)))
            picture = f"<img src='{name}' height='{PANEL_HEIGHT}' alt='item {html.escape(result['id'])}'>"
        except Exception as error:  # noqa: BLE001 - an unreadable item still gets its row
            picture = f"<em>cannot show: {html.escape(str(error))}</em>"
        kept = not result.get("reasons")
        scores = "".join(f"<li>{html.escape(k)}: {_format(v)}</li>" for k, v in sorted(result.get("scores", {}).items()))
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result.get("reasons", []))
        rows.append(f"<tr class='{'kept' if kept else 'rejected'}'><td><code>{html.escape(result['id'])}</code>"
                    f"<p class='decision'>{'kept' if kept else 'rejected'}</p><ul class='reasons'>{reasons}</ul>"
                    f"<ul class='scores'>{scores}</ul></td><td>{picture}</td></tr>")
    header = " | ".join(label for _, label in PANELS)
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>tryon spot check</title><style>"
            "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td{border:1px solid #ccc;"
            "padding:6px;vertical-align:top}tr.kept .decision{color:#080;font-weight:bold}"
            "tr.rejected .decision{color:#b00;font-weight:bold}ul{padding-left:1.2em;font-size:90%}</style></head>"
            f"<body><h1>Spot check: {len(rows)} of {len(results)} items</h1>"
            f"<p>Each picture, left to right: {', '.join(label for _, label in PANELS)}. Look at the seam along the "
            "mask, hands, ears and jewellery, and for any of the original garment left behind.</p>"
            f"<table id='items'><thead><tr><th>item, decision, scores</th><th>{header}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></body></html>")
    path = folder / "index.html"
    write_text_atomic(path, page)
    return path
