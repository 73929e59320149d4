"""What stays in front of a garment besides face and feet: hands the hand detector missed, and what
they hold (a bag, a clutch).

- Hands from the pose: where no hand landmarks were found near a wrist, the skin around the pose's
  wrist and knuckle points (connected to the knuckles) is the hand.
- Held objects: near each hand, the pixels that are neither skin, nor the old garment's colours, nor
  the backdrop's, in one compact region touching the hand (a garment runs on past the search disc; a
  bag does not), holes filled.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..analysis import body as bp
from ..analysis.body import Body, is_skin
from .shapes import dilate, ellipse_kernel, fill_holes

# pose points of each hand: wrist, pinky, index, thumb (MediaPipe pose numbering)
POSE_HANDS = ((bp.LEFT_WRIST, 17, 19, 21), (bp.RIGHT_WRIST, 18, 20, 22))
WRIST_BACK = 0.3  # ... and not more than this many of them behind the wrist (that is forearm)
HAND_REACH = 1.8  # a pose hand's skin lies within this many wrist->knuckle lengths of its centre ...
MIN_HAND_REACH = 0.12  # ... and never less than this share of the torso scale
DETECTED_HAND_NEAR = 1.5  # a detected hand whose wrist is this many hand lengths from a pose wrist is that hand
OBJECT_SEARCH = 1.1  # held objects are looked for within this many torso scales of a hand ...
OBJECT_TOUCH = 0.06  # ... touching the hand (grown by this share of the torso scale)
OBJECT_MIN_AREA = 0.01  # ... at least this share of a torso scale squared
OBJECT_MAX_AREA = 0.4  # ... at most this share of a torso scale squared (a handbag, not a trouser leg)
FOREARM_WIDTH = 0.15  # torso scales: the band along elbow -> wrist that is arm, not a held object
FOREARM_REACH = 0.25  # torso scales either side of elbow -> wrist: an object with more than ...
ALONG_FOREARM_SHARE = 0.6  # ... this share of its pixels that near is the arm's sleeve, not a held object
SEED_SHRINK = 0.6  # the torso's and thighs' quadrilaterals shrunk this much: surely garment
OBJECT_RIM_SHARE = 0.04  # ... with at most this share of its pixels in the search disc's outer tenth
LIGHTNESS_WEIGHT = 0.5  # colour distances weigh lightness this much against chroma (folds and shadows
# change a fabric's lightness, hardly its chroma)
CLOTHING_DISTANCE = 7.0  # a pixel this close to one of the person's clothing colours is clothing
BACKDROP_DISTANCE = 7.0  # ... to one of the backdrop's colours, backdrop
HELD_CLOTHING_DISTANCE = 5.0  # a found object whose median colour is this close to a clothing colour is that
# garment in another light (the black jeans beside a hand, lit warm by it: 4.7; a beige bag held against
# an off-white dress is 6.0 from it)
COLOUR_CLUSTERS = 6  # k-means colours of the clothing and of the backdrop
MIN_CLUSTER_SHARE = 0.05  # a colour covering less than this share of its region is a stray, not the region's
REFINE_BAND = 0.12  # the object's outline is looked for this many torso scales around its sure core
SURE_BACKGROUND = 0.3  # ... and clothing or backdrop colours beyond this many are surely not the object
SAMPLES = 20000  # pixels drawn for each colour model
WORKING_SIZE = 1024  # long side (px) at which hands and held objects are looked for
SKIN_CHROMA = 8.0  # Lab (a, b) distance from the person's median skin chroma that is still their skin


def colour_lab(image: np.ndarray) -> np.ndarray:
    """Lab with lightness scaled by LIGHTNESS_WEIGHT, so a plain distance weighs chroma more."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lab[..., 0] *= LIGHTNESS_WEIGHT
    return lab


def person_skin(image: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Skin of this person: the skin colour range, narrowed to chroma near the median of the skin-range
    pixels on the person (a beige bag or a warm off-white clutch falls in the range, not near the skin)."""
    skin = is_skin(image)
    seen = skin & (person > 0)
    if seen.sum() > 100:
        # only the skin-range pixels are read (converted as a one-row image: Lab is per pixel)
        ab = cv2.cvtColor(image[skin][None], cv2.COLOR_RGB2LAB)[0, :, 1:].astype(np.float32)  # 8-bit a, b
        skin[skin] = np.linalg.norm(ab - np.median(ab[seen[skin]], axis=0), axis=1) < SKIN_CHROMA
    return cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0


def colour_clusters(pixels: np.ndarray) -> np.ndarray:
    """The main Lab colours of `pixels` (k-means, deterministic); strays under MIN_CLUSTER_SHARE dropped."""
    if len(pixels) < 4 * COLOUR_CLUSTERS:
        return pixels.astype(np.float32)
    sample = pixels[np.linspace(0, len(pixels) - 1, min(len(pixels), SAMPLES)).astype(int)].astype(np.float32)
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(sample, COLOUR_CLUSTERS, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=COLOUR_CLUSTERS) / len(labels)
    return centres[shares >= MIN_CLUSTER_SHARE]


def colour_distance(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Per pixel, the Delta E to the nearest centre (infinite without centres)."""
    if not len(centres):
        return np.full(lab.shape[:2], np.inf, np.float32)
    # the nearest centre by squared distance, one square root at the end (the root is monotonic); the
    # squares are summed as np.linalg.norm sums them, so the distances are its own
    planes = [np.ascontiguousarray(lab[..., k]) for k in range(3)]
    nearest = None
    for centre in centres:
        squared = None
        for plane, value in zip(planes, centre):  # channel by channel, in the order norm adds them
            offset = plane - value
            squared = offset * offset if squared is None else np.add(squared, offset * offset, out=squared)
        nearest = squared if nearest is None else np.minimum(nearest, squared, out=nearest)
    return np.sqrt(nearest)


def _disc(shape: tuple[int, int], centre: np.ndarray, radius: float) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.circle(mask, (int(round(centre[0])), int(round(centre[1]))), max(int(radius), 1), 255, -1)
    return mask


def pose_hands(image: np.ndarray, body: Body, scale: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each hand the pose sees: (centre, region uint8). The region is the hand detector's landmark hull
    when it found that hand, else the skin around the pose's wrist and knuckles, connected to them."""
    shape = image.shape[:2]
    hands: list[tuple[np.ndarray, np.ndarray]] = []
    detected = list(body.hands)
    skin = None
    for indices in POSE_HANDS if body.source == "pose" else ():  # (carried keypoints are too rough)
        points = body.visible(indices)
        if len(points) < 2 or body.keypoints is None or body.keypoints[indices[0], 2] < bp.VISIBLE:
            continue
        wrist = points[0]
        length = max(float(np.max(np.linalg.norm(points[1:] - wrist, axis=1))), 1.0)
        centre = points.mean(axis=0)
        if any(np.linalg.norm(hand[0] - wrist) < DETECTED_HAND_NEAR * length for hand in detected):
            continue  # the hand detector has it: its landmarks are the better outline
        if skin is None:  # any skin tone in any light (a hand in shadow is far from the arm's chroma)
            skin = cv2.morphologyEx(is_skin(image).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
        reach = max(HAND_REACH * length, MIN_HAND_REACH * scale)
        # (skin beyond the wrist only: behind it is the forearm, which a new sleeve may cover)
        axis = (centre - wrist) / max(float(np.linalg.norm(centre - wrist)), 1e-3)
        rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
        beyond = (cols - wrist[0]) * axis[0] + (rows - wrist[1]) * axis[1] > -WRIST_BACK * length
        near = skin & (_disc(shape, centre, reach) > 0) & beyond
        _, labels = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
        seeds = dilate(_disc(shape, centre, 1), max(int(0.6 * length), 1)) > 0  # around wrist and knuckles
        for point in points:
            seeds |= _disc(shape, point, max(0.3 * length, 2)) > 0
        ids = np.unique(labels[seeds & near])
        ids = ids[ids > 0]
        region = np.where(np.isin(labels, ids), 255, 0).astype(np.uint8)
        if region.any():
            region = cv2.morphologyEx(region, cv2.MORPH_CLOSE, ellipse_kernel(2))
            hands.append((centre, region))
    for hand in detected:
        region = np.zeros(shape, np.uint8)
        cv2.fillConvexPoly(region, cv2.convexHull(np.round(hand).astype(np.int32)), 255)
        hands.append((hand.mean(axis=0), region))
    return hands


def _forearms(body: Body, shape: tuple[int, int], scale: float, width: float = FOREARM_WIDTH) -> np.ndarray:
    """Along the arms' bones, elbow to wrist, `width` torso scales wide: the arm itself (whatever its colour
    in this light), never what a hand holds."""
    region = np.zeros(shape, np.uint8)
    for side in ((bp.LEFT_ELBOW, bp.LEFT_WRIST), (bp.RIGHT_ELBOW, bp.RIGHT_WRIST)):
        points = body.visible(side)
        if len(points) == 2:
            cv2.line(region, tuple(int(v) for v in points[0]), tuple(int(v) for v in points[1]), 255,
                     max(int(width * scale), 1))
    return region > 0


def _garment_seeds(body: Body, shape: tuple[int, int]) -> np.ndarray:
    """The middle of the torso and of the thighs (each quadrilateral shrunk about its centre): garment."""
    seeds = np.zeros(shape, np.uint8)
    for corners in ((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP),
                    (bp.LEFT_HIP, bp.RIGHT_HIP, bp.RIGHT_KNEE, bp.LEFT_KNEE)):
        quad = body.visible(corners)
        if len(quad) == 4:
            centre = quad.mean(axis=0)
            cv2.fillConvexPoly(seeds, np.round(centre + SEED_SHRINK * (quad - centre)).astype(np.int32), 255)
    return seeds > 0


def held_objects(image: np.ndarray, body: Body, garment: np.ndarray | None, scale: float,
                 hands: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Compact regions touching a hand that are neither skin, nor the old garment (`garment`, its region),
    nor the backdrop: what the hand holds in front of the garment (uint8 0/255)."""
    shape = image.shape[:2]
    found = np.zeros(shape, np.uint8)
    if not hands or garment is None or not garment.any():
        return found
    radius = OBJECT_SEARCH * scale
    discs = [_disc(shape, centre, radius) for centre, _ in hands]
    search = np.zeros(shape, np.uint8)
    for disc in discs:
        search |= disc
    ys, xs = np.nonzero(search)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    lab = colour_lab(image)
    person = body.person > 0 if body.person.any() else np.zeros(shape, bool)
    skin = dilate(person_skin(image, body.person).astype(np.uint8), 1) > 0
    for _, hand in hands:
        skin |= hand > 0
    # the colours of what the person wears: away from the hands (the old garment's coarse region may hold
    # the bag itself; the other garment, say a top over trousers, is no held object either), and in the
    # middle of the torso and the legs, where each garment surely is
    own = ((garment > 0) | person) & ~skin & (search == 0)
    seeds = _garment_seeds(body, shape) & person & ~skin
    clothing_colours = np.concatenate([colour_clusters(lab[own]) if own.sum() > 500 else np.zeros((0, 3), np.float32),
                                       colour_clusters(lab[seeds]) if seeds.sum() > 500 else np.zeros((0, 3), np.float32),
                                       colour_clusters(lab[(garment > 0) & ~skin]) if own.sum() <= 500 else
                                       np.zeros((0, 3), np.float32)])
    backdrop = ~(dilate(body.person, max(int(0.03 * scale), 1)) > 0) if person.any() else np.zeros(shape, bool)
    backdrop_colours = colour_clusters(lab[backdrop]) if backdrop.any() else np.zeros((0, 3), np.float32)
    crop = lab[y0:y1, x0:x1]
    clothing = np.zeros(shape, bool)
    backdrop_like = np.zeros(shape, bool)
    clothing[y0:y1, x0:x1] = colour_distance(crop, clothing_colours) <= CLOTHING_DISTANCE
    backdrop_like[y0:y1, x0:x1] = colour_distance(crop, backdrop_colours) <= BACKDROP_DISTANCE
    other = ~clothing[y0:y1, x0:x1] & ~backdrop_like[y0:y1, x0:x1] & ~skin[y0:y1, x0:x1]
    other &= ~_forearms(body, shape, scale)[y0:y1, x0:x1]
    other = cv2.morphologyEx(other.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    other = cv2.morphologyEx(other, cv2.MORPH_CLOSE, ellipse_kernel(max(int(0.02 * scale), 1)))
    count, labels = cv2.connectedComponents(other, connectivity=8)
    min_area = OBJECT_MIN_AREA * scale * scale
    core = np.zeros(shape, np.uint8)
    front_hands = np.zeros(shape, np.uint8)
    for (centre, hand), whole_disc in zip(hands, discs):
        front_hands |= hand
        disc = whole_disc[y0:y1, x0:x1] > 0
        rim = disc & ~(_disc(shape, centre, 0.9 * radius)[y0:y1, x0:x1] > 0)
        touch = dilate(hand, max(int(OBJECT_TOUCH * scale), 1))[y0:y1, x0:x1] > 0
        for label in np.unique(labels[touch & disc & (other > 0)]):
            if label == 0:
                continue
            part = (labels == label) & disc
            area = int(part.sum())
            edge = part[0].sum() + part[-1].sum() + part[:, 0].sum() + part[:, -1].sum() if (
                y0 == 0 or x0 == 0 or y1 == shape[0] or x1 == shape[1]) else 0
            if area < min_area or area > OBJECT_MAX_AREA * scale * scale or \
                    (part & rim).sum() + edge > OBJECT_RIM_SHARE * area:
                continue  # a speck, or something that runs on past the disc (another garment)
            core[y0:y1, x0:x1] |= np.where(part, 255, 0).astype(np.uint8)
    if not core.any():
        return core
    found = fill_holes(_refine(image, core, front_hands, skin, clothing | backdrop_like, scale))
    # an object whose typical colour is one of the person's clothing colours is that garment in another
    # light (black jeans lit warm by the hand beside them were kept in front of the new jeans, a black patch)
    count, parts = cv2.connectedComponents(found, connectivity=8)
    for label in range(1, count):
        part = parts == label
        if len(clothing_colours) and colour_distance(np.median(lab[part], axis=0)[None, None],
                                                     clothing_colours)[0, 0] <= HELD_CLOTHING_DISTANCE:
            found[part] = 0
    # an object lying along a forearm is its sleeve (on a dancing arm, the keypoints a little behind it, a dark
    # edge beside the forearm grew into the whole sleeve, kept as a mustard block in front of the new top);
    # a bag hangs below the hand or beside the arm
    forearms = _forearms(body, shape, scale, 2 * FOREARM_REACH)
    count, parts = cv2.connectedComponents(found, connectivity=8)
    for label in range(1, count):
        part = parts == label
        if forearms[part].mean() > ALONG_FOREARM_SHARE:
            found[part] = 0
    # a bag is compact and within the frame; more is a garment or the backdrop taken for one: left alone
    border = found[0].any() or found[-1].any() or found[:, 0].any() or found[:, -1].any()
    if border or (found > 0).sum() > OBJECT_MAX_AREA * scale * scale:
        return np.zeros(shape, np.uint8)
    return found


def _refine(image: np.ndarray, core: np.ndarray, hands: np.ndarray, skin: np.ndarray, known: np.ndarray,
            scale: float) -> np.ndarray:
    """The whole object from its surely-other core: GrabCut in a box around it, the core sure foreground,
    a band around it probable foreground, skin and hands sure background, clothing and backdrop colours
    beyond a wider band sure background (the object's light parts next to a light garment follow its outline)."""
    shape = image.shape[:2]
    band = max(int(REFINE_BAND * scale), 2)
    sure = max(int(SURE_BACKGROUND * scale), band)
    # Everything happens inside the core's box grown by the band and the sure-background margin: no
    # dilation of the core reaches past it (an ellipse kernel grows a box by its radius exactly), so the
    # crop's results equal the whole image's, at a fraction of the cost.
    x, y, w, h = cv2.boundingRect(core)
    y0, y1 = max(y - band - sure, 0), min(y + h + band + sure, shape[0])
    x0, x1 = max(x - band - sure, 0), min(x + w + band + sure, shape[1])
    core, hands = core[y0:y1, x0:x1], hands[y0:y1, x0:x1]
    grown = dilate(core, band)
    near = dilate(core, sure)
    far = near if int(SURE_BACKGROUND * scale) == sure else dilate(core, int(SURE_BACKGROUND * scale))
    labels = np.full(core.shape, cv2.GC_PR_BGD, np.uint8)
    labels[known[y0:y1, x0:x1] & ~(far > 0)] = cv2.GC_BGD
    labels[grown > 0] = cv2.GC_PR_FGD
    labels[core > 0] = cv2.GC_FGD
    labels[skin[y0:y1, x0:x1] & (core == 0)] = cv2.GC_BGD  # the hand and arm are kept apart
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    found = np.zeros(shape, np.uint8)
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(np.ascontiguousarray(image[y0:y1, x0:x1]), labels, None, background, foreground, 3,
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        found[y0:y1, x0:x1] = core
        return found
    box = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    box &= near  # never further from the core than that
    box &= ~hands
    # only what joins the core (GrabCut may pick up a stray patch of the same colour in the box)
    _, parts = cv2.connectedComponents(box, connectivity=8)
    ids = np.unique(parts[(core > 0) & (box > 0)])
    found[y0:y1, x0:x1] = np.where(np.isin(parts, ids[ids > 0]), 255, 0).astype(np.uint8) | (core & ~hands)
    return found


def in_front(image: np.ndarray, body: Body, garment: np.ndarray | None, scale: float) -> np.ndarray:
    """The hands only the pose found, and what any hand holds: in front of any garment (uint8 0/255).
    Found at a working size (long side WORKING_SIZE) and scaled back."""
    h, w = image.shape[:2]
    factor = min(1.0, WORKING_SIZE / max(h, w))
    if factor >= 1.0:
        return _in_front(image, body, garment, scale)
    size = (max(int(round(w * factor)), 1), max(int(round(h * factor)), 1))
    keypoints = None
    if body.keypoints is not None:
        keypoints = body.keypoints.copy()
        keypoints[:, :2] *= factor
    small = Body(keypoints, cv2.resize(body.person, size, interpolation=cv2.INTER_NEAREST),
                 tuple(hand * factor for hand in body.hands), body.source)
    found = _in_front(cv2.resize(image, size, interpolation=cv2.INTER_AREA), small,
                      None if garment is None else cv2.resize(garment, size, interpolation=cv2.INTER_NEAREST),
                      scale * factor)
    return np.where(cv2.resize(found, (w, h), interpolation=cv2.INTER_LINEAR) >= 128, 255, 0).astype(np.uint8)


def _in_front(image: np.ndarray, body: Body, garment: np.ndarray | None, scale: float) -> np.ndarray:
    hands = pose_hands(image, body, scale)
    front = np.zeros(image.shape[:2], np.uint8)
    for _, region in hands[: len(hands) - len(body.hands)]:  # (the detected ones are protected already)
        front |= region
    return front | held_objects(image, body, garment, scale, hands)
