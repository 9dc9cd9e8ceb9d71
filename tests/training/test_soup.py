"""Weight averaging of fine-tunes (``python -m training soup``)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _tiny(tmp_path, name: str, seed: int, **config):
    from napari_scribbleseg.model import build_scribbleseg_tiny, save_checkpoint

    torch.manual_seed(seed)
    model = build_scribbleseg_tiny(**config)
    return save_checkpoint(model, tmp_path / f"{name}.pt", trained_on=[name], metrics={"recipe": name, "steps": seed + 1})


def test_the_soup_command_writes_the_weighted_average_and_names_its_parts(tmp_path):
    from napari_scribbleseg.model.checkpoint import read_checkpoint
    from napari_scribbleseg.session import Session
    from training.cli import main

    a, b = _tiny(tmp_path, "a", 0), _tiny(tmp_path, "b", 1)
    assert main(["soup", str(a), str(b), "--weights", "3", "1", "--out", str(tmp_path / "soup.pt")]) == 0
    soup, first, second = (read_checkpoint(p) for p in (tmp_path / "soup.pt", a, b))
    for key, value in soup["state_dict"].items():
        if value.is_floating_point():
            expected = 0.75 * first["state_dict"][key].double() + 0.25 * second["state_dict"][key].double()
            np.testing.assert_allclose(value.double().numpy(), expected.numpy(), atol=2e-3, rtol=2e-3)
    assert [p["weight"] for p in soup["metrics"]["soup"]] == [0.75, 0.25]
    assert soup["metrics"]["recipe"] == "soup of a + b"
    assert [p["steps"] for p in soup["metrics"]["soup"]] == [1, 2]
    assert soup["trained_on"] == ["a", "b"]
    session = Session(tmp_path / "soup.pt", device="cpu")  # the soup is a checkpoint like any other
    session.set_image((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8))
    strokes = np.zeros((40, 40), np.int32)
    strokes[20, 10:20] = 1
    assert session.predict(strokes, None).shape == (40, 40)


def test_checkpoints_of_different_models_are_refused_with_the_reason(tmp_path):
    from napari_scribbleseg.errors import InputError
    from training.soup import average_checkpoints

    a, other = _tiny(tmp_path, "a", 0), _tiny(tmp_path, "other", 0, head_size=48)
    with pytest.raises(InputError, match="config differs"):
        average_checkpoints([a, other])
    with pytest.raises(InputError, match="at least two"):
        average_checkpoints([a])
    with pytest.raises(InputError, match="positive"):
        average_checkpoints([a, a], [1.0, 0.0])
    with pytest.raises(InputError, match="one weight per checkpoint"):
        average_checkpoints([a, a], [1.0])


def test_a_model_fine_tuned_with_a_new_cue_averages_with_its_start_widened(tmp_path):
    from napari_scribbleseg.errors import InputError
    from napari_scribbleseg.model.checkpoint import read_checkpoint
    from training.soup import average_checkpoints

    start = _tiny(tmp_path, "start", 0, guidance="colour")
    with_cue = _tiny(tmp_path, "with_cue", 1, guidance="colour_geodesic")
    soup = average_checkpoints([start, with_cue])
    assert soup["config"]["guidance"] == "colour_geodesic"
    first, second = read_checkpoint(start)["state_dict"], read_checkpoint(with_cue)["state_dict"]
    key = next(k for k in first if k.endswith("hist_enc.0.weight"))
    old = first[key].shape[1]
    mixed = soup["state_dict"][key].double()
    np.testing.assert_allclose(mixed[:, :old].numpy(), (0.5 * first[key].double() + 0.5 * second[key][:, :old].double()).numpy(), atol=2e-3)
    np.testing.assert_allclose(mixed[:, old:].numpy(), (0.5 * second[key][:, old:].double()).numpy(), atol=2e-3)  # the start's are 0
    with pytest.raises(InputError, match="differs"):
        average_checkpoints([_tiny(tmp_path, "small", 0, guidance="colour", head_size=48), with_cue])
