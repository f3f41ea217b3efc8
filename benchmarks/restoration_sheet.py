"""Contact sheet of the real old photos: photo, proposals overlaid, repaired (docs/restoration_old_photos.jpg).

    .venv/bin/python benchmarks/restoration_sheet.py [--engine telea] [--full-size OUT_DIR]

One row per photo of dev_eval/old: the photo, the photo with the dust proposals (magenta) and the
damage proposals (green) drawn over it, and the repair that ``restore`` writes. With
``--full-size`` the overlays are also written at 100 % for looking at closely. There is no ground
truth for these photos: the sheet is for judging by eye.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engines.registry import create_engine  # noqa: E402
from inference.io.images import open_image  # noqa: E402
from inference.restoration import DEFAULT_SENSITIVITY, propose_damage, propose_dust  # noqa: E402

OLD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dev_eval" / "old"
SHEET = Path(__file__).resolve().parent.parent / "docs" / "restoration_old_photos.jpg"
PANEL_HEIGHT = 420
DUST_COLOUR = (255, 0, 255)
DAMAGE_COLOUR = (0, 230, 0)


def overlay(image: np.ndarray, dust: np.ndarray, damage: np.ndarray) -> np.ndarray:
    shown = image.copy()
    shown[dust] = DUST_COLOUR
    shown[damage] = DAMAGE_COLOUR
    return shown


def panel(pixels: np.ndarray) -> Image.Image:
    picture = Image.fromarray(pixels)
    width = round(picture.width * PANEL_HEIGHT / picture.height)
    return picture.resize((width, PANEL_HEIGHT), Image.Resampling.LANCZOS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="telea")
    parser.add_argument("--full-size", type=Path, help="also write each overlay at 100 %% into this folder")
    args = parser.parse_args()
    photos = sorted(OLD.glob("*.png"))
    if not photos:
        print(f"no photos in {OLD}; this sheet needs ../shared/data", file=sys.stderr)
        return 2
    engine = create_engine(args.engine)
    rows = []
    for path in photos:
        image = open_image(path).pixels
        dust = propose_dust(image, DEFAULT_SENSITIVITY)
        damage = propose_damage(image, DEFAULT_SENSITIVITY)
        hole = dust | damage
        repaired = engine.inpaint(image, hole) if hole.any() else image
        shown = overlay(image, dust, damage)
        if args.full_size:
            args.full_size.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.hstack([shown, repaired])).save(args.full_size / f"{path.stem}.png")
        label = f"{path.stem}: {dust.mean():.2%} dust, {damage.mean():.2%} damage"
        rows.append((label, [panel(image), panel(shown), panel(repaired)]))
        print(label)
    write_sheet(rows, args.engine)
    return 0


def write_sheet(rows, engine_name: str) -> None:
    gap, text = 6, 18
    width = max(sum(p.width for p in panels) + gap * (len(panels) + 1) for _, panels in rows)
    height = len(rows) * (PANEL_HEIGHT + text + gap) + gap + text
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 2), f"photo | proposals (magenta dust, green damage) at sensitivity {DEFAULT_SENSITIVITY} | "
                        f"repaired with {engine_name}", fill=(0, 0, 0))
    y = text + gap
    for label, panels in rows:
        draw.text((gap, y), label, fill=(0, 0, 0))
        x = gap
        for picture in panels:
            sheet.paste(picture, (x, y + text))
            x += picture.width + gap
        y += PANEL_HEIGHT + text + gap
    SHEET.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(SHEET, quality=88)
    print(f"wrote {SHEET}")


if __name__ == "__main__":
    raise SystemExit(main())
