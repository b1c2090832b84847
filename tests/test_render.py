"""OpenPose drawing in ControlNet's style, PNG writing, pose grids and heatmap plots."""
import numpy as np
import pytest
import torch
from PIL import Image

from posegraph.heatmaps import keypoints_to_heatmaps
from posegraph.render import OPENPOSE_COLORS, draw_openpose, draw_pose_grid, plot_heatmaps, save_png
from posegraph.skeleton import COCO_17

# A standing person facing the camera in a 512 x 512 frame (their left is the image's right).
POSE = {
    "nose": (256, 100), "left_eye": (270, 90), "right_eye": (242, 90), "left_ear": (290, 100),
    "right_ear": (222, 100), "left_shoulder": (320, 160), "right_shoulder": (192, 160),
    "left_elbow": (340, 250), "right_elbow": (172, 250), "left_wrist": (350, 340),
    "right_wrist": (162, 340), "left_hip": (290, 330), "right_hip": (222, 330), "left_knee": (295, 420),
    "right_knee": (217, 420), "left_ankle": (300, 500), "right_ankle": (212, 500),
}
NECK = (256, 160)
BLACK = (0, 0, 0)


def pose(v=2.0):
    xy = np.array([POSE[name] for name in COCO_17.names], dtype=np.float64)
    return np.concatenate([xy, np.full((17, 1), v)], axis=1)


def pixel(image, xy):
    x, y = xy
    return tuple(int(c) for c in image[int(round(y)), int(round(x))])


def midpoint(a, b):
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


# limb (ControlNet drawing order), its two ends, the expected colour (palette colour * 0.6, truncated)
LIMBS = [
    ("neck -> right_shoulder", NECK, POSE["right_shoulder"], (153, 0, 0)),
    ("neck -> left_shoulder", NECK, POSE["left_shoulder"], (153, 51, 0)),
    ("right upper arm", POSE["right_shoulder"], POSE["right_elbow"], (153, 102, 0)),
    ("right forearm", POSE["right_elbow"], POSE["right_wrist"], (153, 153, 0)),
    ("left upper arm", POSE["left_shoulder"], POSE["left_elbow"], (102, 153, 0)),
    ("left forearm", POSE["left_elbow"], POSE["left_wrist"], (51, 153, 0)),
    ("neck -> right_hip", NECK, POSE["right_hip"], (0, 153, 0)),
    ("right thigh", POSE["right_hip"], POSE["right_knee"], (0, 153, 51)),
    ("right shin", POSE["right_knee"], POSE["right_ankle"], (0, 153, 102)),
    ("neck -> left_hip", NECK, POSE["left_hip"], (0, 153, 153)),
    ("left thigh", POSE["left_hip"], POSE["left_knee"], (0, 102, 153)),
    ("left shin", POSE["left_knee"], POSE["left_ankle"], (0, 51, 153)),
    ("neck -> nose", NECK, POSE["nose"], (0, 0, 153)),
    ("nose -> right_eye", POSE["nose"], POSE["right_eye"], (51, 0, 153)),
    ("right_eye -> right_ear", POSE["right_eye"], POSE["right_ear"], (102, 0, 153)),
    ("nose -> left_eye", POSE["nose"], POSE["left_eye"], (153, 0, 153)),
    ("left_eye -> left_ear", POSE["left_eye"], POSE["left_ear"], (153, 0, 102)),
]

# OpenPose-18 joint order with the expected full palette colour
JOINTS = [
    ("nose", POSE["nose"], (255, 0, 0)), ("neck", NECK, (255, 85, 0)),
    ("right_shoulder", POSE["right_shoulder"], (255, 170, 0)), ("right_elbow", POSE["right_elbow"], (255, 255, 0)),
    ("right_wrist", POSE["right_wrist"], (170, 255, 0)), ("left_shoulder", POSE["left_shoulder"], (85, 255, 0)),
    ("left_elbow", POSE["left_elbow"], (0, 255, 0)), ("left_wrist", POSE["left_wrist"], (0, 255, 85)),
    ("right_hip", POSE["right_hip"], (0, 255, 170)), ("right_knee", POSE["right_knee"], (0, 255, 255)),
    ("right_ankle", POSE["right_ankle"], (0, 170, 255)), ("left_hip", POSE["left_hip"], (0, 85, 255)),
    ("left_knee", POSE["left_knee"], (0, 0, 255)), ("left_ankle", POSE["left_ankle"], (85, 0, 255)),
    ("right_eye", POSE["right_eye"], (170, 0, 255)), ("left_eye", POSE["left_eye"], (255, 0, 255)),
    ("right_ear", POSE["right_ear"], (255, 0, 170)), ("left_ear", POSE["left_ear"], (255, 0, 85)),
]


@pytest.fixture(scope="module")
def image():
    return draw_openpose(pose(), canvas_size=512, out_size=512)


def test_output_type_and_size(image):
    assert image.dtype == np.uint8 and image.shape == (512, 512, 3)
    assert draw_openpose(pose(), 512, out_size=(300, 200)).shape == (300, 200, 3)
    assert draw_openpose(pose(), (512, 256), out_size=128).shape == (128, 128, 3)


@pytest.mark.parametrize("name, a, b, color", LIMBS, ids=[limb[0] for limb in LIMBS])
def test_limb_midpoints_have_the_limb_colour_times_0_6(image, name, a, b, color):
    assert pixel(image, midpoint(a, b)) == color


@pytest.mark.parametrize("name, xy, color", JOINTS, ids=[joint[0] for joint in JOINTS])
def test_joint_centres_have_the_joint_colour(image, name, xy, color):
    assert pixel(image, xy) == color


def test_palette_matches_controlnet():
    assert OPENPOSE_COLORS.shape == (18, 3) and OPENPOSE_COLORS.dtype == np.uint8
    assert [tuple(c) for c in OPENPOSE_COLORS.tolist()] == [joint[2] for joint in JOINTS]


def test_limb_is_an_ellipse_of_stick_width_4(image):
    # neck -> right_shoulder is horizontal: centre (224, 160), half-length 32, half-width 4
    red = (153, 0, 0)
    assert [pixel(image, (224, y)) for y in range(155, 166)] == [BLACK] + [red] * 9 + [BLACK]
    assert pixel(image, (200, 160)) == red  # along the limb, clear of the joint discs
    assert pixel(image, (200, 165)) == BLACK


def test_joint_disc_has_radius_4(image):
    x, y = POSE["right_wrist"]  # the end of the right forearm; the limb runs upward from it
    color = (170, 255, 0)
    assert pixel(image, (x + 4, y)) == color and pixel(image, (x, y + 4)) == color
    assert pixel(image, (x + 5, y)) == BLACK and pixel(image, (x, y + 5)) == BLACK
    assert pixel(image, (x + 3, y + 3)) == BLACK  # 3^2 + 3^2 > 4^2


def test_background_is_black_and_only_palette_colours_appear(image):
    assert pixel(image, (0, 0)) == BLACK and pixel(image, (511, 511)) == BLACK and pixel(image, (256, 300)) == BLACK
    colours = {tuple(c) for c in image.reshape(-1, 3).tolist()}
    allowed = {BLACK} | {joint[2] for joint in JOINTS} | {limb[3] for limb in LIMBS}
    assert colours <= allowed  # no anti-aliasing, no blending
    assert (image.reshape(-1, 3) == 0).all(axis=1).mean() > 0.9


def test_absent_joints_draw_nothing(image):
    kp = pose()
    kp[COCO_17.index("left_wrist"), 2] = 0
    drawn = draw_openpose(kp, 512, 512)
    assert pixel(drawn, POSE["left_wrist"]) == BLACK
    assert pixel(drawn, midpoint(POSE["left_elbow"], POSE["left_wrist"])) == BLACK
    assert pixel(drawn, POSE["left_elbow"]) == (0, 255, 0)  # the rest is unchanged
    changed = (drawn != image).any(axis=-1)
    assert changed.any() and not changed[:, :300].any()
    assert not draw_openpose(pose(v=0.0), 512, 512).any()


@pytest.mark.parametrize("shoulder", ["left_shoulder", "right_shoulder"])
def test_neck_absent_when_a_shoulder_is_absent(shoulder):
    kp = pose()
    kp[COCO_17.index(shoulder), 2] = 0
    drawn = draw_openpose(kp, 512, 512)
    assert pixel(drawn, NECK) == BLACK
    for name, a, b, color in LIMBS:
        if a == NECK:  # every limb from the neck is gone
            assert pixel(drawn, midpoint(a, b)) == BLACK, name
    assert not (drawn == np.array([255, 85, 0])).all(axis=-1).any()  # no neck disc anywhere
    assert pixel(drawn, POSE["nose"]) == (255, 0, 0)


def test_threshold_selects_visibility():
    kp = pose()
    kp[COCO_17.index("left_knee"), 2] = 1  # labelled but occluded
    assert pixel(draw_openpose(kp, 512, 512), POSE["left_knee"]) == (0, 0, 255)
    strict = draw_openpose(kp, 512, 512, threshold=1)
    assert pixel(strict, POSE["left_knee"]) == BLACK
    assert pixel(strict, midpoint(POSE["left_hip"], POSE["left_knee"])) == BLACK


def test_frame_is_rescaled_with_pixel_centres():
    # a 64 x 64 frame drawn at 512: pixel centre x lands on 8 x + 3.5
    small = pose()
    small[:, :2] = (small[:, :2] + 0.5) / 8 - 0.5
    big = draw_openpose(small, canvas_size=64, out_size=512)
    np.testing.assert_array_equal(big, draw_openpose(pose(), 512, 512))


def test_stick_width_and_radius_scale_with_output_size():
    kp = pose()
    half = draw_openpose(kp, 512, 256)
    # half size: stick width 2, so the horizontal limb at row 80 spans rows 78..82
    assert [pixel(half, (112, y)) for y in range(77, 84)] == [BLACK] + [(153, 0, 0)] * 5 + [BLACK]
    wide = draw_openpose(kp, 512, 512, stick_width=8, joint_radius=6)
    assert pixel(wide, (224, 168)) == (153, 0, 0) and pixel(wide, (224, 169)) == BLACK


def test_torch_input_and_several_people():
    kp = pose()
    np.testing.assert_array_equal(draw_openpose(torch.tensor(kp), 512, 512), draw_openpose(kp, 512, 512))
    left, right = pose(), pose()
    left[:, 0] -= 128
    right[:, 0] += 128
    both = draw_openpose(np.stack([left, right]), 512, 512)
    assert pixel(both, (NECK[0] - 128, NECK[1])) == (255, 85, 0)
    assert pixel(both, (NECK[0] + 128, NECK[1])) == (255, 85, 0)


@pytest.mark.parametrize("shape", [(18, 3), (17, 2), (2, 2, 17, 3)])
def test_bad_keypoint_shapes_raise(shape):
    with pytest.raises(ValueError, match=r"draw_openpose: expected coco_17 keypoints"):
        draw_openpose(np.zeros(shape), 512)


@pytest.mark.parametrize("size", [0, (512, 0), (1, 2, 3)])
def test_bad_sizes_raise(size):
    with pytest.raises(ValueError, match="canvas_size must be a positive int or"):
        draw_openpose(pose(), size)


def test_save_png_keeps_exact_pixels(tmp_path, image):
    path = save_png(image, tmp_path / "sub" / "pose.png")
    with Image.open(path) as png:
        assert png.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(png), image)
    with pytest.raises(ValueError, match="save_png: expected a uint8 image"):
        save_png(image.astype(np.float32), tmp_path / "bad.png")


def test_pose_grid_writes_a_captioned_png(tmp_path):
    kp = np.stack([pose(), pose(), pose()])
    kp[..., :2] /= 8  # a 64-pixel frame
    captions = ["a person standing upright with both arms hanging down by the sides, seen from the front"] * 3
    path = draw_pose_grid(kp, captions, canvas_size=64, ncols=2, cell_size=128, path=tmp_path / "grid.png")
    with Image.open(path) as png:
        width, height = png.size
    assert (width, height) == (256, 2 * (128 + 60))
    assert path.stat().st_size > 5_000
    fig = draw_pose_grid(kp, None, canvas_size=64, ncols=3)
    assert len([ax for ax in fig.axes if ax.images]) == 3
    with pytest.raises(ValueError, match="2 captions for 3 poses"):
        draw_pose_grid(kp, captions[:2], canvas_size=64)


def test_heatmap_plot_writes_a_png(tmp_path):
    kp = torch.tensor(pose(), dtype=torch.float32)
    kp[:, :2] /= 8
    heatmaps = keypoints_to_heatmaps(kp, 64)
    path = plot_heatmaps(heatmaps, path=tmp_path / "heatmaps.png")
    with Image.open(path) as png:
        assert png.size == (1200, 660)
    assert path.stat().st_size > 20_000
    fig = plot_heatmaps(heatmaps.numpy(), kp)
    titled = [ax.get_title() for ax in fig.axes if ax.images]
    assert titled == list(COCO_17.names) + ["all joints (max)"]
    composite = fig.axes[17]
    assert len(composite.lines) == len(COCO_17.bones) + 1  # every bone plus the joint markers
    with pytest.raises(ValueError, match=r"plot_heatmaps: expected heatmaps \(17, S, S\)"):
        plot_heatmaps(heatmaps[None])
