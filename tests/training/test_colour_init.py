"""Fine-tuning into the colour cue starts exactly where the checkpoint was."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_a_binary_checkpoint_widened_to_colour_guidance_predicts_as_before(tmp_path):
    from napari_scribbleseg.model import build_scribbleseg_tiny, save_checkpoint
    from napari_scribbleseg.session import Session
    from training.model_io import init_model

    torch.manual_seed(0)
    save_checkpoint(build_scribbleseg_tiny(), tmp_path / "binary.pt")
    widened = init_model({"model": {"config": {"guidance": "colour"}}}, str(tmp_path / "binary.pt")).eval()
    assert widened.config.guidance == "colour"
    save_checkpoint(widened, tmp_path / "colour.pt")
    rng = np.random.default_rng(0)
    image = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    strokes = np.zeros((48, 64), np.int32)
    strokes[10, 5:20], strokes[40, 30:60] = 1, 2
    before, after = Session(tmp_path / "binary.pt", device="cpu"), Session(tmp_path / "colour.pt", device="cpu")
    for session in (before, after):
        session.set_image(image)
    np.testing.assert_allclose(after.predict_proba(strokes, None), before.predict_proba(strokes, None), atol=1e-6)
