"""The Session: features once per slice, multi-class prediction, zoom-in, requests, bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import napari_scribbleseg.session as session_module
from napari_scribbleseg.errors import InputError, NotReadyError
from napari_scribbleseg.model import build_model, checkpoint_dict, save_checkpoint
from napari_scribbleseg.predictor import get_predictor
from napari_scribbleseg.session import Session, default_session


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/core/conftest.py


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build_model("scribbleseg_tiny").eval()


@pytest.fixture
def session(model):
    return Session(model, device="cpu")


def _image(seed: int = 0, shape=(96, 80)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((*shape, 3), np.uint8)
    img[20:60, 15:50] = (200, 40, 40)
    return np.clip(img + rng.integers(0, 30, img.shape), 0, 255).astype(np.uint8)


def _scribbles(shape=(96, 80), classes=(1, 2, 3)) -> np.ndarray:
    s = np.zeros(shape, np.int32)
    rows = np.linspace(10, shape[0] - 10, len(classes)).astype(int)
    for k, r in zip(classes, rows):
        s[r, 10:60] = k
    return s


def test_predict_shapes_and_dtypes(session):
    session.set_image(_image())
    labels = session.predict(_scribbles())
    assert labels.shape == (96, 80) and labels.dtype == np.int32
    proba = session.predict_proba(_scribbles())
    assert proba.shape == (3, 96, 80) and proba.dtype == np.float32
    assert np.all(proba >= 0) and np.all(proba.sum(0) <= 1 + 1e-5)


def test_every_pixel_one_label_and_scribbles_keep_their_class(model):
    session = Session(model, device="cpu", connected=False)  # the plain arg-max of predict_proba
    session.set_image(_image())
    scribbles = _scribbles(classes=(2, 5, 7))
    labels = session.predict(scribbles)
    assert set(np.unique(labels)) <= {2, 5, 7}  # three classes compete: none is left 0
    np.testing.assert_array_equal(labels[scribbles > 0], scribbles[scribbles > 0])
    # the label map is the argmax of the probabilities over the scribbled classes
    proba = session.predict_proba(scribbles)
    expected = np.array([2, 5, 7])[proba.argmax(0)]
    agree = (expected == labels) | (np.abs(np.sort(proba, 0)[-1] - np.sort(proba, 0)[-2]) < 1e-4)
    assert agree.all()


def test_one_class_alone_competes_with_the_background(model):
    session = Session(model, device="cpu", connected=False)
    session.set_image(_image())
    scribbles = _scribbles(classes=(3,))
    labels = session.predict(scribbles)
    proba = session.predict_proba(scribbles)[0]
    np.testing.assert_array_equal(labels[proba < 0.49], 0)
    np.testing.assert_array_equal(labels[proba > 0.51], 3)


def test_connected_keeps_only_the_parts_touching_their_strokes(model):
    from scipy import ndimage

    free, connected = Session(model, device="cpu", connected=False), Session(model, device="cpu")
    scribbles = _scribbles(classes=(2, 5, 7))
    for s in (free, connected):
        s.set_image(_image())
    loose, kept = free.predict(scribbles), connected.predict(scribbles)
    assert connected.connected and not free.connected
    changed = loose != kept
    assert changed.any() and (kept > 0).all()  # dropped parts go to a competing class, never to 0
    for k in (2, 5, 7):
        parts, n = ndimage.label(kept == k, structure=np.ones((3, 3)))
        assert n >= 1 and set(np.unique(parts[scribbles == k])) == set(range(1, n + 1))


def test_empty_scribbles_give_background(session):
    session.set_image(_image())
    empty = np.zeros((96, 80), np.int32)
    assert not session.predict(empty).any()
    assert session.predict_proba(empty).shape == (0, 96, 80)


def test_features_computed_once_per_slice(session):
    volume = np.stack([_image(i)[..., 0] for i in range(5)])
    for index in [0, 1, 2, 1, 0, 2]:
        session.set_image(volume[index], key=("vol", 0, index))
        session.predict(_scribbles())
    assert session.encoder_calls == 3
    session.set_image(volume[0])  # no key: a content hash, same pixels -> computed once more, then cached
    session.set_image(volume[0].copy())
    assert session.encoder_calls == 4


def test_prepare_precomputes_neighbours(session):
    volume = np.stack([_image(i)[..., 0] for i in range(4)])
    seen = []
    computed = session.prepare([(("v", 0, i), volume[i]) for i in range(4)], progress=lambda d, t: seen.append((d, t)))
    assert computed == 4 and session.encoder_calls == 4 and seen[-1] == (4, 4)
    assert not session.is_image_set  # prepare does not change the current image
    for i in range(4):
        session.set_image(volume[i], key=("v", 0, i))
    assert session.encoder_calls == 4
    # the same with images and keys apart
    assert session.prepare(list(volume), keys=[("w", 0, i) for i in range(4)]) == 4
    session.set_image(volume[2], key=("w", 0, 2))
    assert session.encoder_calls == 8


def test_cache_is_bounded(model):
    session = Session(model, device="cpu", cache_size=3)
    for i in range(8):
        session.set_image(_image(i), key=i)
    assert len(session._cache) == 3
    assert session.cache_bytes <= 3 * session.feature_bytes_per_image
    assert session.is_cached(7) and not session.is_cached(0)
    session.set_image(_image(0), key=0)  # evicted: computed again
    assert session.encoder_calls == 9


def test_feature_memory_of_a_ct_volume_is_bounded():
    model = build_model("scribbleseg_lite0")
    session = Session(model, device="cpu", cache_size=64)
    session.set_image(np.zeros((512, 512), np.int16), kind="ct", key=("ct", 0, 0))
    per_slice = session.feature_bytes_per_image
    # as the docstring states: float32 features plus the float16 grey guide of refine_edges
    assert per_slice == (64 * 32 * 32 + 16 * 128 * 128 + 3 * 512 * 512) * 4 + 512 * 512 * 2
    assert 64 * per_slice < 320 * 2**20  # a 512x512x300 CT never holds more than this


def test_without_recycling_the_encoder_runs_every_interaction(model):
    session = Session(model, device="cpu", recycle=False)
    session.set_image(_image())
    a = session.predict(_scribbles())
    b = session.predict(_scribbles())
    assert session.encoder_calls == 3
    recycling = Session(model, device="cpu")
    recycling.set_image(_image())
    np.testing.assert_array_equal(recycling.predict(_scribbles()), a)
    np.testing.assert_array_equal(a, b)


def test_zoom_in_keeps_previous_mask_outside_the_crop(session):
    session.set_image(_image(shape=(200, 200)))
    scribbles = np.zeros((200, 200), np.int32)
    scribbles[50, 40:60] = 1
    prev = np.zeros((200, 200), np.int32)
    prev[40:70, 35:70] = 1
    labels = session.predict(scribbles, prev=prev)
    # class 1's box is about 1.4 x 35 px around the object; the far corner lies outside and keeps prev (0)
    assert not labels[150:, 150:].any()
    np.testing.assert_array_equal(labels[scribbles > 0], 1)


def test_repeated_call_is_idempotent(session):
    session.set_image(_image())
    scribbles = _scribbles()
    first = session.predict(scribbles)
    np.testing.assert_array_equal(session.predict(scribbles), first)
    np.testing.assert_array_equal(session.predict(scribbles, prev=first), session.predict(scribbles, prev=first))


def test_deterministic_on_cpu(model):
    outs = []
    for _ in range(2):
        s = Session(model, device="cpu")
        s.set_image(_image())
        outs.append(s.predict_proba(_scribbles()))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_ct_slice(session):
    ct = np.full((64, 64), -1000, np.int16)
    ct[16:48, 16:48] = 60
    session.set_image(ct, kind="ct")
    scribbles = np.zeros((64, 64), np.int32)
    scribbles[30, 20:40] = 1
    scribbles[5, 5:60] = 2
    assert session.predict(scribbles).shape == (64, 64)


def test_predict_before_set_image(session):
    with pytest.raises(NotReadyError, match="set_image"):
        session.predict(_scribbles())
    session.set_image(_image())
    session.reset_image()
    with pytest.raises(NotReadyError, match="set_image"):
        session.predict_proba(_scribbles())


def test_bad_scribbles(session):
    session.set_image(_image())
    with pytest.raises(InputError, match="shape"):
        session.predict(np.zeros((50, 50), np.int32))
    too_many = _scribbles()
    too_many[0, 0] = 300
    with pytest.raises(InputError, match="255 classes"):
        session.predict(too_many)
    with pytest.raises(InputError, match="prev has shape"):
        session.predict(_scribbles(), prev=np.zeros((3, 3), np.int32))


def test_checkpoint_of_another_arch_or_version(tmp_path, model):
    ckpt = checkpoint_dict(model)
    ckpt["version"] = 99
    torch.save(ckpt, tmp_path / "future.pt")
    with pytest.raises(InputError, match="version 99"):
        Session(tmp_path / "future.pt")
    ckpt = checkpoint_dict(model)
    ckpt["arch"] = "segformer_b0"
    torch.save(ckpt, tmp_path / "other.pt")
    with pytest.raises(InputError, match="segformer_b0"):
        Session(tmp_path / "other.pt")


def test_threads_share_a_session(session):
    session.set_image(_image())
    expected = session.predict(_scribbles())
    results, errors = [], []

    def work():
        try:
            results.append(session.predict(_scribbles()))
        except Exception as err:  # noqa: BLE001 - whatever a worker thread raises must fail the test
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_default_session_missing_weights_says_install_is_incomplete(tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "DEFAULT_WEIGHTS", tmp_path / "default.pt")
    with pytest.raises(FileNotFoundError, match="install is incomplete"):
        default_session()


def test_get_predictor_default_loads_shipped_checkpoint(tmp_path, monkeypatch, model):
    save_checkpoint(model, tmp_path / "default.pt")
    monkeypatch.setattr(session_module, "DEFAULT_WEIGHTS", tmp_path / "default.pt")
    predictor = get_predictor("default", device="cpu")
    assert isinstance(predictor, Session)
    predictor.set_image(_image())
    assert predictor.predict(_scribbles()).shape == (96, 80)


@pytest.mark.parametrize("kind", ["superpixel", "extreme"])
def test_other_guidance_kinds_run(kind):
    torch.manual_seed(0)
    session = Session(build_model("scribbleseg_tiny", guidance=kind), device="cpu")
    session.set_image(_image())
    extreme = {1: np.array([[20, 30], [59, 30], [40, 15], [40, 49]])} if kind == "extreme" else None
    labels = session.predict(_scribbles(classes=(2,)), extreme_points=extreme)
    assert labels.shape == (96, 80)
    if kind == "extreme":
        assert set(np.unique(labels)) <= {0, 1, 2}


def test_half_precision_path_agrees_with_float32(model):
    # the GPU path (float16 features, guidance and head), exercised on the CPU
    full, half = Session(model, device="cpu"), Session(model, device="cpu", half=True)
    for s in (full, half):
        s.set_image(_image())
    np.testing.assert_allclose(half.predict_proba(_scribbles()), full.predict_proba(_scribbles()), atol=0.02)
    assert half.model.head.prototype.dtype == torch.float16


def test_real_grabcut_image_with_simulated_scribbles(grabcut_dir, session):
    from napari_scribbleseg.datasets import load_dataset
    from napari_scribbleseg.simulate.protocol import next_scribble

    sample = load_dataset(grabcut_dir)[0]
    gt = np.where(np.asarray(sample.gt) > 0, 1, 2).astype(np.int32)  # binary task: 1 object, 2 background
    session.set_image(sample.image)
    scribbles = np.zeros(gt.shape, np.int32)
    prev = None
    for _ in range(3):  # first interaction on the whole image, then zoomed in around prev + strokes
        stroke = next_scribble(gt, prev, sample.ignore)
        if stroke is None:
            break
        scribbles[stroke.mask] = stroke.label
        prev = session.predict(scribbles, prev=prev)
        assert prev.shape == gt.shape and prev.dtype == np.int32
        assert set(np.unique(prev)) <= {0, 1, 2}
        np.testing.assert_array_equal(prev[scribbles > 0], scribbles[scribbles > 0])
    assert session.encoder_calls == 1


def test_head_size_override(model):
    small = Session(model, device="cpu", head_size=32)
    small.set_image(_image())
    assert small.predict(_scribbles()).shape == (96, 80)
    with pytest.raises(InputError, match="multiple of 8"):
        Session(model, device="cpu", head_size=100)


def test_many_classes_in_several_batches_match_one_batch(model):
    scribbles = _scribbles(classes=tuple(range(1, 8)))
    one, several = Session(model, device="cpu", max_batch=16), Session(model, device="cpu", max_batch=3)
    for s in (one, several):
        s.set_image(_image())
    proba = one.predict_proba(scribbles)
    np.testing.assert_allclose(several.predict_proba(scribbles), proba, atol=1e-5)
    # labels agree wherever the winner is not a near-tie (an untrained model has many of those)
    full = np.sort(np.concatenate([1 - proba.sum(0, keepdims=True), proba]), 0)
    clear = full[-1] - full[-2] > 1e-4
    np.testing.assert_array_equal(several.predict(scribbles)[clear], one.predict(scribbles)[clear])


def test_255_classes_are_accepted(session):
    session.set_image(_image(shape=(64, 64)))
    scribbles = np.zeros((64, 64), np.int32)
    scribbles.ravel()[np.arange(255) * 16] = np.arange(1, 256)
    labels = session.predict(scribbles)
    np.testing.assert_array_equal(labels[scribbles > 0], scribbles[scribbles > 0])


def test_auto_threads_leave_a_core_free_unless_the_user_chose(model, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(session_module.os, "cpu_count", lambda: 4)
    Session(model, device="cpu")
    assert torch.get_num_threads() == 3
    monkeypatch.setattr(session_module.os, "cpu_count", lambda: 1)
    Session(model, device="cpu")
    assert torch.get_num_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(2)
    monkeypatch.setattr(session_module.os, "cpu_count", lambda: 8)
    Session(model, device="cpu")
    assert torch.get_num_threads() == 2
    Session(model, device="cpu", num_threads=None)
    assert torch.get_num_threads() == 2


def test_a_one_entry_cache_keeps_working_across_images(model):
    session = Session(model, device="cpu", cache_size=1)
    for seed in range(3):
        session.set_image(_image(seed))
        scribbles = np.zeros((96, 80), np.int32)
        scribbles[10, 10:20] = 1
        assert session.predict(scribbles).shape == (96, 80)
    assert session.encoder_calls == 3


def _strokes_run(session, image, key=None, steps=12, seed=0):
    """Set ``image``, then add one random stroke per step and predict each time, passing the stroke and
    the last labels; returns every prediction. ``key``: pass the set_image key to predict."""
    rng = np.random.default_rng(seed)
    image_key = session.set_image(image)
    scribbles = np.zeros(image.shape[:2], np.int32)
    prev, out = None, []
    for _ in range(steps):
        stroke = np.zeros(scribbles.shape, bool)
        r, c = rng.integers(5, scribbles.shape[0] - 5), rng.integers(5, scribbles.shape[1] - 30)
        stroke[r, c : c + 25] = True
        scribbles[stroke] = rng.integers(1, 3)
        options = {"image": image_key} if key else {}
        prev = session.predict(scribbles.copy(), prev, current=stroke, **options)
        out.append(prev)
    return out


def test_two_threads_on_one_session_each_get_their_own_result(model):
    """Issue 13.9: with the image key and the stroke in the call, another thread's set_image or predict
    in between changes nothing (before: 2 of 100 results were the other image's, 39 of 40 differed)."""
    images = [_image(0), _image(1)[::-1].copy()]
    solo = [_strokes_run(Session(model, device="cpu"), image, seed=i) for i, image in enumerate(images)]
    shared = Session(model, device="cpu")
    results, errors = {}, []

    def work(i):
        try:
            results[i] = _strokes_run(shared, images[i], key=True, seed=i)
        except Exception as err:  # noqa: BLE001 - whatever a worker thread raises must fail the test
            errors.append(err)

    for _ in range(3):
        threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1, 0)]  # two threads on image 0 too
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for i in (0, 1):
            for got, want in zip(results[i], solo[i]):
                np.testing.assert_array_equal(got, want)


def test_the_current_stroke_in_the_call_overrides_the_call_history(session):
    session.set_image(_image())
    s = _scribbles()
    stroke = s == 3
    first = session.predict(s, current=stroke)
    session.predict(s)  # a call in between (another caller) changes the history ...
    np.testing.assert_array_equal(session.predict(s, current=stroke), first)  # ... not this answer
    with pytest.raises(InputError, match="current has shape .* stroke just drawn"):
        session.predict(s, current=stroke[:10])


def test_predict_on_an_image_that_left_the_cache_says_set_it_again(model):
    session = Session(model, device="cpu", cache_size=1)
    key = session.set_image(_image(0))
    session.set_image(_image(1))
    session.set_image(_image(2))  # the cache keeps the current image and the one just stored
    with pytest.raises(NotReadyError, match="left the cache.*set_image"):
        session.predict(_scribbles(), image=key)


def test_an_image_over_the_pixel_limit_is_refused_before_any_work(session):
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(20000, 20000), strides=(0, 0))
    with pytest.raises(InputError, match=r"20000x20000 .* more than the 16777216 .*image\[::5, ::5\]"):
        session.set_image(huge)
    assert session.encoder_calls == 0


def test_an_intensity_range_is_its_own_cache_entry(session):
    grey = (np.arange(96 * 80, dtype=np.uint16).reshape(96, 80) % 500) + 100
    auto = session.set_image(grey)
    ranged = session.set_image(grey, intensity=(100, 300))
    assert auto != ranged and session.encoder_calls == 2
    assert session.is_cached(ranged[0], intensity=(100, 300)) and not session.is_cached(ranged[0], intensity=(0, 1))


def test_predict_without_prev_continues_from_the_last_prediction_as_the_widget_does(model):
    """Issue 14.2: a script that calls predict(scribbles) stroke after stroke gets what the widget and
    evaluate get by passing the last labels back (before: the previous mask was silently dropped)."""
    s1 = _scribbles(classes=(1, 2))
    s2 = s1.copy()
    s2[50:53, 20:40] = 1  # a correction stroke
    script = Session(model, device="cpu", connected=False)
    script.set_image(_image())
    first = script.predict(s1)
    continued = script.predict(s2)
    widget = Session(model, device="cpu", connected=False)
    widget.set_image(_image())
    np.testing.assert_array_equal(first, widget.predict(s1, prev=None))
    np.testing.assert_array_equal(continued, widget.predict(s2, prev=first))
    assert not np.array_equal(continued, widget.predict(s2, prev=None))  # the previous mask made a difference
    fresh = Session(model, device="cpu", connected=False)
    fresh.set_image(_image())
    fresh.predict(s2)
    # scribbles that do not continue the last call's (a stroke undone) start afresh, as does prev=None
    np.testing.assert_array_equal(fresh.predict(s1), widget.predict(s1, prev=None))
    with pytest.raises(InputError, match="prev is 'previous'"):
        fresh.predict(s1, prev="previous")
