"""The patch engine beside Telea, Navier–Stokes and (when installed) pypatchmatch: speed and quality.

Run: .venv/bin/python benchmarks/patch.py            (needs ../shared/data; about 15 minutes)
     .venv/bin/python benchmarks/patch.py --no-write  (print only)

Speed (median of 5, every engine in the same run): a 256×256 crop with a 20 % hole, a 1-megapixel
photo with a 10 % object-sized hole, a 24-megapixel photo with a 3 % hole (pypatchmatch, which
works on the whole photo, runs once there).

Quality, two sets (dev_eval, never used for tuning):
* seeded-mask crops: the 28 dev_eval scenes centre-cropped to 256×256, scene i with mask i of
  lama_thick_256 and lama_medium_256 alternately; the Hole is painted white first; hole PSNR and
  hole SSIM against the intact crop;
* the 8 object scenes of dev_eval/scenes/masks (real objects, so no ground truth: texture only).
Texture ratio = high-frequency energy in the Hole ÷ that in a 15-px ring around it, both on the grey
image minus its Gaussian blur (σ 2 px); the intact photo's own ratio is the "truth" row.

Writes the "## Patch engine" section of docs/benchmarks.md, docs/patch_object_scenes.png (input,
Telea, patch, photo) and prints the rows for docs/quality.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import report  # noqa: E402  (benchmarks/report.py, beside this script)

from inference.engines.registry import create_engine, get_spec  # noqa: E402
from inference.evaluation.compare import damaged_input  # noqa: E402
from inference.evaluation.metrics import score  # noqa: E402
from inference.io.images import open_image  # noqa: E402
from inference.io.masks import load_mask  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "dev_eval"
SHEET = ROOT / "docs" / "patch_object_scenes.png"
REPEATS = 5


class PyPatchMatch:
    """pypatchmatch (MIT, prebuilt wheel) on the whole photo, as it is meant to be called; benchmark only."""

    def __init__(self, patch_size: int) -> None:
        from patchmatch import patch_match

        self.module, self.patch_size = patch_match, patch_size
        self.name = f"pypatchmatch (patch {patch_size})"

    def inpaint(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.module.set_random_seed(0)
        filled = self.module.inpaint(image, (mask * 255).astype(np.uint8), patch_size=self.patch_size)
        result = image.copy()
        result[mask] = filled[mask]
        return result


def engines() -> dict[str, object]:
    found = {
        "Telea": create_engine("telea"),
        "Navier–Stokes": create_engine("ns"),
        "patch (fast)": create_engine("patch"),
        "patch (high)": create_engine("patch", quality="high"),
    }
    if get_spec("patch_best").check().available:
        found["patch_best (pypatchmatch by crop)"] = create_engine("patch_best")
    try:
        found["pypatchmatch (patch 3)"] = PyPatchMatch(3)
    except (ImportError, OSError) as error:  # not installed: the rows say so
        print(f"pypatchmatch not measured: {error}", file=sys.stderr)
    return found


# --- inputs --------------------------------------------------------------------------------------

def blob_hole(height: int, width: int, ratio: float, seed: int) -> np.ndarray:
    """An irregular object-like Hole (union of ellipses) covering about ``ratio`` of the photo."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    radius = np.sqrt(ratio * height * width / np.pi)
    cy, cx = height // 2, width // 2
    while mask.mean() < ratio:
        y = int(cy + rng.normal(0, radius * 0.3))
        x = int(cx + rng.normal(0, radius * 0.3))
        axes = (int(radius * rng.uniform(0.3, 0.6)), int(radius * rng.uniform(0.3, 0.6)))
        cv2.ellipse(mask, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


def photo_of(path: Path, width: int, height: int) -> np.ndarray:
    return np.ascontiguousarray(cv2.resize(open_image(path).pixels, (width, height), interpolation=cv2.INTER_CUBIC))


def speed_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    big = DATA / "highres" / "hifill__19.jpg"
    crop = open_image(DATA / "scenes" / "mi-gan-places2512__Places365_val_00006549.png").pixels[:256, :256]
    return [
        ("256×256 crop, 20 % hole", np.ascontiguousarray(crop), blob_hole(256, 256, 0.20, 1)),
        ("1 MP photo (1224×816), 10 % hole", photo_of(big, 1224, 816), blob_hole(816, 1224, 0.10, 2)),
        ("24 MP photo (6000×4000), 3 % hole", photo_of(big, 6000, 4000), blob_hole(4000, 6000, 0.03, 3)),
    ]


def centre_square(image: np.ndarray, side: int) -> np.ndarray:
    height, width = image.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    square = image[top:top + short, left:left + short]
    return np.ascontiguousarray(cv2.resize(square, (side, side), interpolation=cv2.INTER_LANCZOS4))


def crop_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    scenes = sorted(p for p in (DATA / "scenes").iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    sets = [sorted((DATA / "masks" / name).glob("*.png")) for name in ("lama_thick_256", "lama_medium_256")]
    cases = []
    for index, path in enumerate(scenes):
        masks = sets[index % 2]
        mask = load_mask(masks[index % len(masks)])
        if mask.shape != (256, 256):
            mask = cv2.resize(mask.astype(np.uint8), (256, 256), interpolation=cv2.INTER_NEAREST) > 0
        cases.append((centre_square(open_image(path).pixels, 256), mask))
    return cases


def object_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    cases = []
    for mask_path in sorted((DATA / "scenes" / "masks").glob("*.png")):
        image = open_image(DATA / "scenes" / mask_path.name).pixels
        cases.append((mask_path.stem, image, load_mask(mask_path, expected_shape=image.shape[:2])))
    return cases


# --- measures ------------------------------------------------------------------------------------

def texture_ratio(image: np.ndarray, mask: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool) & ~mask
    return float(np.mean(detail[mask] ** 2) / max(np.mean(detail[ring] ** 2), 1e-6))


def timed(engine, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    result = engine.inpaint(image, mask)
    return result, time.perf_counter() - started


def speed_table(found: dict[str, object]) -> list[str]:
    cases = speed_cases()
    lines = ["| engine | " + " | ".join(name for name, _, _ in cases) + " |",
             "|---|" + "---:|" * len(cases)]
    for label, engine in found.items():
        cells = []
        for _, image, mask in cases:
            repeats = 1 if label.startswith("pypatchmatch") and image.size > 5e7 else REPEATS
            warm = np.zeros((64, 64), bool)
            warm[30:34, 30:34] = True
            engine.inpaint(image[:64, :64].copy(), warm)  # loads the numba cache outside the timing
            seconds = report.median_seconds(lambda e=engine, i=image, m=mask: e.inpaint(i, m), repeats)
            cells.append(f"{seconds:.2f}" + (" (1 run)" if repeats == 1 else ""))
            print(f"speed {label}: {cells[-1]} s", flush=True)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def crop_table(found: dict[str, object]) -> list[str]:
    cases = crop_cases()
    truth = statistics.mean(texture_ratio(image, mask) for image, mask in cases)
    ratio = statistics.mean(float(mask.mean()) for _, mask in cases)
    lines = [f"{len(cases)} crops, mean hole {ratio:.0%}.", "",
             "| engine | hole PSNR (dB) | hole SSIM | texture ratio | s / crop |", "|---|---:|---:|---:|---:|"]
    for label, engine in found.items():
        psnrs, ssims, textures, seconds = [], [], [], []
        for image, mask in cases:
            result, spent = timed(engine, damaged_input(image, mask), mask)
            scores = score(image, result, mask)
            psnrs.append(scores.psnr_hole)
            ssims.append(scores.ssim_hole)
            textures.append(texture_ratio(result, mask))
            seconds.append(spent)
        lines.append(f"| {label} | {statistics.mean(psnrs):.2f} | {statistics.mean(ssims):.3f} | "
                     f"{statistics.mean(textures):.2f} | {statistics.mean(seconds):.2f} |")
        print(lines[-1], flush=True)
    lines.append(f"| truth (intact crop) | — | — | {truth:.2f} | — |")
    return lines


def object_table(found: dict[str, object]) -> tuple[list[str], list[list[np.ndarray]]]:
    cases = object_cases()
    lines = ["| engine | texture ratio | s / scene |", "|---|---:|---:|"]
    rows = [[tinted(image, mask)] for _, image, mask in cases]
    for label, engine in found.items():
        textures, seconds = [], []
        for row, (_, image, mask) in zip(rows, cases, strict=True):
            result, spent = timed(engine, damaged_input(image, mask), mask)
            textures.append(texture_ratio(result, mask))
            seconds.append(spent)
            if label in ("Telea", "patch (fast)"):
                row.append(result)
        lines.append(f"| {label} | {statistics.mean(textures):.2f} | {statistics.mean(seconds):.2f} |")
        print(lines[-1], flush=True)
    for row, (_, image, _) in zip(rows, cases, strict=True):
        row.append(image)
    return lines, rows


def tinted(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shown = image.copy()
    shown[mask] = (0.45 * shown[mask] + 0.55 * np.array([255, 40, 60])).astype(np.uint8)
    return shown


def contact_sheet(rows: list[list[np.ndarray]], path: Path, column_width: int = 384) -> None:
    """Rows of (input, Telea, patch, photo) at one width per column, titled once at the top."""
    titles = ("input (Hole in red)", "Telea", "patch (fast)", "photo")
    scaled_rows = []
    for row in rows:
        height = round(row[0].shape[0] * column_width / row[0].shape[1])
        scaled = [cv2.resize(p, (column_width, height), interpolation=cv2.INTER_AREA) for p in row]
        scaled_rows.append(np.hstack([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255) for p in scaled]))
    width = max(r.shape[1] for r in scaled_rows)
    header = np.full((28, width, 3), 255, np.uint8)
    for index, title in enumerate(titles):
        cv2.putText(header, title, (index * (column_width + 4) + 8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                    cv2.LINE_AA)
    padded = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in scaled_rows]
    sheet = np.vstack([header, *padded])
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only, write nothing")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs {DATA} (real photos); not found", file=sys.stderr)
        return 2
    load_before = report.load_average()
    found = engines()
    crops = crop_table(found)
    objects, rows = object_table(found)
    speed = speed_table(found)
    text = "\n".join([
        "## Patch engine",
        "",
        f"Machine: {report.cpu_name()}, 2 shared cores; {date.today().isoformat()}; "
        f"load average {load_before} at the start, {report.load_average()} at the end.",
        "Command: `.venv/bin/python benchmarks/patch.py` (definitions in its docstring).",
        "",
        f"Speed, median of {REPEATS} runs in seconds, all engines in the same run:",
        "",
        *speed,
        "",
        "Quality on dev_eval seeded-mask crops (256×256, Hole painted white first):",
        "",
        *crops,
        "",
        "Object scenes (the 8 masks of dev_eval/scenes/masks; no ground truth, texture only; "
        "contact sheet docs/patch_object_scenes.png):",
        "",
        *objects,
    ])
    print(text)
    if not args.no_write:
        report.write_section("## Patch engine", text)
        contact_sheet(rows, SHEET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
