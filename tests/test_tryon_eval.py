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


def test_colour_is_judged_where_the_garment_was_placed():
    """A two-colour top (red yoke, navy body) on a body cut by the frame at the chest shows only its red
    part: the whole photo's mean is far from it, the placed figure is not, and a worn garment of the wrong
    colour fails the bar (the placed figure is no free pass)."""
    import cv2
    import numpy as np

    from test_tryon_worn import body_with
    from tryon_cli.garments.evaluate import evaluate_frame, verdict
    from tryon_cli.garments.photo import prepare_garment
    from tryon_cli.garments.placement import arms_in_front, warp_garment
    from tryon_cli.masks.garment import MaskOptions, build_mask

    shirt = tshirt((200, 30, 30))
    shirt[200:361][(shirt[200:361] != 255).any(axis=2)] = (20, 30, 90)  # the lower half navy
    garment = prepare_garment(shirt, "upper")
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    person = np.full((*body.person.shape, 3), 128, np.uint8)
    person[body.person > 0] = (90, 160, 90)  # a green old top
    options = MaskOptions(category="upper")
    built = build_mask(person, body, options)
    arms = arms_in_front(body, person.shape[:2])
    warped, alpha, keep = warp_garment(garment, body, built, person.shape[:2], "upper", arms)
    worn = (alpha > 0.5) & (keep == 0) & (built.mask > 0)
    output = person.copy()
    output[worn] = warped[worn]
    cut = np.zeros_like(built.mask)
    cut[:230] = built.mask[:230]  # the frame's bottom edge crosses the chest: only the red part is seen
    output[230:] = person[230:]
    figures = evaluate_frame(person, garment, output, body, options, cut).as_dict()
    assert figures["colour_delta_e"] > 15 and figures["colour_delta_e_placed"] < 3
    assert verdict(figures)["colour_within_10"]
    dull = output.copy()
    dull[worn & (cut > 0)] = (120, 120, 120)  # a grey garment where the red one should be
    figures = evaluate_frame(person, garment, dull, body, options, cut).as_dict()
    assert figures["colour_delta_e_placed"] > 10 and not verdict(figures)["colour_within_10"]


def _tee_and_body():
    """A short-sleeved tee (prepared) and a body with its arms held out and down."""
    from test_tryon_worn import body_with, short_sleeve
    from tryon_cli.garments.photo import prepare_garment

    garment = prepare_garment(short_sleeve(), "upper")
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    return garment, body


def _new_tee_over(person, garment, body):
    """The upper mask options and mask of `person`, the photo with the tee warped in where it covers the mask
    (the old garment left beside it), and where the mask is not covered (bool)."""
    from tryon_cli.garments.placement import arms_in_front, warp_garment
    from tryon_cli.masks.garment import MaskOptions, build_mask

    options = MaskOptions(category="upper")
    built = build_mask(person, body, options)
    warped, alpha, _ = warp_garment(garment, body, built, person.shape[:2], "upper", arms_in_front(body, person.shape[:2]))
    covered = (alpha > 0.5) & (built.mask > 0)
    left = person.copy()
    left[covered] = warped[covered]
    return options, built.mask, left, (built.mask > 0) & ~covered


def test_a_backdrop_fill_beside_a_cream_garment_on_white_is_not_leftover():
    """Light on light: where a cream old garment is filled with the pale grey backdrop around it (within
    the old colour's radius), nothing is left over; where the cream itself is left, it is."""
    import numpy as np

    from tryon_cli.garments.evaluate import evaluate_frame

    garment, body = _tee_and_body()
    person = np.full((*body.person.shape, 3), 225, np.uint8)
    person[body.person > 0] = (235, 226, 205)  # a cream top and trousers on a pale grey backdrop
    options, mask, left, beside = _new_tee_over(person, garment, body)  # the old cream stays beside it
    filled = left.copy()
    filled[beside] = 226  # ... or is filled with the backdrop
    assert evaluate_frame(person, garment, left, body, options, mask).leftover_share > 0.02
    assert evaluate_frame(person, garment, filled, body, options, mask).leftover_share < 0.005


def test_a_backdrop_fill_in_the_backdrops_own_shade_there_is_not_leftover():
    """A grey old top on a white backdrop that is a shade darker beside the shoulders than elsewhere (as
    full_body_tee_trousers' backdrop darkens by the feet, where its white T-shirt's colour lay 2 Delta E
    from the backdrop's median): filled beside the new garment with the backdrop's own shade there, nothing
    is left over (against the backdrop's one median colour the darker fill passed for the old top: the
    magenta dots by the feet); the old top left there still counts."""
    import numpy as np

    from tryon_cli.garments.evaluate import evaluate_frame

    garment, body = _tee_and_body()
    person = np.full((*body.person.shape, 3), 245, np.uint8)
    person[180:300] = 214  # the backdrop in a shade beside the shoulders
    backdrop = person.copy()
    person[body.person > 0] = 205  # a grey top, 3.4 Delta E darker than that shade
    options, mask, left, beside = _new_tee_over(person, garment, body)  # the old grey stays beside it
    filled = left.copy()
    filled[beside] = backdrop[beside]  # ... or is filled with the backdrop's shade there
    assert evaluate_frame(person, garment, left, body, options, mask).leftover_share > 0.02
    assert evaluate_frame(person, garment, filled, body, options, mask).leftover_share < 0.005
