"""Try-on on the shared videos: does the garment hold still on the body?

Per video and garment (first `--end` seconds) it prints:
- kp raw / kp smooth: the pose keypoints' jitter (px), the mean length of their second difference over
  consecutive frames (shoulders, elbows, hips; frames where the pose was trusted), before and after the
  analyser's temporal smoothing;
- flicker: the mean absolute grey change between consecutive output frames inside the worn garment
  (alpha over 0.5 in both), next to the input's change at the same pixels (the person's own motion);
  a garment that swims or jitters on a still body changes far more than its input;
- edge: 1 - IoU of consecutive frames' garment alpha (its outline moving);
- shift / in shift: the garment's mean displacement between consecutive frames (px, phase correlation
  inside the garment), and the input's at the same place (the body's own motion; a plain dark suit has
  little texture to measure it by); jitter / in jitter: how much that displacement changes from one frame
  to the next (px), a garment that shakes on a steadily moving body has a high one.
With `--sheets DIR` it writes, per example, a strip of four consecutive output frames over their
differences (x4) and the input's differences (x4), and input|output at three frames.

    python benchmarks/tryon_video_stability.py [--start 0] [--end 2] [--video suit] [--garment striped] [--sheets DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_MEDIA  # noqa: E402

# (video, garment, category): every shared try-on video with garments of a matching category
EXAMPLES = (
    ("upper_body_suit.mp4", "upper_striped_long_sleeve.jpg", "upper"),
    ("upper_body_suit.mp4", "00055_00.jpg", "upper"),
    ("upper1.mp4", "upper_black_graphic_tee.jpg", "upper"),
    ("upper1.mp4", "upper_striped_long_sleeve.jpg", "upper"),
    ("full_body_dance.mp4", "upper_white_print_tee.jpg", "upper"),
    ("full_body_dance.mp4", "lower_pink_jeans.jpg", "lower"),
    ("full_body_dance.mp4", "dress_bold_print.jpg", "dress"),
)
JOINTS = (11, 12, 13, 14, 23, 24)  # MediaPipe: shoulders, elbows, hips


def keypoint_jitter(tracks: list[np.ndarray | None]) -> float:
    """Mean length (px) of the keypoints' second difference over runs of three consecutive frames with a pose."""
    steps = []
    for a, b, c in zip(tracks, tracks[1:], tracks[2:]):
        if a is None or b is None or c is None:
            continue
        steps.append(np.linalg.norm(a - 2 * b + c, axis=1))
    return float(np.mean(steps)) if steps else float("nan")


def displacement(before: np.ndarray, after: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(dx, dy) px from `before` to `after` inside `where`'s box (phase correlation, the box's mean removed)."""
    import cv2

    ys, xs = np.nonzero(where)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    weight = where[box].astype(np.float32)
    a, b = before[box] * weight, after[box] * weight
    a, b = a - a[weight > 0].mean() * weight, b - b[weight > 0].mean() * weight
    (dx, dy), _ = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F))
    return np.array([dx, dy])


def second(shifts: list[np.ndarray]) -> float:
    """Mean length (px) of the change of displacement between consecutive frame pairs."""
    return float(np.mean([np.hypot(*(b - a)) for a, b in zip(shifts, shifts[1:])])) if len(shifts) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=float, default=0.0, help="from this second of each video")
    parser.add_argument("--end", type=float, default=2.0, help="up to this second of each video")
    parser.add_argument("--video", action="append", default=[], help="only videos whose name contains this")
    parser.add_argument("--garment", action="append", default=[], help="only garments whose name contains this")
    parser.add_argument("--sheets", type=Path, help="write a strip sheet per example here")
    args = parser.parse_args()

    import cv2

    from tryon_cli.analysis.body import BodyAnalyzer
    from tryon_cli.garments.photo import load_garment
    from tryon_cli.garments.planner import tryon_frames
    from tryon_cli.io.video import iter_frames, probe_video
    from tryon_cli.masks.garment import MaskOptions
    from tryon_cli.render.classical.engine import ClassicalEngine

    class RecordingAnalyzer(BodyAnalyzer):
        """The tracking analyser, keeping each frame's keypoints before and after smoothing."""

        def __init__(self, fps: float) -> None:
            super().__init__(tracking=True, fps=fps)
            self.raw: list[np.ndarray | None] = []
            self.smooth: list[np.ndarray | None] = []

        def analyse(self, image, time=None):
            count = len(self.raw)
            body = super().analyse(image, time)
            if len(self.raw) == count:  # no trusted pose this frame
                self.raw.append(None)
                self.smooth.append(None)
            return body

        def _smoothed(self, keypoints):
            smoothed = super()._smoothed(keypoints)
            self.raw.append(keypoints[list(JOINTS), :2].astype(np.float64))
            self.smooth.append(smoothed[list(JOINTS), :2].astype(np.float64))
            return smoothed

    class RecordingEngine:
        """The classical engine, keeping each frame's garment alpha."""

        def __init__(self) -> None:
            self.engine = ClassicalEngine()
            self.alphas: dict[int, np.ndarray] = {}

        def prepare(self, kind) -> None:
            self.engine.prepare(kind)

        def render_stream(self, items, progress=None):
            def spy():
                for item in items:
                    if item.conditions is not None:
                        self.alphas[item.key.index] = item.conditions.warped_alpha * (item.conditions.keep == 0)
                    yield item
            return self.engine.render_stream(spy(), progress)

    root = SHARED_MEDIA / "tryon"
    if args.sheets:
        args.sheets.mkdir(parents=True, exist_ok=True)
    print(f"{'video':<22}{'garment':<30}{'kp raw':>8}{'kp smooth':>10}{'flicker':>9}{'input':>7}{'edge':>7}"
          f"{'shift':>7}{'in shift':>9}{'jitter':>8}{'in jitter':>10}")
    for video, garment_name, category in EXAMPLES:
        if args.video and not any(s in video for s in args.video):
            continue
        if args.garment and not any(s in garment_name for s in args.garment):
            continue
        path = root / "video" / video
        model = load_garment(root / "garments" / garment_name, category)
        frames, outputs = [], []
        analyzer = RecordingAnalyzer(float(probe_video(path).fps))
        engine = RecordingEngine()
        try:
            tryon_frames(iter_frames(path, start=args.start or None, end=args.end), model, engine, MaskOptions(category=category), "mask",
                         True, 0, lambda frame, result: (frames.append(frame.image), outputs.append(result)),
                         analyzer=analyzer)
        finally:
            analyzer.close()
        grey_in = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
        grey_out = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in outputs]
        flicker, motion, edge, shifts, in_shifts = [], [], [], [], []
        for t in range(1, len(frames)):
            a, b = engine.alphas.get(t - 1), engine.alphas.get(t)
            if a is None or b is None:
                continue
            both = (a > 0.5) & (b > 0.5)
            if both.sum() < 100:
                continue
            flicker.append(float(np.abs(grey_out[t] - grey_out[t - 1])[both].mean()))
            motion.append(float(np.abs(grey_in[t] - grey_in[t - 1])[both].mean()))
            union = ((a > 0.5) | (b > 0.5)).sum()
            edge.append(1.0 - float(both.sum()) / max(float(union), 1.0))
            shifts.append(displacement(grey_out[t - 1], grey_out[t], both))
            in_shifts.append(displacement(grey_in[t - 1], grey_in[t], both))
        mean = (lambda v: float(np.mean(v)) if v else float("nan"))
        print(f"{video:<22}{garment_name:<30}{keypoint_jitter(analyzer.raw):>8.2f}"
              f"{keypoint_jitter(analyzer.smooth):>10.2f}{mean(flicker):>9.2f}{mean(motion):>7.2f}"
              f"{mean(edge):>7.3f}{mean([np.hypot(*d) for d in shifts]):>7.2f}"
              f"{mean([np.hypot(*d) for d in in_shifts]):>9.2f}{second(shifts):>8.2f}{second(in_shifts):>10.2f}",
              flush=True)
        if args.sheets and len(outputs) >= 5:
            start = min(10, len(outputs) - 4)
            picks = range(start, start + 4)
            diff = (lambda seq, t: np.clip(np.abs(seq[t].astype(np.int16) - seq[t - 1]) * 4, 0, 255).astype(np.uint8))
            strip = np.vstack([np.hstack([outputs[t] for t in picks]), np.hstack([diff(outputs, t) for t in picks]),
                               np.hstack([diff(frames, t) for t in picks])])
            chosen = [0, len(outputs) // 2, len(outputs) - 1]
            pairs = np.hstack([np.vstack([frames[t], outputs[t]]) for t in chosen])
            for name, image in (("strip", strip), ("frames", pairs)):
                scale = min(1.0, 1400 / image.shape[1])
                image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)),
                                   interpolation=cv2.INTER_AREA)
                out = args.sheets / f"{Path(video).stem}__{Path(garment_name).stem}__{name}.png"
                cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
