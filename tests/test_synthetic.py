"""The synthetic text-pose generator: determinism, framing, visibility, the body, captions, flips."""
import re

import numpy as np
import pytest

from posegraph.data import captions as caps
from posegraph.data import phrases
from posegraph.data.body import KNEE_MAX, BodyShape, Pose, forward_kinematics
from posegraph.data.camera import FACINGS
from posegraph.data.poses import ASYMMETRIC, POSE_SAMPLERS, draw_poses, split_action
from posegraph.data.synthetic import ACTIONS, SyntheticPoseGenerator, SyntheticSamples, flip_action
from posegraph.skeleton import COCO_17

SIZE = 64
NOSE, L_EYE, R_EYE, L_EAR, R_EAR = range(5)
REQUIRED = (
    "standing", "walking", "running", "sitting", "squatting", "kneeling", "lying_down", "jumping", "waving_left",
    "waving_right", "raise_left_arm", "raise_right_arm", "raise_both_arms", "arms_out", "hands_on_hips",
    "arms_crossed", "pointing_left", "pointing_right", "kicking_left", "kicking_right", "touching_toes", "throwing",
    "punching", "one_leg", "handstand",
)


@pytest.fixture(scope="module")
def samples() -> SyntheticSamples:
    return SyntheticPoseGenerator(size=SIZE, seed=0).sample(3000)


def test_the_vocabulary_covers_the_required_actions_and_every_id_is_wired():
    assert set(REQUIRED) <= set(ACTIONS) and len(set(ACTIONS)) == len(ACTIONS)
    for action in ACTIONS:
        base, side = split_action(action)
        assert base in POSE_SAMPLERS and base in caps.ACTION_PHRASES
        assert (side is not None) == ("left" in action or "right" in action)
        assert flip_action(flip_action(action)) == action
    assert caps.example_prompts() == [caps.example_prompts([a])[0] for a in ACTIONS]


def test_same_seed_same_samples_and_the_stream_moves_on():
    a, b = SyntheticPoseGenerator(seed=5), SyntheticPoseGenerator(seed=5)
    first_a, first_b = a.sample(50), b.sample(50)
    np.testing.assert_array_equal(first_a.keypoints, first_b.keypoints)
    assert first_a.captions == first_b.captions and list(first_a.actions) == list(first_b.actions)
    assert not np.array_equal(a.sample(50).keypoints, first_a.keypoints)
    assert not np.array_equal(SyntheticPoseGenerator(seed=6).sample(50).keypoints, first_a.keypoints)


def test_sample_layout_and_labels(samples):
    kp = samples.keypoints
    assert kp.shape == (3000, 17, 3) and kp.dtype == np.float32 and len(samples) == 3000
    assert set(np.unique(kp[..., 2])) <= {0.0, 2.0}
    shown = kp[..., 2] > 0
    assert (kp[shown][:, :2] >= -0.5).all() and (kp[shown][:, :2] <= SIZE - 0.5).all()
    assert (kp[~shown] == 0).all()  # absent joints are (0, 0, 0), as in COCO
    assert len(samples.captions) == 3000 and all(isinstance(c, str) and c for c in samples.captions)
    assert set(samples.actions) == set(ACTIONS)  # uniform over all actions by default
    assert set(samples.facings) <= set(FACINGS)
    for action, side in zip(samples.actions, samples.sides):
        named = split_action(action)[1]
        assert side == named if named else side in (None, "left", "right")
    one = samples[3]
    assert set(one) == {"keypoints", "caption", "action", "side", "facing"} and one["keypoints"].shape == (17, 3)
    part = samples[10:20]
    assert isinstance(part, SyntheticSamples) and len(part) == 10 and part.captions == samples.captions[10:20]


def test_the_crop_is_a_square_centred_on_the_keypoints_box():
    s = SyntheticPoseGenerator(seed=1, crop_rate=0.0).sample(500)
    kp = s.keypoints
    shown = kp[..., 2] > 0
    lo = np.where(shown[..., None], kp[..., :2], np.inf).min(1)
    hi = np.where(shown[..., None], kp[..., :2], -np.inf).max(1)
    np.testing.assert_allclose((lo + hi) / 2, (SIZE - 1) / 2, atol=1e-3)
    longest = (hi - lo).max(1)  # the box's longer side plus a 5-15% margin each end fills the crop
    assert (longest >= SIZE / 1.3 - 1e-3).all() and (longest <= SIZE / 1.1 + 1e-3).all()


def test_cut_crops_drop_the_feet_of_arm_gestures_only():
    s = SyntheticPoseGenerator(seed=2, crop_rate=1.0).sample(800)
    body_missing = (s.keypoints[:, 5:, 2] == 0).any(1)
    gestures = np.array([split_action(a)[0] in ("waving", "raise_arm", "raise_both_arms", "arms_out", "hands_on_hips",
                                                "arms_crossed", "pointing") for a in s.actions])
    assert body_missing[gestures].mean() > 0.8 and not body_missing[~gestures].any()  # wide poses keep their feet
    assert (s.keypoints[gestures][:, 5:11, 2] == 2).all()  # the arms and shoulders stay in frame


def test_face_visibility_follows_the_view():
    s = SyntheticPoseGenerator(seed=7).sample(1500, action="standing")  # the head turns at most 25 degrees
    v = s.keypoints[..., 2] > 0
    facing = np.array(s.facings)
    back, front = facing == "back", facing == "front"
    assert not v[back][:, [NOSE, L_EYE, R_EYE]].any()  # from behind no face, as COCO annotates
    assert v[back][:, [L_EAR, R_EAR]].mean() > 0.8  # both ears, unless the head turns well away
    assert v[front][:, :5].mean() > 0.95
    left, right = facing == "left", facing == "right"
    assert v[left][:, L_EAR].mean() > 0.9 and v[left][:, R_EAR].mean() < 0.1  # the far ear of a profile
    assert v[right][:, R_EAR].mean() > 0.9 and v[right][:, L_EAR].mean() < 0.1


@pytest.mark.parametrize("action, allowed", [
    ("arms_out", {"front", "front-left", "front-right", "back", "back-left", "back-right"}),
    ("walking", {"left", "right", "front-left", "front-right", "back-left", "back-right"}),
    ("kicking_left", {"left", "right", "front-left", "front-right", "back-left", "back-right"}),
    ("arms_crossed", {"front", "front-left", "front-right"}),
])
def test_views_are_restricted_where_an_action_would_be_unreadable(action, allowed):
    s = SyntheticPoseGenerator(seed=3).sample(400, action=action)
    assert set(s.facings) <= allowed


def test_restricting_and_forcing_actions():
    gen = SyntheticPoseGenerator(seed=0, actions=["sitting", "handstand"])
    assert set(gen.sample(100).actions) == {"sitting", "handstand"}
    forced = gen.sample(4, action=["walking", "walking", "waving_left", "punching"])
    assert list(forced.actions) == ["walking", "walking", "waving_left", "punching"]
    with pytest.raises(ValueError, match=r"unknown action ids \['dancing'\]"):
        SyntheticPoseGenerator(actions=["sitting", "dancing"])
    with pytest.raises(ValueError, match="unknown action ids"):
        gen.sample(2, action="flying")


def test_flip_mirrors_joints_words_ids_sides_and_facings():
    s = SyntheticPoseGenerator(seed=4).sample(300)
    f = s.flip()
    shown = s.keypoints[..., 2] > 0
    mirrored = COCO_17.flip_keypoints(s.keypoints, SIZE)
    np.testing.assert_allclose(f.keypoints[mirrored[..., 2] > 0], mirrored[mirrored[..., 2] > 0])
    assert (f.keypoints[..., 2][:, COCO_17.flip_permutation.numpy()] > 0).sum() == shown.sum()
    for i in range(len(s)):
        assert f.actions[i] == flip_action(s.actions[i])
        assert f.sides[i] == {"left": "right", "right": "left", None: None}[s.sides[i]]
        assert f.facings[i] == caps.swap_left_right(s.facings[i])
        assert re.sub(r"\b(left|right)\b", "X", f.captions[i]) == re.sub(r"\b(left|right)\b", "X", s.captions[i])
    twice = f.flip()
    np.testing.assert_allclose(twice.keypoints, s.keypoints, atol=1e-4)
    assert twice.captions == s.captions and list(twice.actions) == list(s.actions)


def test_a_mirrored_left_action_is_drawn_like_the_right_one():
    """Right-sided actions are the mirrored left ones: their statistics match after a flip."""
    left = SyntheticPoseGenerator(seed=8, crop_rate=0.0).sample(1000, action="raise_left_arm")
    right = SyntheticPoseGenerator(seed=9, crop_rate=0.0).sample(1000, action="raise_right_arm").flip()
    body = slice(5, 17)  # always visible
    np.testing.assert_allclose(left.keypoints[:, body, :2].mean(0), right.keypoints[:, body, :2].mean(0), atol=1.0)


# --- the body ------------------------------------------------------------------------------------

def test_population_proportions():
    body = BodyShape.sample(np.random.default_rng(0), 4000)
    adult, child = ~body.child, body.child
    assert 0.1 < child.mean() < 0.2 and 0.4 < body.female.mean() < 0.6
    assert body.head[child].mean() > 1.15 * body.head[adult].mean()  # children: big heads ...
    legs = (body.thigh + body.shin) / body.torso
    assert legs[child].mean() < 0.9 * legs[adult].mean()  # ... short legs
    shoulders = body.shoulder_half / body.hip_half
    assert shoulders[adult & body.female].mean() < 0.9 * shoulders[adult & ~body.female].mean()
    np.testing.assert_allclose(np.median(body.thigh[adult] / body.torso[adult]), 0.245 / 0.288, rtol=0.03)


def test_hinges_flex_the_anatomical_way_and_never_hyperextend():
    body = BodyShape.sample(np.random.default_rng(0), 3)
    pose = Pose.zeros(3)
    pose.elbow[:] = np.deg2rad([[90, 90], [-40, -40], [90, 90]])[:, :]
    pose.knee[:] = np.deg2rad([[90, 90], [-40, -40], [400, 400]])[:, :]
    joints, _ = forward_kinematics(body, pose)
    elbows, wrists, knees, ankles = joints[:, 7:9], joints[:, 9:11], joints[:, 13:15], joints[:, 15:17]
    assert (wrists[0, :, 2] > elbows[0, :, 2] + 0.1).all()  # elbows bend the forearm forward
    assert (ankles[0, :, 2] < knees[0, :, 2] - 0.2).all()  # knees bend the shin backward
    np.testing.assert_allclose(wrists[1, :, 2], elbows[1, :, 2], atol=1e-9)  # negative flexion: straight
    np.testing.assert_allclose(ankles[1, :, 2], knees[1, :, 2], atol=1e-9)
    shin = ankles[2] - knees[2]
    thigh = knees[2] - joints[2, 11:13]
    cos = np.sum(shin * thigh, -1) / np.linalg.norm(shin, axis=-1) / np.linalg.norm(thigh, axis=-1)
    np.testing.assert_allclose(cos, np.cos(KNEE_MAX), atol=1e-9)  # clipped at the joint limit


@pytest.mark.parametrize("action", ACTIONS)
def test_every_sampler_stays_within_joint_limits(action):
    pose, yaw, pitch, mirrored = draw_poses(action, np.random.default_rng(0), 200)
    assert (pose.knee >= 0).all() and (pose.elbow >= 0).all()
    assert (pose.arm_elev >= 0).all() and (pose.arm_elev <= np.pi + 1e-9).all()
    assert np.isfinite(yaw).all() and ((pitch > -10) & (pitch < 40)).all()
    assert mirrored.all() if action.endswith("right") or "_right_" in action else True


def test_contact_poses_reach_their_targets():
    """Hands on hips and arms crossed are placed by inverse kinematics: the wrists land on target."""
    for action in ("hands_on_hips", "arms_crossed"):
        pose, *_ = draw_poses(action, np.random.default_rng(1), 300)
        body = BodyShape.sample(np.random.default_rng(2), 300)
        joints, _ = forward_kinematics(body, pose)
        neck = joints[:, 5:7].mean(1)
        target = neck[:, None] + np.einsum("nij,nkj->nki", _trunk(pose), pose.wrist_target)
        reach = np.linalg.norm(joints[:, 9:11] - target, axis=-1)
        assert np.median(reach) < 0.005 and (reach < 0.05).all()


def _trunk(pose):
    from posegraph.data.body import rot_x, rot_y, rot_z

    return rot_y(pose.trunk_twist) @ rot_z(pose.trunk_side) @ rot_x(pose.trunk_flex)


# --- captions ------------------------------------------------------------------------------------

def test_captions_name_the_side_subject_and_scene(samples):
    scene_only = 0
    for caption, action, side in zip(samples.captions, samples.actions, samples.sides):
        named = split_action(action)[1]
        words = set(re.findall(r"[a-z]+", caption.lower()))
        if named and not (named in words):
            scene_only += 1  # scene-only captions name no action at all
            continue
        if named:
            assert caps.swap_left_right(named) not in words, caption
    assert scene_only / len(samples) < 0.1
    assert len(set(samples.captions)) > 0.9 * len(samples)  # many templates, subjects and scenes
    scenes = set(caps._SCENES).union(*caps._ACTION_SCENES.values())
    assert sum(any(s in c.lower() for s in scenes) for c in samples.captions) > 0.4 * len(samples)


def test_subjects_match_the_drawn_body():
    rng = np.random.default_rng(0)
    n = 2000
    female, child = rng.random(n) < 0.5, rng.random(n) < 0.2
    text = caps.make_captions(rng, ["standing"] * n, [None] * n, ["front"] * n, female, child)
    for caption, fe, ch in zip(text, female, child):
        words = set(re.findall(r"[a-z]+", caption.lower()))
        if fe:
            assert not words & {"man", "guy", "boy", "his", "gentleman"}, caption
        else:
            assert not words & {"woman", "lady", "girl", "her"}, caption
        if not ch:
            assert not words & {"boy", "girl", "kid", "child"}, caption


def test_caption_for_and_example_prompts():
    rng = np.random.default_rng(0)
    for action in ACTIONS:
        text = caption_for_all(action, rng)
        side = split_action(action)[1]
        assert any(side in t for t in text) if side else True
        phrases = [phrase.split("{")[0].split()[0] for phrase in caps.ACTION_PHRASES[split_action(action)[0]]]
        words = phrases + [caps._PRESENT[w] for w in phrases if w in caps._PRESENT]
        assert all(any(word in t for word in words) for t in text), text  # a prompt names its action
    prompts = caps.example_prompts()
    assert len(prompts) == len(ACTIONS) and "left" in prompts[ACTIONS.index("waving_left")]
    with pytest.raises(ValueError, match="unknown action"):
        caps.caption_for("dancing", rng)
    with pytest.raises(ValueError, match="unknown actions"):
        caps.example_prompts(["dancing"])


def test_present_tense_covers_every_participle():
    tables = list(caps.ACTION_PHRASES.values()) + list(phrases.EXTRAS.values())
    leading = {phrase.split()[0] for table in tables for phrase in table}
    assert {word for word in leading if word.endswith("ing")} <= set(caps._PRESENT)
    assert caps._present("standing still") == "stands still" and caps._present("on {pos} knees") == "is on {pos} knees"
    assert caps._present("power walking") == "power walks" and caps._present("seated") == "is seated"


# The words that name an adult, a child, a man or a woman, and plural or second people.
ADULT_WORDS = {"man", "woman", "guy", "lady", "gentleman", "businessman", "businesswoman", "father", "dad", "mother",
               "mom", "grandfather", "grandmother", "adult", "elderly", "older", "teenager", "teen", "policeman",
               "policewoman", "groom", "bride", "waiter", "waitress", "fisherman", "nurse", "doctor", "commuter",
               "bearded", "beard", "mustache", "middle"}
CHILD_WORDS = {"boy", "girl", "kid", "child", "toddler", "schoolboy", "schoolgirl", "preschooler", "youngster"}
MALE_WORDS = {"man", "guy", "boy", "his", "gentleman", "businessman", "father", "dad", "grandfather", "policeman",
              "fisherman", "groom", "waiter", "schoolboy", "beard", "mustache", "bearded", "tie"}
FEMALE_WORDS = {"woman", "lady", "girl", "her", "businesswoman", "mother", "mom", "grandmother", "policewoman", "bride",
                "waitress", "schoolgirl", "dress", "skirt", "blouse", "sundress"}
MANY_PEOPLE = {"two", "three", "people", "men", "women", "couple", "group", "crowd", "team", "friends", "they", "them",
               "children", "kids", "boys", "girls", "family", "others", "everyone", "crowds"}


@pytest.fixture(scope="module")
def drawn_captions():
    """10,000 captions with their action, side, sex and age, drawn as the generator does."""
    rng = np.random.default_rng(0)
    n = 10_000
    actions = rng.choice(ACTIONS, n)
    sides = [split_action(a)[1] or ("left" if rng.random() < 0.5 else "right") if split_action(a)[0] in ASYMMETRIC
             else split_action(a)[1] for a in actions]
    facings = rng.choice(list(FACINGS), n)
    female, child = rng.random(n) < 0.5, rng.random(n) < 0.15
    return caps.make_captions(rng, actions, sides, facings, female, child), actions, sides, female, child


def test_every_action_has_many_phrases_details_and_a_scene_set():
    for key, table in caps.ACTION_PHRASES.items():
        assert len(table) >= 25 and len(set(table)) == len(table), key
        assert len([p for p in table if p not in phrases.ADULT_ONLY]) >= 20, key  # what a child body gets
        assert len(phrases.DETAILS[key]) >= 6 and key in phrases.EXTRAS, key
    assert set(phrases.DETAILS) == set(caps.ACTION_PHRASES) and set(phrases.ACTION_SCENES) <= set(caps.ACTION_PHRASES)
    assert len(caps._SCENES) >= 100 and len(phrases.NEUTRAL) >= 50


def test_sided_phrases_name_their_side_and_nothing_else_does():
    sided = {split_action(a)[0] for a in ACTIONS if split_action(a)[1]}
    assert sided == {"waving", "raise_arm", "pointing", "kicking"}
    for key, table in caps.ACTION_PHRASES.items():
        assert all(("{side}" in p) == (key in sided) for p in table), key
        assert all(p.split()[0][0] != "{" for p in table), key  # a phrase leads with a word
    for key, table in phrases.DETAILS.items():
        assert all("{side}" not in d or key in sided for d in table), key  # unsided details never name a side
    text = " ".join(str(table) for name, table in vars(phrases).items() if name.isupper() or name.startswith("_A"))
    text += str(caps._VIEWS.values()) + str(caps._FRAMES) + str(caps._SCENE_ONLY)
    assert not re.search(r"\b(left|right)\b", text)  # every side word comes from {side}


def test_generated_captions_are_varied_and_fast(drawn_captions):
    import time

    captions, actions, sides, female, child = drawn_captions
    assert len(set(captions)) > 0.99 * len(captions)
    words = {w for c in captions for w in re.findall(r"[a-z'-]+", c.lower())}
    assert len(words) > 900
    lengths = [len(c.split()) for c in captions]
    assert max(lengths) <= 30 and 10 < np.mean(lengths) < 16
    assert not any("{" in c or "}" in c or "  " in c or " ," in c for c in captions)
    start = time.perf_counter()
    caps.make_captions(np.random.default_rng(1), actions, sides, ["front"] * len(actions), female, child)
    assert time.perf_counter() - start < 2.0


def test_sided_captions_carry_exactly_their_side(drawn_captions):
    captions, actions, sides, *_ = drawn_captions
    for caption, action, side in zip(captions, actions, sides):
        said = set(re.findall(r"\b(left|right)\b", caption.lower()))
        key, named = split_action(action)
        if named:
            assert said <= {named}, caption  # (empty only for scene-only captions)
        elif key in ASYMMETRIC:
            assert said <= {side}, caption  # the throwing or punching hand, sometimes
        else:
            assert not said, caption
    named = [c for c, a in zip(captions, actions) if split_action(a)[0] in ASYMMETRIC]
    assert 0.1 < np.mean([bool(re.search(r"\b(left|right)\b", c)) for c in named]) < 0.4  # mostly side-free


def test_bodies_get_fitting_subjects_and_one_person_only(drawn_captions):
    captions, _, _, female, child = drawn_captions
    for caption, fe, ch in zip(captions, female, child):
        words = set(re.findall(r"[a-z]+", caption.lower()))
        assert not words & (MALE_WORDS if fe else FEMALE_WORDS), caption
        assert not words & (ADULT_WORDS if ch else CHILD_WORDS), caption
        assert not words & MANY_PEOPLE, caption
    kids = [c for c, ch in zip(captions, child) if ch]
    assert any("toddler" in c for c in kids) and any("young" in c for c in kids)


def test_caption_shapes_vary_like_coco(drawn_captions):
    captions = drawn_captions[0]

    def share(pattern):
        return np.mean([bool(re.search(pattern, c)) for c in captions])

    assert 0.2 < share(r"^[a-z]") < 0.4  # lower case, no period
    assert 0.45 < share(r"\.$") < 0.65
    assert 0.03 < share(r"^(In|On|At|Under|By|Near|Next|Outside|Inside|Beside|Along|Through|Down|From)\b[^,]*, ") < 0.2
    assert 0.03 < share(r"\b(who|that) (is )?[a-z]+") < 0.2
    assert 0.1 < share(r"^(A photo|A picture|An image|There is|There's|Here is|This is|A [a-z ]*(photo|shot|view))")
    assert 0.15 < share(r", (with )?(his|her|their|one|both) ") < 0.35  # body details after a comma
    assert 0.03 < share(r" (and|while) ") < 0.2
    assert 0.005 < share(r"\b(someone|Someone)\b") < 0.1


def caption_for_all(action, rng, n=30):
    return [caps.caption_for(action, rng) for _ in range(n)]


@pytest.mark.parametrize("text, expected", [
    ("a man waving his left hand", "a man waving his right hand"),
    ("Left hand up, right foot down.", "Right hand up, left foot down."),
    ("LEFT", "RIGHT"),
    ("the leftover bright light", "the leftover bright light"),
    ("front-left", "front-right"),
])
def test_swap_left_right(text, expected):
    assert caps.swap_left_right(text) == expected
