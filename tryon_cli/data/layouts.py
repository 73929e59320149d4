"""Finding (person, garment) pairs in a folder: VITON-HD, DressCode, or a pairs CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io.media import IMAGE_SUFFIXES

DRESSCODE_CATEGORIES = {"upper_body": "upper", "lower_body": "lower", "dresses": "dress"}


@dataclass(frozen=True)
class Pair:
    """A person photo wearing the garment in the garment photo."""

    person: Path
    garment: Path
    category: str | None


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def _viton(folder: Path) -> list[Pair] | None:
    images, cloth = folder / "image", folder / "cloth"
    if not (images.is_dir() and cloth.is_dir()):
        return None
    people, garments = _images(images), _images(cloth)
    return [Pair(people[name], garments[name], "upper") for name in sorted(people) if name in garments]


def _dresscode(folder: Path) -> list[Pair] | None:
    pairs = []
    for person in sorted(folder.rglob("*_0.*")):
        if person.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        garment = next((g for g in person.parent.glob(person.stem[:-2] + "_1.*") if g.suffix.lower() in IMAGE_SUFFIXES), None)
        if garment is None:
            continue
        category = next((DRESSCODE_CATEGORIES[part] for part in person.parts if part in DRESSCODE_CATEGORIES), None)
        pairs.append(Pair(person, garment, category))
    return pairs or None


def _csv(folder: Path, table: Path) -> list[Pair]:
    pairs = []
    with table.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if "person" not in row or "garment" not in row:
                raise InputError(f"{table}: needs 'person' and 'garment' columns (and optionally 'category')")
            person, garment = (folder / row["person"]), (folder / row["garment"])
            for path in (person, garment):
                if not path.exists():
                    raise InputError(f"{table}: {path} does not exist")
            pairs.append(Pair(person, garment, row.get("category") or None))
    return pairs


def find_pairs(folder: Path, pairs_csv: Path | None = None) -> tuple[str, list[Pair]]:
    """The layout's name and its pairs; InputError naming the expected layouts when none fits."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    table = pairs_csv or (folder / "pairs.csv")
    if table.exists():
        return "pairs-csv", _csv(folder, table)
    for name, finder in (("viton-hd", _viton), ("dresscode", _dresscode)):
        pairs = finder(folder)
        if pairs:
            return name, pairs
    raise InputError(f"{folder}: no known layout: expected image/ + cloth/ with matching names (VITON-HD), "
                     "*_0.jpg person + *_1.jpg garment (DressCode), or a pairs.csv with person,garment columns")
