"""DeepFill v2 engines and the NeuralEngine base, with seeded random weights in a private weights folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.engines.contract import Cancelled
from inference.engines.deepfill.engine import DeepFillEngine, guided_engine, plain_engine
from inference.engines.deepfill.network import GeneratorConfig, seeded_generator
from inference.engines.deepfill.tf_convert import flip_colour_order
from inference.engines.neural import NeuralEngine
from inference.engines.registry import EngineUnavailable, create_engine
from inference.weights.importer import store_weights

MODE = {"states_tf": "tf", "states_pt": "pt"}
SMALL_WORKING_SIZE = 64  # keeps every crop tiny; the crop logic is the same at 512


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _store(name: str, channels: int = 5, layout: str = "states_pt", colour: str = "rgb", state=None):
    config = GeneratorConfig(input_channels=channels, layout=layout, mode=MODE[layout])
    state = state if state is not None else seeded_generator(config, seed=channels).state_dict()
    info = {"architecture": "deepfill_v2", "layout": layout, "mode": MODE[layout], "colour_order": colour,
            "input_channels": channels, "licence": "test weights"}
    return store_weights(state, info, name)


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(DeepFillEngine, "working_size", SMALL_WORKING_SIZE)


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width]
    smooth = np.stack([rows * 200 / height, cols * 200 / width, (rows + cols) * 100 / (height + width)], -1)
    return np.clip(smooth + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


def _holes(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[0:30, 0:40] = True  # touches the top-left corner
    mask[120:160, 200:236] = True  # in the middle
    mask[250:300, 420:451] = True  # touches the bottom and the right border
    mask[60:64, 300:380] = True  # a thin scratch
    return mask


def test_plain_engine_odd_size_several_holes_and_borders(weights_dir, small):
    _store("deepfill_v2")
    engine = create_engine("deepfill_v2")
    assert isinstance(engine, DeepFillEngine) and not engine.loaded  # loaded lazily, on first inpaint
    image, mask = _photo(300, 451), _holes(300, 451)
    result = engine.inpaint(image, mask)
    assert result.shape == image.shape and result.dtype == np.uint8
    assert np.array_equal(result[~mask], image[~mask])
    assert np.abs(result[mask].astype(int) - image[mask]).mean() > 5  # the holes were filled
    # The fill never sees what was hidden: other pixels inside the holes give the same result.
    hidden = image.copy()
    hidden[mask] = 255 - hidden[mask]
    assert np.array_equal(engine.inpaint(hidden, mask), result)


def test_model_loads_once_and_crops_follow_the_hole(weights_dir, monkeypatch):
    _store("deepfill_v2")
    engine = plain_engine()
    loads, sizes = [], []
    original_load, original_run = engine.load_model, engine.run_crop
    monkeypatch.setattr(engine, "load_model", lambda: loads.append(1) or original_load())
    monkeypatch.setattr(engine, "run_crop", lambda model, image, *rest: sizes.append(image.shape[-2:]) or original_run(model, image, *rest))
    photo = np.zeros((1500, 2000, 3), np.uint8)
    mask = np.zeros((1500, 2000), bool)
    mask[700:720, 900:930] = True
    engine.inpaint(photo, mask)
    engine.inpaint(photo, mask)
    assert loads == [1]
    # A 20x30 hole costs a crop of hole + 64 px context per side, not the 2000x1500 photo.
    assert sizes[0] == (152, 160)


def test_large_holes_are_scaled_down_to_the_working_size(weights_dir, small, monkeypatch):
    _store("deepfill_v2")
    engine = plain_engine()
    sizes = []
    original_run = engine.run_crop
    monkeypatch.setattr(engine, "run_crop", lambda model, image, *rest: sizes.append(image.shape[-2:]) or original_run(model, image, *rest))
    mask = np.zeros((300, 300), bool)
    mask[100:200, 110:190] = True
    result = engine.inpaint(_photo(300, 300), mask)
    assert max(sizes[0]) <= SMALL_WORKING_SIZE and all(side % 8 == 0 for side in sizes[0])
    assert result.shape == (300, 300, 3)


def test_guided_engine_uses_the_guide_only_inside_the_hole(weights_dir, small):
    _store("deepfill_v2_guided", channels=6)
    engine = guided_engine()
    assert engine.accepts_guide
    image = _photo(96, 128, seed=1)
    mask = np.zeros((96, 128), bool)
    mask[30:70, 40:90] = True
    empty = np.zeros((96, 128), np.uint8)
    stroke = empty.copy()
    stroke[20:80, 64] = 255  # a vertical sketch line crossing the hole border
    outside_only = stroke * ~mask
    without = engine.inpaint(image, mask, empty)
    assert not np.array_equal(engine.inpaint(image, mask, stroke), without)
    assert np.array_equal(engine.inpaint(image, mask, outside_only), without)
    faint = np.where(stroke > 0, 100, 0).astype(np.uint8)  # below the 0.6 edge threshold
    assert np.array_equal(engine.inpaint(image, mask, faint), without)


def test_plain_engine_with_guided_weights_passes_an_empty_edge(weights_dir, small):
    _store("deepfill_v2_guided", channels=6)
    plain, guided = plain_engine(), guided_engine()
    assert plain.stored.path == guided.stored.path and not plain.accepts_guide
    image = _photo(64, 80, seed=2)
    mask = np.zeros((64, 80), bool)
    mask[20:44, 20:60] = True
    stroke = np.zeros((64, 80), np.uint8)
    stroke[:, 40] = 255
    from_plain = plain.inpaint(image, mask, stroke)  # the Guide is dropped by a plain engine
    assert np.array_equal(from_plain, guided.inpaint(image, mask, None))
    assert not np.array_equal(from_plain, guided.inpaint(image, mask, stroke))


def test_bgr_weights_get_bgr_input(weights_dir, small):
    config = GeneratorConfig(layout="states_tf", mode="tf")
    state = seeded_generator(config, seed=9).state_dict()
    bgr = DeepFillEngine(_store("bgr", layout="states_tf", colour="bgr", state=state))
    rgb = DeepFillEngine(_store("rgb", layout="states_tf", colour="rgb", state=flip_colour_order(state, "states_tf")))
    image = _photo(64, 64, seed=3)
    mask = np.zeros((64, 64), bool)
    mask[16:48, 20:40] = True
    from_bgr, from_rgb = bgr.inpaint(image, mask), rgb.inpaint(image, mask)
    assert np.abs(from_bgr.astype(int) - from_rgb).max() <= 1  # float rounding only
    plain_rgb = DeepFillEngine(_store("unflipped", layout="states_tf", colour="rgb", state=state))
    assert np.abs(plain_rgb.inpaint(image, mask).astype(int) - from_bgr).max() > 10


def test_no_weights_means_unavailable(weights_dir):
    with pytest.raises(EngineUnavailable, match="weights import"):
        plain_engine()
    _store("deepfill_v2")
    with pytest.raises(EngineUnavailable, match="guided"):
        guided_engine()


def test_cancel_is_checked_between_crops(weights_dir, small):
    _store("deepfill_v2")
    engine = plain_engine()
    done = []
    with pytest.raises(Cancelled):
        engine.inpaint(_photo(300, 451), _holes(300, 451), should_cancel=lambda: len(done) >= 1,
                       progress=lambda finished, total: done.append(finished))
    assert done == [1]


class _Doubler(NeuralEngine):
    """A network-free engine: fills with mid-grey, and pretends the GPU ran out of memory."""

    name = "fake"

    def __init__(self, device: str) -> None:
        super().__init__(device=device)
        self.devices: list[str] = []

    def load_model(self) -> torch.nn.Module:
        return torch.nn.Identity()

    def run_crop(self, model, image, mask, guide):
        self.devices.append(image.device.type)
        if image.device.type != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return torch.full_like(image, 0.5)


def test_out_of_memory_retries_on_cpu_with_a_status_message():
    engine = _Doubler(device="meta")  # any non-CPU device takes the GPU path
    messages = []
    engine.status = messages.append
    image = np.zeros((200, 200, 3), np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[10:20, 10:20] = True
    mask[170:180, 170:180] = True  # far enough apart to be two crops
    result = engine.inpaint(image, mask)
    assert np.all(result[14:16, 14:16] == 128) and np.array_equal(result[~mask], image[~mask])
    assert messages == ["META out of memory, retrying on CPU"]
    assert engine.devices == ["meta", "cpu", "cpu"]  # the rest of that call stays on the CPU
    engine.inpaint(image, mask)
    assert engine.devices[3] == "meta"  # the next call tries the GPU again


def test_other_errors_are_not_swallowed_and_fp16_defaults():
    class Broken(_Doubler):
        def run_crop(self, model, image, mask, guide):
            raise RuntimeError("shape mismatch")

    mask = np.zeros((16, 16), bool)
    mask[4:8, 4:8] = True
    with pytest.raises(RuntimeError, match="shape mismatch"):
        Broken(device="meta").inpaint(np.zeros((16, 16, 3), np.uint8), mask)
    assert NeuralEngine(device="cuda").fp16 and not NeuralEngine(device="cpu").fp16
    assert not NeuralEngine(device="cuda", fp16=False).fp16
