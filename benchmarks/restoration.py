"""Restoration benchmark: refine_stroke, propose_dust and propose_damage on synthetic damage.

    .venv/bin/python benchmarks/restoration.py                # dev_eval scenes + faces -> docs/restoration.md
    .venv/bin/python benchmarks/restoration.py --set train    # tuning photos; prints, writes nothing

Each clean photo gets each damage kind alone (``inference.restoration.synthetic``), for several
seeds, and every function runs on it: precision / recall / F1 per kind (pixels with a 2-px
tolerance, see ``inference.restoration.scoring``; dust also per speck), at the default sensitivity
and as a curve. The same functions on the undamaged photo give the false marks per megapixel. The
speed section times refine_stroke on a 500-px Stroke and propose_dust on a 12-megapixel scan.
Thresholds were tuned with ``--set train``; dev_eval is only measured.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import cpu_name, load_average, median_seconds, write_section  # noqa: E402
from inference.io.images import open_image  # noqa: E402
from inference.restoration import DEFAULT_SENSITIVITY, propose_damage, propose_dust, refine_stroke  # noqa: E402
from inference.restoration.learned import forget_whole_photo  # noqa: E402
from inference.restoration.scoring import Counts, object_counts, pixel_counts  # noqa: E402
from inference.restoration.synthetic import KINDS, render_damage  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DOC = Path(__file__).resolve().parent.parent / "docs" / "restoration.md"
FUNCTIONS = ("refine_stroke", "propose_dust", "propose_damage")
CURVE = (0.2, 0.35, 0.5, 0.65, 0.8)
# The kinds each function is meant to find; its marks on other kinds' photos are not scored per kind
# (they show up as false marks on undamaged photos instead).
TARGETS = {"refine_stroke": KINDS, "propose_dust": ("dust",), "propose_damage": ("scratch", "crack", "torn")}


def photos(which: str, limit: int) -> list[Path]:
    if which == "dev_eval":
        folders = [DATA / "dev_eval" / "scenes", DATA / "dev_eval" / "faces"]
        paths = sorted(p for folder in folders for p in folder.glob("*.png"))
    else:
        # Clean photos only: the "old" ones carry real, unlabelled dust and scratches.
        rows = (DATA / "train" / "index.csv").read_text(encoding="utf-8").splitlines()[1:]
        paths = sorted(DATA / "train" / row.split(",")[0] for row in rows if row.split(",")[1] in {"scene", "face"})
        paths = [paths[i] for i in np.random.default_rng(7).permutation(len(paths))]
    return paths[:limit]


def run_function(name: str, damaged: np.ndarray, truth: np.ndarray, sensitivity: float,
                 rng: np.random.Generator, method: str) -> np.ndarray:
    if name == "refine_stroke":
        radius = int(rng.integers(5, 21))  # the simulated rough Stroke: damage grown by 5-20 px
        stroke = cv2.dilate(truth.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))).astype(bool)
        return refine_stroke(damaged, stroke, sensitivity, method=method)
    if name == "propose_dust":
        return propose_dust(damaged, sensitivity, method=method)
    return propose_damage(damaged, sensitivity, method=method)


def measure(paths: list[Path], seeds: int, sensitivities: tuple[float, ...], method: str) -> dict:
    """{(function, kind, sensitivity): (pixel Counts, object Counts)}, plus false marks on clean photos."""
    scores: dict = {}
    clean_marks = {(name, s): [0, 0.0] for name in FUNCTIONS[1:] for s in sensitivities}
    for index, path in enumerate(paths):
        clean = open_image(path).pixels
        for s in sensitivities:
            for name in FUNCTIONS[1:]:
                marks = run_function(name, clean, np.zeros(clean.shape[:2], bool), s, None, method)
                clean_marks[name, s][0] += int(marks.sum())
                clean_marks[name, s][1] += clean.shape[0] * clean.shape[1] / 1e6
        for seed in range(seeds):
            for kind_index, kind in enumerate(KINDS):
                rng = np.random.default_rng([seed, index, kind_index])
                photo = render_damage(clean, rng, (kind,))
                truth = photo.masks[kind]
                if not truth.any():
                    continue
                for name in (name for name in FUNCTIONS if kind in TARGETS[name]):
                    for s in sensitivities:
                        proposed = run_function(name, photo.image, truth, s, np.random.default_rng([seed, index]), method)
                        pixel, objects = scores.setdefault((name, kind, s), (Counts(), Counts()))
                        pixel += pixel_counts(proposed, truth)
                        objects += object_counts(proposed, truth)
        print(f"{method} {index + 1}/{len(paths)} {path.name}", file=sys.stderr)
    return {"scores": scores, "clean": clean_marks, "photos": len(paths)}


def speed(method: str) -> dict[str, float]:
    rng = np.random.default_rng(3)
    scan = render_damage(_textured_photo(3000, 4000, rng), rng, ("dust", "scratch")).image
    stroke = np.zeros(scan.shape[:2], np.uint8)
    cv2.line(stroke, (1000, 1000), (1500, 1000), 1, 20)  # 500 px long, 20 px wide
    stroke = stroke.astype(bool)
    return {
        f"refine_stroke, 500-px Stroke (20 px wide) on a 12 MP scan ({method})": median_seconds(
            lambda: refine_stroke(scan, stroke, method=method), 7),
        # Each call from cold: the learned proposals keep their last network pass for the same photo.
        f"propose_dust, 12 MP scan (4000×3000) ({method})": median_seconds(
            lambda: (forget_whole_photo(), propose_dust(scan, method=method)), 3),
        f"propose_damage, 12 MP scan (4000×3000) ({method})": median_seconds(
            lambda: (forget_whole_photo(), propose_damage(scan, method=method)), 3),
        f"propose_dust then propose_damage, same 12 MP scan, as `restore` does ({method})": median_seconds(
            lambda: (forget_whole_photo(), propose_dust(scan, method=method), propose_damage(scan, method=method)), 3),
    }


def _textured_photo(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A scan-sized picture: a real photo scaled up, plus film grain."""
    source = open_image(photos("dev_eval", 1)[0]).pixels
    big = cv2.resize(source, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(big + rng.normal(0, 3, (height, width, 1)), 0, 255).astype(np.uint8)


def format_report(results: dict[str, dict], curve: dict | None, paths: list[Path], seeds: int, timings,
                  command: str) -> str:
    methods = list(results)
    result = results[methods[0]]
    curve = curve or result
    clean, curve_scores = curve["clean"], curve["scores"]
    sensitivities = sorted({key[1] for key in clean})
    lines = [
        "# Restoration: finding scratches, cracks, dust, stains and torn corners", "",
        "## Setup", "",
        f"Measured {datetime.date.today().isoformat()} on {cpu_name()} (load average {load_average()}), "
        f"`{command}`.", "",
        f"{len(paths)} clean {'dev_eval' if 'dev_eval' in str(paths[0]) else 'train'} photos (scenes + faces) × {seeds} seed(s) × each damage kind alone "
        "(`inference/restoration/synthetic.py`). Pixel scores: a mark is correct within 2 px of damage, "
        "recall counts damaged pixels covered. refine_stroke gets the damage grown by a random 5-20 px as "
        "its rough Stroke. Thresholds (the rules' constants, the detector's training and its calibrated "
        "thresholds) come from train photos only. Methods: `learned` is the trained defect detector "
        "(`weights/defect_detector.safetensors`, what the editor and `restore` use when it is there), "
        "`classical` the rules it falls back to.", "",
        f"## At the default sensitivity ({DEFAULT_SENSITIVITY})", "",
        "| function | kind | method | precision | recall | F1 | parts found | marks correct |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in FUNCTIONS:
        for kind in TARGETS[name]:
            for method in methods:
                scores = results[method]["scores"]
                if (name, kind, DEFAULT_SENSITIVITY) in scores:
                    pixel, objects = scores[name, kind, DEFAULT_SENSITIVITY]
                    lines.append(f"| {name} | {kind} | {method} | {pixel.precision:.2f} | {pixel.recall:.2f} | "
                                 f"{pixel.f1:.2f} | {objects.found_truth}/{objects.truth} | "
                                 f"{objects.correct_marks}/{objects.marks} |")
    lines += ["", "## False marks on the undamaged photos", "",
              (f"Method {methods[0]} at every sensitivity on the first {curve['photos']} photos; " if curve is not result
               else "") + f"at the default sensitivity on all {len(paths)} photos for the others.", "",
              "| function | method | " + " | ".join(f"s={s}" for s in sensitivities) + " |",
              "|---|---|" + "---:|" * len(sensitivities)]
    for method in methods:
        marks = clean if method == methods[0] else results[method]["clean"]
        for name in FUNCTIONS[1:]:
            cells = [f"{marks[name, s][0] / max(marks[name, s][1], 1e-9):.0f} px/MP" if (name, s) in marks else "-"
                     for s in sensitivities]
            lines.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
    lines += ["", "## Curve: precision / recall by sensitivity", "",
              f"Method {methods[0]}. First {curve['photos']} photos, seed 0, pixel precision / recall."
              if curve is not result else
              "Pixel precision / recall at the one sensitivity measured.", ""]
    for name in FUNCTIONS:
        lines += [f"**{name}**", "", "| kind | " + " | ".join(f"s={s}" for s in sensitivities) + " |",
                  "|---|" + "---:|" * len(sensitivities)]
        for kind in TARGETS[name]:
            cells = []
            for s in sensitivities:
                pixel = curve_scores.get((name, kind, s), (Counts(),))[0]
                cells.append(f"{pixel.precision:.2f} / {pixel.recall:.2f}")
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines.append("")
    if timings:
        lines += speed_lines(timings, command)
    return "\n".join(lines)


def speed_lines(timings: dict[str, float], command: str) -> list[str]:
    return ["## Speed (median)", "",
            f"{datetime.date.today().isoformat()}, {cpu_name()}, load average {load_average()}, `{command}`. "
            "Targets: refine_stroke on a 500-px Stroke ≤ 0.05 s, propose_dust on a 12 MP scan ≤ 3 s.", "",
            "| what | seconds |", "|---|---:|"] + [f"| {what} | {seconds:.3f} |" for what, seconds in timings.items()] + [""]


def write_report(report: str) -> None:
    """Replace this script's sections of docs/restoration.md; hand-written ones (real photos) stay."""
    if not DOC.exists():
        DOC.write_text(report.split("\n## ", 1)[0] + "\n", encoding="utf-8")
    for section in report.split("\n## ")[1:]:
        header = "## " + section.split("\n", 1)[0]
        write_section(header, "## " + section, doc=DOC)


def _timings(methods: list[str]) -> dict[str, float]:
    timings: dict[str, float] = {}
    for method in methods:
        timings.update(speed(method))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev_eval", "train"), default="dev_eval")
    parser.add_argument("--photos", type=int, default=43)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--curve", action="store_true", help="also measure the sensitivity curve")
    parser.add_argument("--curve-photos", type=int, default=20, help="photos for the curve (seed 0 only)")
    parser.add_argument("--methods", nargs="+", default=["learned", "classical"], choices=("learned", "classical"),
                        help="detectors to measure; the first also gets the curve")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--speed-only", action="store_true", help="only the speed section (also in docs/benchmarks.md)")
    args = parser.parse_args()
    paths = photos(args.set, args.photos)
    if not paths:
        print(f"no photos under {DATA}; this benchmark needs ../shared/data", file=sys.stderr)
        return 2
    command = ("python benchmarks/restoration.py " + " ".join(sys.argv[1:])).strip()
    if args.speed_only:
        text = "\n".join(speed_lines(_timings(args.methods), command))
        print(text)
        write_section("## Speed (median)", text, doc=DOC)
        write_section("## Restoration", text.replace("## Speed (median)", "## Restoration", 1)
                      + "\nQuality on synthetic damage: [restoration.md](restoration.md).")
        return 0
    started = time.perf_counter()
    results = {method: measure(paths, args.seeds, (DEFAULT_SENSITIVITY,), method) for method in args.methods}
    curve = measure(paths[:args.curve_photos], 1, CURVE, args.methods[0]) if args.curve else None
    timings = {} if args.no_speed else _timings(args.methods)
    report = format_report(results, curve, paths, args.seeds, timings, command)
    print(report)
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.set == "dev_eval":
        write_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
