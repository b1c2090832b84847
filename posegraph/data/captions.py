"""Captions for synthetic poses, written the ways people caption photos.

A caption names a subject that fits the drawn body (a woman, a toddler, a nurse, "someone"; a child
body is never called a man), says the action in one of 25-40 ways (plain, informal, or only implied
by an activity, job or situation that puts a body in that pose: "waiting for the bus", "crouched
behind home plate"), and often adds a scene, a time of day, a detail of the drawn body ("with her
knees bent", ", his elbows pointing out"), a second thing the person does ("and smiles") and the view
("seen from behind"). Sentence shapes vary as in COCO: "A man walks ...", "A woman is ...",
"Man in a blue shirt jogging ...", "In a park, a girl ...", "A boy who is ...", "A photo of someone
...", lower case without a period. "left"/"right" are the person's own side and the only side words
a caption ever has, so :func:`swap_left_right` is a flip. Like many COCO captions, some name only the
subject and the scene; their action label stays. The vocabulary lives in :mod:`posegraph.data.phrases`.
"""
from __future__ import annotations

import re

import numpy as np

from posegraph.data import phrases as P
from posegraph.data.poses import split_action

__all__ = ["ACTION_PHRASES", "caption_for", "make_captions", "example_prompts", "swap_left_right", "names_side"]

#: Participle phrases per base action that read after "A man ..." and "A man is ...". {pos} is the
#: possessive pronoun, {side} "left" or "right".
ACTION_PHRASES: dict[str, tuple[str, ...]] = P.ACTION_PHRASES
_PRESENT = P.PRESENT
_SCENES = P.SCENES
_ACTION_SCENES = P.ACTION_SCENES

ADJECTIVE_RATE = 0.15  # subjects with an adjective: "a smiling woman"
DESCRIPTION_RATE = 0.3  # subjects described by clothing or looks: "a man in a blue shirt"
SCENE_RATE = 0.65  # captions that say where (phrases that already say it never get a second place)
ACTION_SCENE_SHARE = 0.4  # of those, places that suit the action ("on the pitcher's mound")
TIME_RATE = 0.12  # a time of day or the weather: "on a sunny afternoon"
DETAIL_RATE = 0.3  # a detail of the drawn body: "with his knees bent"
EXTRA_RATE = 0.1  # a second thing the person does: "and smiles", "while listening to music"
TAIL_RATE = 0.25  # the hand of a throw or punch: "with her left hand"
SCENE_ONLY_RATE = 0.08  # captions that describe only the subject and scene, as COCO's often do
VIEW_RATE = 0.15  # captions that mention the view
MAX_WORDS = 25  # longer captions lose their second activity, then their detail

_VIEWS = {  # facing -> phrases; three-quarter views go unmentioned
    "front": (", facing the camera", ", facing forward", " facing the camera", ", looking toward the camera"),
    "back": (", seen from behind", " with {pos} back to the camera", ", from behind", ", facing away from the camera",
             ", {pos} back to the camera"),
    "left": (", seen from the side", ", in profile", ", from the side", " in profile", ", side view"),
    "right": (", seen from the side", ", in profile", ", from the side", " in profile", ", side view"),
}
_FRAMES = (  # lead-ins of noun-phrase captions: "A photo of a man sitting on a bench."
    "A photo of", "A picture of", "An image of", "There is", "There's", "Here is", "A shot of", "A snapshot of",
    "A candid photo of", "A black and white photo of", "A blurry photo of", "A view of", "A photograph of",
    "An old photo of", "This is", "A color photo of",
)
# Sentence shapes, by cumulative probability; "scene_first" and "subject_scene" need a place.
_SHAPES = ((0.42, "plain"), (0.56, "frame"), (0.70, "scene_first"), (0.78, "subject_scene"), (0.88, "relative"),
           (1.0, "bare"))
_SCENE_ONLY = ("{A} {scene}.", "{A} next to {scene_object}.", "There is {a} {scene}.", "A picture of {a} {scene}.",
               "{a} {scene}", "A photo of {a} {scene}.")
_WEATHER = frozenset({"at night", "in the sunshine", "in light rain", "under a blue sky", "in the snow"})
_POSSESSIVE = {"man": "his", "boy": "his", "woman": "her", "girl": "her"}
_N_DRAWS = 24  # uniform numbers per caption


def _article(noun: str) -> str:
    if noun.startswith("someone"):
        return noun
    vowel = noun[0] in "aeiou" and not noun.startswith(("uni", "use", "one", "eu"))
    return ("an " if vowel or noun.startswith(("hour", "honest")) else "a ") + noun


def _pools():
    """Subjects, phrases and accessories per body and action, with what does not fit left out."""
    subjects, phrases = {}, {}
    for sex in P.SUBJECTS:
        child = sex in ("boy", "girl")
        for key in ACTION_PHRASES:
            drop = (P.ELDERLY | P.TODDLER) if key in P.STRENUOUS else frozenset()
            special = P.ACTION_SUBJECTS.get(key, ())
            if child:
                special = tuple(f"young {noun}" for noun in special if noun not in P.ADULT_ROLES)
            neutral = P.CHILD_NEUTRAL if child else P.NEUTRAL
            subjects[sex, key] = (tuple(n for n in P.SUBJECTS[sex] if n not in drop),
                                  tuple(n for n in neutral if n not in drop), special)
            phrases[sex, key] = tuple(p for p in ACTION_PHRASES[key] if not (child and p in P.ADULT_ONLY))
    accessories, garments = {}, {}
    for sex in P.SUBJECTS:
        child, female = sex in ("boy", "girl"), sex in ("woman", "girl")
        own = P.ACCESSORIES["female" if female else "male"]
        accessories[sex] = tuple(a for a in P.ACCESSORIES["any"] + own if not (child and a in P.ADULT_ACCESSORIES))
        garments[sex] = P.GARMENTS["any"] + P.GARMENTS["female" if female else "male"]
    return subjects, phrases, accessories, garments


_SUBJECT_POOLS, _PHRASE_POOLS, _ACCESSORIES, _GARMENTS = _pools()
# Phrases that already say where they happen ("sitting on a bench"): no second place; phrases of a
# sport or game: only their action's own places.
_PLACED = frozenset(p for ps in ACTION_PHRASES.values() for p in ps if P.PLACE_WORDS & set(re.findall(r"[a-z]+", p)))
_SPORTY = frozenset(p for ps in ACTION_PHRASES.values() for p in ps if P.SPORT_WORDS & set(re.findall(r"[a-z]+", p)))


def _pick(seq, x: float):
    return seq[int(x * len(seq))]


def _description(sex: str, x: float, y: float, z: float) -> str:
    """What the subject wears or carries, from three uniform numbers."""
    if x < 0.5:
        garment = _article(f"{_pick(P.COLORS, y)} {_pick(_GARMENTS[sex], z)}")
        return f"in {garment}" if x < 0.3 else f"wearing {garment}"
    if x < 0.6:
        return f"wearing {_article(f'{_pick(P.COLORS, y)} {_pick(P.HEADWEAR, z)}')}"
    return _pick(_ACCESSORIES[sex], z)


def _caption(action: str, side: str | None, facing: str, sex: str, u: np.ndarray) -> str:
    """One caption from ``_N_DRAWS`` uniform numbers ``u`` in [0, 1) (so a batch is drawn in one call)."""
    key = split_action(action)[0]
    noun, pos = _subject(key, sex, u)
    subject = _article(noun)
    if u[4] < SCENE_ONLY_RATE:
        text = _pick(_SCENE_ONLY, u[5]).format(a=subject, A=subject[0].upper() + subject[1:],
                                               scene=_pick(_SCENES, u[3]), scene_object=_pick(P.SCENE_OBJECTS, u[6]))
        return text.format(pos=pos, side=side)

    phrase = _pick(_PHRASE_POOLS[sex, key], u[6])
    act = phrase
    if key in P.HAND_TAILS and phrase not in P.NO_TAIL and u[7] < TAIL_RATE:
        act += _pick(P.HAND_TAILS[key], u[7] / TAIL_RATE)
    where = _where(key, phrase in _PLACED, phrase in _SPORTY, u)
    detail = _pick(P.DETAILS[key], u[15]) if u[14] < DETAIL_RATE else ""
    if detail and _repeats(detail, act):  # not "flagging a bus with his left hand, his left hand up high"
        detail = ""
    extra = _pick(P.EXTRAS[key], u[19]) if u[18] < EXTRA_RATE else ""
    if extra and extra.split()[0] == act.split()[0]:  # not "sleeping in bed and sleeping"
        extra = ""

    shape = next(name for p, name in _SHAPES if u[9] < p)
    no_place = not where or shape == "subject_scene" and where.startswith("from")  # not "A man from a porch waves"
    if shape in ("scene_first", "subject_scene") and no_place:
        shape = "plain"
    form = "part" if shape in ("frame", "bare") else ("part", "prog", "pres")[int(u[12] * 3)]
    if shape == "subject_scene" and form == "prog":
        form = "pres"
    verb = {"part": act, "prog": f"is {act}", "pres": _present(act)}[form]
    if shape == "relative":  # "a man who sits ...", "a man who is sitting ...", "a man that is sitting ..."
        if u[12] < 0.3:
            verb, form = f"who {_present(act)}", "pres"
        else:
            verb, form = f"{'that' if u[12] > 0.85 else 'who'} is {act}", "part"
    view = _pick(_VIEWS[facing], u[8] / VIEW_RATE) if facing in _VIEWS and u[8] < VIEW_RATE else ""
    # The detail goes after the subject ("a man with his knees bent squats") or at the end; not after
    # a described subject or in a relative clause, and a phrase with a "with" takes it after a comma.
    front_ok = shape != "relative" and " with " not in act and u[11] >= DESCRIPTION_RATE
    placement = u[16] if front_ok else 0.2 + 0.8 * u[16]
    while True:
        text = _assemble(shape, form, u, subject, noun, verb, where, extra, detail, placement, act) + view
        if len(text.split()) <= MAX_WORDS or not (extra or detail):
            break
        extra, detail = ("", detail) if extra else ("", "")
    style = u[21]  # lower case without a period, capitalised without one, or a sentence
    text = text if style < 0.3 else text[0].upper() + text[1:]
    text = text if style < 0.45 else text + "."
    return text.format(pos=pos, side=side)


def _subject(key: str, sex: str, u: np.ndarray) -> tuple[str, str]:
    """The subject without its article ("smiling nurse in a blue coat") and its possessive pronoun."""
    own, neutral, special = _SUBJECT_POOLS[sex, key]
    gendered = u[1] < 0.5
    if gendered:
        noun = _pick(own, u[0])
    elif special and u[1] < 0.62:
        noun = _pick(special, u[0])
    else:
        noun = _pick(neutral, u[0])
    if u[10] < ADJECTIVE_RATE and not noun.startswith(P.NO_ADJECTIVE):
        noun = f"{_pick(P.ADJECTIVES[sex], u[10] / ADJECTIVE_RATE)} {noun}"
    if u[11] < DESCRIPTION_RATE:
        noun = f"{noun} {_description(sex, u[11] / DESCRIPTION_RATE, u[22], u[23])}"
    return noun, _POSSESSIVE[sex] if gendered or u[2] < 0.5 else "their"


def _where(key: str, placed: bool, sporty: bool, u: np.ndarray) -> str:
    """A place, a place and a time, a time, or nothing. A phrase that names its place gets a time at
    most; one of a sport or game only a place of its action's own."""
    where, own = "", _ACTION_SCENES.get(key, ())
    if u[13] < SCENE_RATE and not placed:
        x = u[13] / SCENE_RATE
        if sporty:
            where = _pick(own, x) if own else ""
        else:
            where = _pick(own, x / ACTION_SCENE_SHARE) if own and x < ACTION_SCENE_SHARE else _pick(_SCENES, u[3])
    rate = TIME_RATE * (2 if placed else 1)
    if u[17] < rate and where not in _WEATHER:
        where = f"{where} {_pick(P.TIMES, u[17] / rate)}".strip()
    return where


def _assemble(shape, form, u, subject, noun, verb, where, extra, detail, placement, act) -> str:
    """The caption's words in the order of ``shape``, before the view."""
    front, end = "", ""
    if detail:
        if placement < 0.2:
            front = f" with {detail}"
        elif placement < 0.5 or " with " in act:
            end = f", with {detail}" if placement < 0.5 else f", {detail}"
        else:
            end = f", {detail}" if placement < 0.8 else f" with {detail}"
    if extra:
        joined = "while" if shape in ("plain", "scene_first") and u[18] < EXTRA_RATE / 2 else "and"
        extra = f" {joined} {_present(extra) if form == 'pres' and joined == 'and' else extra}"
    place = f" {where}" if where else ""
    who = f"{subject}{front}"
    if shape in ("plain", "relative"):
        text = f"{who} {verb}{place}"
    elif shape == "frame":
        text = f"{_pick(_FRAMES, u[20])} {who} {verb}{place}"
    elif shape == "scene_first":
        text = f"{where}, {who} {verb}"
    elif shape == "subject_scene":
        text = f"{who}{place} {verb}"
    else:  # bare: "Man in a blue shirt jogging along the river"
        text = f"{noun}{front} {verb}{place}"
    return text + extra + end


_BODY_WORDS = frozenset({"arm", "arms", "hand", "hands", "foot", "feet", "leg", "legs", "knee", "knees", "elbow",
                         "elbows", "hip", "hips", "head", "toes", "fist", "fists", "palm", "palms", "finger"})


def _repeats(detail: str, act: str) -> bool:
    """Whether a detail names a body part the phrase names already (its "other" limb aside)."""
    return "other" not in detail and bool(_BODY_WORDS & set(detail.split()) & set(act.split()))


def _present(act: str) -> str:
    """A participle phrase in the third-person present: "standing still" -> "stands still"."""
    for prefix, present in P.PRESENT_PREFIXES.items():
        if act.startswith(prefix):
            return present + act[len(prefix):]
    first, _, rest = act.partition(" ")
    return f"{_PRESENT[first]} {rest}".strip() if first in _PRESENT else f"is {act}"


def _sex(female: bool, child: bool) -> str:
    return ("girl" if female else "boy") if child else ("woman" if female else "man")


def make_captions(rng: np.random.Generator, actions, sides, facings, female, child) -> list[str]:
    """One caption per sample; all arguments are length-``n`` sequences (sides may hold None)."""
    u = rng.random((len(actions), _N_DRAWS))
    return [_caption(a, s, f, _sex(fe, ch), ui) for a, s, f, fe, ch, ui in zip(actions, sides, facings, female, child, u)]


def caption_for(action: str, rng: np.random.Generator, side: str | None = None) -> str:
    """A random prompt for ``action`` (any subject; the side of a sided action id comes from the id).

    Unlike the training captions, a prompt always names the action: never a scene-only caption.
    """
    key, named = split_action(action)
    if key not in ACTION_PHRASES:
        raise ValueError(f"caption_for: unknown action {action!r}; see posegraph.data.synthetic.ACTIONS")
    side = named or side or ("left" if rng.random() < 0.5 else "right")
    u = rng.random(_N_DRAWS)
    u[4] = SCENE_ONLY_RATE + u[4] * (1 - SCENE_ONLY_RATE)
    return _caption(action, side, "front-left", _sex(rng.random() < 0.5, rng.random() < 0.15), u)


_EXAMPLES = {
    "standing": "a man standing", "walking": "a woman walking down the street", "running": "a man running",
    "jumping": "a girl jumping in the air", "sitting": "a woman sitting on a chair", "squatting": "a man squatting down",
    "kneeling": "a woman kneeling on the ground", "lying_down": "a man lying on the grass",
    "waving_left": "a woman waving her left hand", "waving_right": "a man waving his right hand",
    "raise_left_arm": "a man raising his left arm", "raise_right_arm": "a woman raising her right arm",
    "raise_both_arms": "a person raising both arms", "arms_out": "a woman stretching her arms out to the sides",
    "hands_on_hips": "a man with his hands on his hips", "arms_crossed": "a woman crossing her arms",
    "pointing_left": "a man pointing with his left hand", "pointing_right": "a woman pointing with her right hand",
    "kicking_left": "a soccer player kicking with his left leg", "kicking_right": "a man kicking with his right leg",
    "touching_toes": "a woman bending forward to touch her toes", "throwing": "a baseball player throwing a ball",
    "punching": "a boxer punching", "one_leg": "a woman standing on one leg", "handstand": "a boy doing a handstand",
}


def example_prompts(actions=None) -> list[str]:
    """One natural prompt per action, in the order of ``actions`` (default every action, in ``ACTIONS`` order)."""
    unknown = [a for a in actions or () if a not in _EXAMPLES]
    if unknown:
        raise ValueError(f"example_prompts: unknown actions {unknown}; see posegraph.data.synthetic.ACTIONS")
    return [_EXAMPLES[a] for a in (_EXAMPLES if actions is None else actions)]


_SWAP = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def swap_left_right(text: str) -> str:
    """Swap the words "left" and "right" (keeping their case), as a horizontal flip of the picture does."""

    def swap(match: re.Match) -> str:
        word = match.group(0)
        other = "right" if word.lower() == "left" else "left"
        return other.upper() if word.isupper() else other.capitalize() if word[0].isupper() else other

    return _SWAP.sub(swap, text)


def names_side(text: str) -> bool:
    """Whether ``text`` says "left" or "right" (as a word, any case): the words a horizontal flip swaps."""
    return _SWAP.search(text) is not None
