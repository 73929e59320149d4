"""Finding (person, garment) pairs in a folder: VITON-HD, DressCode, or a pairs CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
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


@dataclass
class FoundPairs:
    """A folder's layout, its pairs, and what could not be paired (one line each, for the user)."""

    layout: str
    pairs: list[Pair]
    problems: list[str] = field(default_factory=list)


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def _viton(folder: Path) -> FoundPairs | None:
    images, cloth = folder / "image", folder / "cloth"
    if not (images.is_dir() and cloth.is_dir()):
        return None
    people, garments = _images(images), _images(cloth)
    pairs = [Pair(people[name], garments[name], "upper") for name in sorted(people) if name in garments]
    problems = [f"{people[name]}: no matching garment {cloth / name}.* (skipped)" for name in sorted(people)
                if name not in garments]
    return FoundPairs("viton-hd", pairs, problems) if pairs or problems else None


def _dresscode(folder: Path) -> FoundPairs | None:
    pairs, problems = [], []
    for person in sorted(folder.rglob("*_0.*")):
        if person.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        garment = next((g for g in person.parent.glob(person.stem[:-2] + "_1.*") if g.suffix.lower() in IMAGE_SUFFIXES), None)
        if garment is None:
            problems.append(f"{person}: no matching garment {person.stem[:-2]}_1.* (skipped)")
            continue
        category = next((DRESSCODE_CATEGORIES[part] for part in person.parts if part in DRESSCODE_CATEGORIES), None)
        pairs.append(Pair(person, garment, category))
    return FoundPairs("dresscode", pairs, problems) if pairs or problems else None


def _csv(folder: Path, table: Path) -> list[Pair]:
    pairs = []
    # utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name
    with table.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if "person" not in row or "garment" not in row:
                raise InputError(f"{table}: needs 'person' and 'garment' columns (and optionally 'category')")
            person, garment = (folder / row["person"]), (folder / row["garment"])
            for path in (person, garment):
                if not path.exists():
                    raise InputError(f"{table}: {path} does not exist")
            pairs.append(Pair(person, garment, row.get("category") or None))
    return pairs


def find_pairs(folder: Path, pairs_csv: Path | None = None) -> FoundPairs:
    """The layout's name, its pairs and what was left unpaired; InputError naming the expected layouts when none fits."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    table = pairs_csv or (folder / "pairs.csv")
    if table.exists():
        return FoundPairs("pairs-csv", _csv(folder, table))
    for finder in (_viton, _dresscode):
        found = finder(folder)
        if found is not None:
            if not found.pairs:
                raise InputError(f"{folder}: {found.layout} layout but no person has a matching garment "
                                 f"(e.g. {found.problems[0]})")
            return found
    raise InputError(f"{folder}: no known layout: expected image/ + cloth/ with matching names (VITON-HD), "
                     "*_0.jpg person + *_1.jpg garment (DressCode), or a pairs.csv with person,garment columns")
