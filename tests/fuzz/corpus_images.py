"""Seeded bad and unusual photos and masks, written at test time (nothing large is committed).

Each maker writes files into a folder and returns :class:`Case` objects: the command line to run,
the input files whose bytes must not change, and the folder to run it in.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

FORMATS = {"png": "PNG", "jpg": "JPEG", "tif": "TIFF", "webp": "WEBP", "bmp": "BMP"}


@dataclass
class Case:
    name: str
    argv: list[str]
    inputs: list[str]
    cwd: str
    folder_mode: bool = False
    env: dict[str, str] = field(default_factory=dict)


def _rgb(rng: np.random.Generator, height: int = 24, width: int = 32) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _encoded(pixels: np.ndarray, file_format: str, **options) -> bytes:
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, format=file_format, **options)
    return stream.getvalue()


def _hole(height: int, width: int, kind: str = "box") -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    if kind == "box":
        mask[height // 4: max(height // 4 + 1, height // 2), width // 4: max(width // 4 + 1, width // 2)] = 255
    return mask


class Maker:
    """Writes the corpus into ``root``; ``fixed`` holds one good photo and mask for the mask/photo cases."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)
        self.cases: list[Case] = []
        self.good_photo = self._write("good.png", _encoded(_rgb(self.rng), "PNG"))
        self.good_mask = self._write("good_mask.png", _encoded(_hole(24, 32), "PNG"))
        self.out = root / "out"
        self.out.mkdir()

    def _write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    # --- what to run on a photo or a mask ----------------------------------------------------------------

    def photo_case(self, name: str, photo: Path, size: tuple[int, int] | None = None) -> None:
        """``fill`` (with a mask of the photo's size when known) and ``compare`` (which resizes masks)."""
        mask = self.good_mask
        if size is not None:
            mask = self._write(f"{photo.name}.mask.png", _encoded(_hole(*size), "PNG"))
        out = self.out / name
        inputs = [str(photo), str(mask)]
        self.cases.append(Case(f"fill/{name}", ["fill", str(photo), "--mask", str(mask), "-o", f"{out}.png"],
                               inputs, str(self.root)))
        self.cases.append(Case(f"compare/{name}", ["compare", str(photo), "--mask", str(self.good_mask),
                                                   "--engines", "telea", "-o", f"{out}_cmp"],
                               inputs + [str(self.good_mask)], str(self.root)))

    def mask_case(self, name: str, mask: Path) -> None:
        out = self.out / name
        inputs = [str(self.good_photo), str(mask)]
        self.cases.append(Case(f"fill-mask/{name}", ["fill", str(self.good_photo), "--mask", str(mask),
                                                     "-o", f"{out}.png"], inputs, str(self.root)))
        self.cases.append(Case(f"compare-mask/{name}", ["compare", str(self.good_photo), "--mask", str(mask),
                                                        "--engines", "telea", "-o", f"{out}_cmp"],
                               inputs, str(self.root)))

    # --- categories ---------------------------------------------------------------------------------------

    def zero_byte(self) -> None:
        for ext in FORMATS:
            self.photo_case(f"zero_{ext}", self._write(f"zero.{ext}", b""))

    def truncated(self) -> None:
        for ext, file_format in FORMATS.items():
            data = _encoded(_rgb(self.rng, 40, 48), file_format)
            cuts = sorted({1, 4, 8, 16, 33, len(data) // 4, len(data) // 2, len(data) - 9, len(data) - 1})
            for cut in cuts:
                self.photo_case(f"cut_{ext}_{cut}", self._write(f"cut{cut}.{ext}", data[:cut]))

    def random_behind_magic(self) -> None:
        magics = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0", "tif": b"II*\x00",
                  "webp": b"RIFF\x00\x01\x00\x00WEBPVP8 ", "bmp": b"BM"}
        for ext, magic in magics.items():
            for seed in range(4):
                noise = np.random.default_rng(seed).integers(0, 256, 600, dtype=np.uint8).tobytes()
                self.photo_case(f"magic_{ext}_{seed}", self._write(f"magic{seed}.{ext}", magic + noise))

    def bombs(self) -> None:
        def png_header(width: int, height: int) -> bytes:
            def chunk(kind: bytes, data: bytes) -> bytes:
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
            ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
            rows = zlib.compress(b"\0" * (1 << 20), 9)  # a megabyte of zero rows, far less than declared
            return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
        for width, height in ((20000, 20000), (100000, 3000), (2**31 - 1, 2), (11648, 8736)):
            self.photo_case(f"bomb_png_{width}x{height}", self._write(f"bomb{width}x{height}.png",
                                                                     png_header(width, height)))
        tiff = bytearray(_encoded(_rgb(self.rng, 4, 4), "TIFF"))
        self.photo_case("bomb_tif_header", self._write("bombhdr.tif", bytes(tiff).replace(
            struct.pack("<HHII", 256, 3, 1, 4), struct.pack("<HHII", 256, 4, 1, 60000), 1)))

    def deep(self) -> None:
        grey16 = self.rng.integers(0, 65536, (24, 32), dtype=np.uint16)
        samples = {
            "grey16.png": lambda p: Image.fromarray(grey16).save(p),
            "grey16.tif": lambda p: Image.fromarray(grey16).save(p),
            "int32.tif": lambda p: Image.fromarray(grey16.astype(np.int32) * 3000 - 5).save(p),
            "float.tif": lambda p: Image.fromarray(self.rng.random((24, 32)).astype(np.float32) * 7).save(p),
            "float_nan.tif": lambda p: Image.fromarray(np.full((24, 32), np.nan, np.float32)).save(p),
            "rgb16.png": lambda p: cv2.imwrite(str(p), self.rng.integers(0, 65536, (24, 32, 3), dtype=np.uint16)),
            "rgb16.tif": lambda p: cv2.imwrite(str(p), self.rng.integers(0, 65536, (24, 32, 3), dtype=np.uint16)),
            "rgba16.png": lambda p: cv2.imwrite(str(p), self.rng.integers(0, 65536, (24, 32, 4), dtype=np.uint16)),
            "rgbf.tif": lambda p: cv2.imwrite(str(p), self.rng.random((24, 32, 3)).astype(np.float32)),
            "rgbf64.tif": lambda p: cv2.imwrite(str(p), self.rng.random((24, 32, 3))),
        }
        for name, write in samples.items():
            path = self.root / f"deep_{name}"
            write(path)
            self.photo_case(f"deep_{name}", path, (24, 32))

    def modes(self) -> None:
        base = Image.fromarray(_rgb(self.rng))
        variants = {
            "cmyk.jpg": (base.convert("CMYK"), "JPEG"), "cmyk.tif": (base.convert("CMYK"), "TIFF"),
            "lab.tif": (base.convert("LAB"), "TIFF"), "palette.png": (base.convert("P"), "PNG"),
            "la.png": (base.convert("LA"), "PNG"), "one_bit.png": (base.convert("1"), "PNG"),
            "one_bit.tif": (base.convert("1"), "TIFF"), "rgba.webp": (base.convert("RGBA"), "WEBP"),
            "grey.jpg": (base.convert("L"), "JPEG"), "ycbcr.jpg": (base.convert("YCbCr"), "JPEG"),
        }
        palette = base.convert("P")
        palette.info["transparency"] = 3
        variants["palette_alpha.png"] = (palette, "PNG")
        for name, (image, file_format) in variants.items():
            path = self.root / f"mode_{name}"
            image.save(path, format=file_format, **({"transparency": 3} if name == "palette_alpha.png" else {}))
            self.photo_case(f"mode_{name}", path, (24, 32))

    def thin(self) -> None:
        for height, width in ((1, 1), (1, 300), (300, 1), (2, 2), (1, 5000), (3, 1)):
            for ext in ("png", "jpg"):
                path = self._write(f"thin{height}x{width}.{ext}", _encoded(_rgb(self.rng, height, width),
                                                                           FORMATS[ext]))
                self.photo_case(f"thin_{height}x{width}_{ext}", path, (height, width))

    def exif(self) -> None:
        pixels = _rgb(self.rng, 24, 32)
        for orientation in range(1, 9):
            exif = Image.Exif()
            exif[0x0112] = orientation
            path = self._write(f"orient{orientation}.jpg", _encoded(pixels, "JPEG", exif=exif.tobytes()))
            size = (32, 24) if orientation >= 5 else (24, 32)
            self.photo_case(f"exif_orientation_{orientation}", path, size)
        good = Image.Exif()
        good[0x0112] = 6
        good[0x010F] = "Camera"
        payload = good.tobytes()
        for seed in range(14):
            broken = bytearray(payload)
            rng = random.Random(seed)
            for _ in range(rng.randint(1, 6)):
                broken[rng.randrange(6, len(broken))] = rng.randrange(256)
            path = self._write(f"badexif{seed}.jpg", _encoded(pixels, "JPEG", exif=bytes(broken)))
            self.photo_case(f"exif_corrupt_{seed}", path)
        self.photo_case("exif_garbage", self._write("exifgarbage.jpg",
                                                    _encoded(pixels, "JPEG", exif=b"Exif\x00\x00garbage")))

    def animated(self) -> None:
        frames = [Image.fromarray(_rgb(self.rng)) for _ in range(3)]
        for name, file_format in (("anim.gif", "GIF"), ("anim.png", "PNG"), ("anim.webp", "WEBP"),
                                  ("pages.tif", "TIFF")):
            path = self.root / name
            frames[0].save(path, format=file_format, save_all=True, append_images=frames[1:])
            self.photo_case(f"multi_{name}", path, (24, 32))

    def names(self) -> None:
        data = _encoded(_rgb(self.rng), "PNG")
        for name in ("with space.png", "ünïcødé.png", "x[1]*?.png", "-dash.png", "--double.png",
                     "semi;colon.png", "quote'\".png", "n" * 240 + ".png", ".hidden.png", "UPPER.PNG"):
            self.photo_case(f"name_{name[:20]}", self._write(name, data), (24, 32))

    def links_and_pipes(self) -> None:
        loop_a, loop_b = self.root / "loop_a.png", self.root / "loop_b.png"
        loop_a.symlink_to(loop_b)
        loop_b.symlink_to(loop_a)
        dangling = self.root / "dangling.png"
        dangling.symlink_to(self.root / "missing.png")
        folder = self.root / "folder.png"
        folder.mkdir()
        fifo = self.root / "pipe.png"
        os.mkfifo(fifo)
        to_fifo = self.root / "to_pipe.png"
        to_fifo.symlink_to(fifo)
        good_link = self.root / "good_link.png"
        good_link.symlink_to(self.good_photo)
        for path in (loop_a, dangling, folder, fifo, to_fifo, good_link):
            self.photo_case(f"link_{path.name}", path, (24, 32) if path is good_link else None)
        for path in (loop_a, dangling, fifo, folder):
            self.mask_case(f"link_{path.name}", path)

    def masks(self) -> None:
        shape = (24, 32)
        hole = _hole(*shape) > 0
        arrays = {
            "empty": np.zeros(shape, np.uint8), "full": np.full(shape, 255, np.uint8),
            "ones16": np.where(hole, 1, 0).astype(np.uint16), "hundred16": np.where(hole, 100, 0).astype(np.uint16),
            "float": hole.astype(np.float32) * 0.5, "float_nan": np.where(hole, np.nan, 0).astype(np.float32),
            "int32": hole.astype(np.int32) * 7, "wrong_size": np.full((10, 10), 255, np.uint8),
            "one_px": np.pad(np.full((1, 1), 255, np.uint8), ((5, 18), (5, 26))),
        }
        for name, array in arrays.items():
            path = self.root / f"mask_{name}.{'tif' if array.dtype.kind in 'fi' else 'png'}"
            Image.fromarray(array).save(path)
            self.mask_case(f"mask_{name}", path)
        colour = np.zeros((*shape, 4), np.uint8)
        colour[hole, 3] = 255  # only alpha marks it
        Image.fromarray(colour, "RGBA").save(self.root / "mask_alpha_only.png")
        self.mask_case("mask_alpha_only", self.root / "mask_alpha_only.png")
        Image.fromarray((hole * 255).astype(np.uint8)).convert("P").save(self.root / "mask_palette.png")
        self.mask_case("mask_palette", self.root / "mask_palette.png")
        Image.fromarray((hole * 255).astype(np.uint8)).save(self.root / "mask_grey.jpg", quality=40)
        self.mask_case("mask_grey_jpeg", self.root / "mask_grey.jpg")
        self.mask_case("mask_truncated", self._write("mask_cut.png", _encoded(_hole(*shape), "PNG")[:40]))
        self.mask_case("mask_text", self._write("mask_text.png", b"this is text\n"))

    def folders(self) -> None:
        """Folder mode over a messy folder: odd names, links, a sub-folder, same-stem masks."""
        photos, masks = self.root / "dir_photos", self.root / "dir_masks"
        photos.mkdir()
        masks.mkdir()
        for index, name in enumerate(("a.png", "b[1].jpg", "c*.png", "d.png", "e.tif")):
            (photos / name).write_bytes(_encoded(_rgb(self.rng), FORMATS[name.rsplit(".", 1)[1]]))
            if index != 3:
                (masks / f"{name.rsplit('.', 1)[0]}.png").write_bytes(_encoded(_hole(24, 32), "PNG"))
        (masks / "e.bmp").write_bytes(_encoded(np.repeat(_hole(24, 32)[..., None], 3, 2), "BMP"))
        (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
        (photos / "gone.png").symlink_to(photos / "nothing.png")
        (photos / "sub.png").mkdir()
        inputs = [str(p) for p in sorted(photos.iterdir()) + sorted(masks.iterdir()) if p.is_file()]
        runs = {
            "fill": ["fill", str(photos), "--mask", str(masks), "-o", str(self.out / "dir_fill")],
            "fill_self_masks": ["fill", str(photos), "--mask", str(photos), "-o", str(self.out / "dir_self")],
            "fill_into_inputs": ["fill", str(photos), "--mask", str(self.good_mask), "-o", str(photos)],
            "fill_file_output": ["fill", str(photos), "--mask", str(masks), "-o", str(self.out / "X.png")],
            "compare": ["compare", str(photos), "--masks", str(masks), "--engines", "telea",
                        "-o", str(self.out / "dir_cmp")],
            "compare_into_inputs": ["compare", str(photos), "--masks", str(self.good_mask), "--engines", "telea",
                                    "-o", str(photos)],
        }
        for name, argv in runs.items():
            self.cases.append(Case(f"folder/{name}", argv, inputs + [str(self.good_mask)], str(self.root),
                                   folder_mode=True))

    def outputs(self) -> None:
        """Good inputs, bad outputs: over-long, unwritable, an input, an existing folder."""
        guide = self._write("guide.png", _encoded(_hole(24, 32), "PNG"))
        targets = {"long": str(self.root / ("o" * 260 + ".png")), "proc": "/proc/x.png", "sys": "/sys/x.png",
                   "guide": str(guide), "photo": str(self.good_photo), "no_folder": "/nonexistent/dir/x.png",
                   "bad_ext": str(self.out / "x.xyz"), "folder": str(self.out)}
        inputs = [str(self.good_photo), str(self.good_mask), str(guide)]
        for name, target in targets.items():
            self.cases.append(Case(f"output/{name}", ["fill", str(self.good_photo), "--mask", str(self.good_mask),
                                                      "--guide", str(guide), "-o", target], inputs, str(self.root)))
        for name, target in (("long", str(self.root / ("d" * 260))), ("proc", "/proc/x"), ("file", str(guide))):
            self.cases.append(Case(f"compare-output/{name}", ["compare", str(self.good_photo), "--mask",
                                                              str(self.good_mask), "--engines", "telea", "-o", target],
                                   inputs, str(self.root)))
        for name, argv in (("radius_big", ["--radius", "100"]), ("radius_zero", ["--radius", "0"]),
                           ("radius_neg", ["--radius", "-4"]), ("unknown_engine", ["--engine", "nope"])):
            self.cases.append(Case(f"option/{name}", ["fill", str(self.good_photo), "--mask", str(self.good_mask),
                                                      *argv, "-o", str(self.out / f"{name}.png")],
                                   inputs, str(self.root)))


def image_cases(root: Path, seed: int = 15) -> list[Case]:
    maker = Maker(root, seed)
    for category in (maker.zero_byte, maker.truncated, maker.random_behind_magic, maker.bombs, maker.deep,
                     maker.modes, maker.thin, maker.exif, maker.animated, maker.names, maker.links_and_pipes,
                     maker.masks, maker.folders, maker.outputs):
        category()
    return maker.cases
