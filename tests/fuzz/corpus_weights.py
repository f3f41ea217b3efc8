"""Seeded malicious, broken and wrong weight files for ``weights import``, written at test time."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from tests.fuzz.corpus_images import Case


class _Reaches:
    """Pickles into a call of ``target`` (never unpickled here: the importer must refuse it)."""

    def __init__(self, target, *args) -> None:
        self.target, self.args = target, args

    def __reduce__(self):
        return self.target, self.args


def weight_cases(root: Path, seed: int = 15) -> list[Case]:
    import os

    import torch
    from safetensors.torch import save_file

    from inference.engines.deepfill.network import Generator, GeneratorConfig

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    valid = Generator(GeneratorConfig(input_channels=5, layout="states_pt", mode="pt")).state_dict()
    first = next(iter(valid))
    files: dict[str, bytes | None] = {}

    def torch_bytes(obj) -> bytes:
        stream = io.BytesIO()
        torch.save(obj, stream)
        return stream.getvalue()

    def variant(change) -> dict:
        state = {key: value.clone() for key, value in valid.items()}
        change(state)
        return state

    files["empty.pth"] = b""
    files["text.pth"] = b"not weights at all\n" * 30
    files["json.pth"] = json.dumps({"a": 1}).encode()
    files["random.pth"] = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    files["random.safetensors"] = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    files["random.npz"] = b"PK\x03\x04" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    files["int_keys.pth"] = torch_bytes({1: torch.zeros(3), 2: torch.ones(3)})
    files["tuple_keys.pth"] = torch_bytes({(1, 2): torch.zeros(3)})
    files["not_a_dict.pth"] = torch_bytes([torch.zeros(3)])
    files["empty_dict.pth"] = torch_bytes({})
    files["nested_junk.pth"] = torch_bytes({"G": {"a": "string"}})
    files["scalar.pth"] = torch_bytes(torch.zeros(3))
    files["unknown_layout.pth"] = torch_bytes({"foo.weight": torch.zeros(3, 3)})
    files["meta.pth"] = torch_bytes({key: torch.empty_like(v, device="meta") for key, v in valid.items()})
    files["nan.pth"] = torch_bytes(variant(lambda s: s[first].view(-1).__setitem__(0, float("nan"))))
    files["inf.pth"] = torch_bytes(variant(lambda s: s[first].view(-1).__setitem__(0, float("-inf"))))
    files["int64.pth"] = torch_bytes(variant(lambda s: s.__setitem__(first, s[first].long())))
    files["bool.pth"] = torch_bytes(variant(lambda s: s.__setitem__(first, s[first] > 0)))
    files["complex.pth"] = torch_bytes(variant(lambda s: s.__setitem__(first, s[first].to(torch.complex64))))
    files["wrong_shape.pth"] = torch_bytes(variant(lambda s: s.__setitem__(first, torch.zeros(1))))
    files["missing_key.pth"] = torch_bytes(variant(lambda s: s.pop(first)))
    files["extra_key.pth"] = torch_bytes(variant(lambda s: s.__setitem__("extra.weight", torch.zeros(1))))
    files["sparse.pth"] = torch_bytes(variant(lambda s: s.__setitem__(first, s[first].to_sparse())))
    good = torch_bytes(valid)
    for cut in (10, 100, len(good) // 3, len(good) - 30):
        files[f"truncated_{cut}.pth"] = good[:cut]
    for name, target in (("system", (os.system, "echo pwned > /tmp/fuzz_pwned")), ("eval", (eval, "1+1"))):
        files[f"pickle_{name}.pth"] = pickle.dumps(_Reaches(*target))
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as archive:
            archive.writestr("archive/data.pkl", pickle.dumps({"x": _Reaches(*target)}))
            archive.writestr("archive/version", "3\n")
        files[f"zip_pickle_{name}.pth"] = zipped.getvalue()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({}))
        with archive.open("archive/data/0", "w", force_zip64=True) as entry:
            block = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros in about 300 KiB
                entry.write(block)
    files["zip_bomb.pth"] = bomb.getvalue()
    object_npz = io.BytesIO()
    np.savez(object_npz, a=np.array([{"x": 1}], dtype=object))
    files["object.npz"] = object_npz.getvalue()
    header = json.dumps({"t": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 1 << 42]}}).encode()
    files["huge_declared.safetensors"] = struct.pack("<Q", len(header)) + header + b"\0" * 64
    files["huge_header.safetensors"] = struct.pack("<Q", 1 << 60) + b"{}"
    good_path = root / "good.safetensors"
    save_file({key: value.contiguous() for key, value in valid.items()}, str(good_path))
    data = good_path.read_bytes()
    files["truncated.safetensors"] = data[: len(data) // 2]
    files["nan.safetensors"] = None
    save_file({key: value.contiguous() for key, value in variant(
        lambda s: s[first].view(-1).__setitem__(5, float("nan"))).items()}, str(root / "nan.safetensors"))

    cases = []
    for name, content in files.items():
        path = root / name
        if content is not None:
            path.write_bytes(content)
        cases.append(Case(f"weights/{name}", ["weights", "import", str(path), "--name", "fuzz"],
                          [str(path)], str(root)))
    cases.append(Case("weights/missing", ["weights", "import", str(root / "missing.pth")], [], str(root)))
    cases.append(Case("weights/folder", ["weights", "import", str(root)], [], str(root)))
    cases.append(Case("weights/bad_name", ["weights", "import", str(good_path), "--name", "../escape"],
                      [str(good_path)], str(root)))
    return cases
