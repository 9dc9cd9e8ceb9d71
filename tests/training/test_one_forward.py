"""Training and the Session feed the network through one interaction path: same inputs, same logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_scribbleseg.model import load_checkpoint
from napari_scribbleseg.session import DEFAULT_WEIGHTS, Session
from training.items import TrainItem
from training.model_io import head_batch, image_logits, predicted_labels, run_head


def _item(prev: bool, classes: int) -> TrainItem:
    rng = np.random.default_rng(3)
    gt = np.ones((96, 96), np.int32)
    gt[20:60, 15:55] = 2
    gt[60:90, 55:90] = 3 if classes == 3 else 1
    image = np.clip(np.stack([gt * 70, 255 - gt * 50, np.full_like(gt, 90)], -1) + rng.integers(0, 40, (96, 96, 3)), 0, 255)
    scribbles = np.zeros((96, 96), np.int32)
    scribbles[40, 20:50] = 2
    scribbles[10, 10:80] = 1
    if classes == 3:
        scribbles[75, 60:85] = 3
    current = np.zeros((96, 96), bool)
    current[40, 20:50] = True  # the latest stroke: only part of the strokes
    previous = None
    if prev:
        previous = np.ones((96, 96), np.int32)
        previous[25:55, 20:50] = 2  # a previous mask smaller than the object: the zoom box is a crop
        if classes == 3:
            previous[65:85, 60:85] = 3
    return TrainItem(image.astype(np.uint8), gt, scribbles, current, previous, 0, "synthetic")


@pytest.mark.parametrize("prev", [False, True], ids=["first interaction", "with previous mask"])
@pytest.mark.parametrize("classes", [2, 3])
def test_the_training_forward_and_the_session_give_the_same_logits(prev, classes):
    model = load_checkpoint(DEFAULT_WEIGHTS).eval()  # the shipped model: decided logits, the real config
    item = _item(prev, classes)
    with torch.no_grad():
        batch = head_batch(model, [item], torch.device("cpu"))
        outputs = run_head(model, model.encode(batch.image), batch)
        trained = image_logits(outputs, batch)[:, 0]
        trained_labels = predicted_labels(outputs, batch, [item])[0]
    if prev:
        assert not batch.crop.is_full.all()  # the zoom-in path is the one compared
    session = Session(model, device="cpu", connected=False)
    session.set_image(item.image)
    proba = session.predict_proba(item.scribbles, item.prev, current=item.current)
    free = item.scribbles == 0  # the Session pins scribbled pixels to their class
    expected = torch.softmax(torch.cat([torch.zeros_like(trained[:1]), trained]), 0)[1:].numpy()
    np.testing.assert_allclose(proba[:, free], expected[:, free], atol=2e-4)
    labels = session.predict(item.scribbles, item.prev, current=item.current)
    ranked = np.sort(trained.numpy(), 0)
    decided = (ranked[-1] - ranked[-2]) > 1e-3  # exact ties (saturated logits) are broken by float noise
    assert decided.mean() > 0.5
    np.testing.assert_array_equal(labels[decided], trained_labels[decided])  # the same competition rule


def test_the_geodesic_cue_reaches_the_network_the_same_way_in_training_and_in_the_session(tmp_path):
    from napari_scribbleseg.model.checkpoint import read_checkpoint
    from training.model_io import init_model

    model = init_model({"model": {"config": {"guidance": "colour_geodesic"}}}, str(DEFAULT_WEIGHTS)).eval()
    shipped = read_checkpoint(DEFAULT_WEIGHTS)["state_dict"]
    key = next(k for k in shipped if k.endswith("hist_enc.0.weight"))
    weight = dict(model.named_parameters())[key]
    assert weight.shape[1] == shipped[key].shape[1] + 2  # the two geodesic channels, widened from the shipped model
    assert not weight[:, -2:].any()  # they start at zero: training begins at the shipped model
    with torch.no_grad():
        weight[:, -2:] = torch.randn_like(weight[:, -2:])  # a trained model reads them
    item = _item(True, 3)
    with torch.no_grad():
        batch = head_batch(model, [item], torch.device("cpu"))
        trained = image_logits(run_head(model, model.encode(batch.image), batch), batch)[:, 0]
    session = Session(model, device="cpu", connected=False)
    session.set_image(item.image)
    proba = session.predict_proba(item.scribbles, item.prev, current=item.current)
    free = item.scribbles == 0
    expected = torch.softmax(torch.cat([torch.zeros_like(trained[:1]), trained]), 0)[1:].numpy()
    np.testing.assert_allclose(proba[:, free], expected[:, free], atol=2e-4)


@pytest.mark.parametrize("classes", [1, 2])
def test_the_frame_cue_reaches_the_network_the_same_way_in_training_and_in_the_session(classes):
    """A first stroke of one class (the frame is the border) and two classes; the new channel's weights
    non-zero, as a trained model's are."""
    from training.model_io import init_model

    model = init_model({"model": {"config": {"guidance": "colour_frame"}}}, str(DEFAULT_WEIGHTS)).eval()
    key = next(k for k, _ in model.named_parameters() if k.endswith("hist_enc.0.weight"))
    weight = dict(model.named_parameters())[key]
    assert not weight[:, -1:].any()  # the frame channel starts at zero
    with torch.no_grad():
        weight[:, -1:] = torch.randn_like(weight[:, -1:])
    item = _item(False, 2)
    if classes == 1:
        item.scribbles[item.scribbles == 2] = 0
        item.current[:] = item.scribbles > 0
    with torch.no_grad():
        batch = head_batch(model, [item], torch.device("cpu"))
        trained = image_logits(run_head(model, model.encode(batch.image), batch), batch)[:, 0]
    session = Session(model, device="cpu", connected=False)
    session.set_image(item.image)
    proba = session.predict_proba(item.scribbles, None, current=item.current)
    free = item.scribbles == 0
    expected = torch.softmax(torch.cat([torch.zeros_like(trained[:1]), trained]), 0)[1:].numpy()
    np.testing.assert_allclose(proba[:, free], expected[:, free], atol=2e-4)


def test_a_teacher_for_a_widened_student_computes_what_its_checkpoint_does():
    from training.model_io import head_batch, load_teacher

    shipped = load_checkpoint(DEFAULT_WEIGHTS)
    teacher = load_teacher(str(DEFAULT_WEIGHTS), "colour_frame")
    assert teacher.config.guidance == "colour_frame" and not teacher.training
    item = _item(True, 3)
    with torch.no_grad():
        wide = head_batch(teacher, [item], torch.device("cpu"))  # the student's guidance, one channel more
        narrow = head_batch(shipped, [item], torch.device("cpu"))
        assert wide.guidance.shape[1] == narrow.guidance.shape[1] + 1
        ours = run_head(teacher, teacher.encode(wide.image), wide)["refined"]
        theirs = run_head(shipped, shipped.encode(narrow.image), narrow)["refined"]
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_the_teacher_shares_the_frozen_trunk_prefix_only_when_its_weights_are_the_students():
    import copy

    from training.forward import TrainingForward
    from training.trainer import freeze_encoder_stages

    student = load_checkpoint(DEFAULT_WEIGHTS).train()
    freeze_encoder_stages(student, 4)
    teacher = copy.deepcopy(student)
    with torch.no_grad():
        next(teacher.head.fuse.parameters()).mul_(1.5)  # a different head: the teacher's logits are its own
    items = [_item(True, 3), _item(False, 2)]
    shared = TrainingForward(student, {}, np.random.default_rng(0), teacher, frozen_stages=4)
    assert shared.shared_stages == 4
    outputs, batch = shared(items)
    with torch.no_grad():
        alone = run_head(teacher, teacher.encode(batch.image), batch)["refined"]
    torch.testing.assert_close(outputs["teacher"], alone, atol=1e-5, rtol=0)

    other = copy.deepcopy(teacher)
    with torch.no_grad():
        next(other.encoder.stages[2].parameters()).add_(0.01)  # a frozen stage that differs: nothing is shared
    assert TrainingForward(student, {}, np.random.default_rng(0), other, frozen_stages=4).shared_stages == 0
    assert TrainingForward(student, {}, np.random.default_rng(0), teacher, frozen_stages=0).shared_stages == 0
