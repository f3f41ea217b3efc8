"""``train export``: a checkpoint's generator as engine-ready fp16 safetensors plus its model card.

The card carries the fields the engines select and build by (DeepFill: architecture, input_channels,
mode, layout, colour_order, fuse; LBAM: architecture, variant, width, layout), and what the weights
are: data (pack, photo mix, licences), steps, samples seen, losses, validation metrics. The file is
checked the way the importer checks foreign files (keys, shapes, strict load into the network built
from the card) before anything is written.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from inference.training.checkpoints import load_module_state, read_state, resolve_checkpoint
from inference.weights.importer import architecture_named, checked_network
from inference.weights.store import WeightsError, sha256_of, weights_dir, write_card

DEFAULT_NAMES = {"deepfill": "deepfill_v2_guided", "lbam": "lbam"}


def default_output(checkpoint: Path) -> Path:
    document = read_state(checkpoint)
    name = DEFAULT_NAMES[document["model"]]
    if document["model"] == "deepfill" and document["card"].get("input_channels") == 5:
        name = "deepfill_v2"
    return weights_dir() / f"{name}.safetensors"


def export_checkpoint(checkpoint: Path, output: Path | None = None, *, overwrite: bool = False) -> tuple[Path, dict]:
    """Write ``output`` (fp16 generator) and its card; returns (path, card). Raises WeightsError."""
    folder = resolve_checkpoint(checkpoint)
    document = read_state(folder)
    output = Path(output) if output is not None else default_output(folder)
    if output.suffix != ".safetensors":
        raise WeightsError(f"{output} must end in .safetensors")
    if output.exists() and not overwrite:
        raise WeightsError(f"{output} exists; pass --force to replace it")
    info = dict(document["card"])
    architecture = architecture_named(str(info["architecture"]))
    state = {key: value.half() if value.is_floating_point() else value
             for key, value in load_module_state(folder, "generator").items()}
    state, info, network = checked_network(architecture, state, info, "the checkpoint's generator")
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_suffix(".safetensors.tmp")
    save_file({key: value.contiguous() for key, value in state.items()}, str(temporary),
              metadata={"architecture": architecture.name})
    os.chmod(temporary, 0o644)  # safetensors writes owner-only files; weights are not secrets
    os.replace(temporary, output)
    card = model_card(document, info, folder, output, sum(p.numel() for p in network.parameters()))
    write_card(output, card)
    return output, card


def model_card(document: dict[str, Any], info: dict[str, Any], folder: Path, output: Path,
               parameters: int) -> dict[str, Any]:
    pack = document["pack"]
    licences = pack["licences"]
    settings = document["settings"]
    card = {
        **info,
        "name": output.stem,
        "sha256": sha256_of(output),
        "parameter_count": parameters,
        "dtype": "float16",
        "exported": _dt.date.today().isoformat(),
        "source": f"trained by Inpaint Studio (python main.py train {document['model']}), checkpoint {folder.name}",
        "training": {
            "steps": document["step"],
            "samples_seen": document["samples_seen"],
            "train_seconds": document["train_seconds"],
            "runs": document["runs"],
            "batch": settings["batch"],
            "crop": f"{settings['size']}x{settings['size']}, side {settings['min_scale']}-{settings['max_scale']} "
                    "of the short side, horizontal flips",
            "masks": "inference.evaluation.maskgen.mixed_mask (DeepFill free-form, boxes, LaMa thin/medium/thick; 5-60 % holes)",
            "precision": "bf16 autocast on CUDA with fp32 master weights; stored as fp16",
            "smoke": bool(settings.get("smoke")),
            "settings": settings,
            "losses": document.get("losses", {}),
            "metrics": document.get("metrics", {}),
        },
        "data": {key: pack[key] for key in ("name", "photos", "mix", "edges", "max_side", "jpeg_quality", "fingerprint")
                 if key in pack},
        "licence": (
            f"Weights trained by Inpaint Studio on {licences['photos']} photos, of which "
            f"{licences['non_commercial_or_research_only']} are under non-commercial or research-only terms and "
            f"{licences['rights_not_stated']} have rights not stated (see data_licences). Use these weights for "
            "non-commercial research only."
        ),
        "data_licences": licences,
    }
    if document["model"] == "deepfill" and info.get("input_channels") == 6:
        card["guide"] = (
            "edge channel = HED edges of the ground truth (p > 0.6) inside the hole, sketch-like (segments dropped, "
            "sometimes thinned to 1-3 px); a third of the samples had no guide, so an empty guide gives plain fills"
        )
    return card

