"""`tryon eval tryon`: the bars hold on a classical try-on, and a pixel changed outside the mask is caught."""

from __future__ import annotations

import json

from conftest import run_cli
from test_tryon import tshirt
from tryon_cli.io.media import read_image, write_image


def test_eval_tryon_figures_sheet_and_outside_pixels(astronaut, tmp_path):
    person, garment, out = tmp_path / "person.png", tmp_path / "shirt.png", tmp_path / "out.png"
    write_image(person, astronaut)
    write_image(garment, tshirt())
    assert run_cli("tryon", str(person), str(garment), "-o", str(out), "-q").returncode == 0
    sheet = tmp_path / "sheet.png"
    result = run_cli("eval", "tryon", str(person), str(garment), str(out), "--json", "--sheet", str(sheet))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["changed_outside_mask"] == 0 and figures["bars"]["outside_mask_bit_exact"]
    assert figures["colour_delta_e"] is not None and figures["colour_delta_e"] < 10
    assert read_image(sheet).shape[1] > 3 * read_image(sheet).shape[0]  # four panels side by side
    tampered = read_image(out)
    tampered[0, 0] = 255 - tampered[0, 0]  # the top-left corner is never in an upper mask
    write_image(out, tampered)
    result = run_cli("eval", "tryon", str(person), str(garment), str(out), "--json")
    figures = json.loads(result.stdout)
    assert figures["changed_outside_mask"] == 1 and not figures["bars"]["outside_mask_bit_exact"]
