"""Captions for synthetic poses: templates, paraphrases, subjects and COCO-like scenes.

A caption names a subject that fits the drawn body (a woman, a boy, or a neutral "person",
"player", ...), one of several paraphrases of the action ("left"/"right" are the person's own side),
often a scene ("on a tennis court", "next to a tree") and sometimes the view ("seen from behind").
Like many COCO captions, some name only the subject and the scene; their action label stays.
"""
from __future__ import annotations

import re

import numpy as np

from posegraph.data.poses import split_action

__all__ = ["ACTION_PHRASES", "caption_for", "make_captions", "example_prompts", "swap_left_right"]

# Participle phrases that read after "A man ..." and "A man is ...". {pos} is the possessive
# pronoun, {side} "left" or "right".
ACTION_PHRASES: dict[str, tuple[str, ...]] = {
    "standing": ("standing", "standing still", "standing up straight", "standing with {pos} arms at {pos} sides",
                 "standing upright", "standing and looking ahead", "standing around", "posing for a photo",
                 "waiting quietly", "standing tall", "standing in place", "staying on {pos} feet"),
    "walking": ("walking", "walking along", "strolling", "walking forward", "taking a walk", "walking down the path",
                "striding along", "walking across the street", "wandering around", "stepping forward",
                "heading down the road", "walking to work", "pacing"),
    "running": ("running", "jogging", "sprinting", "running fast", "running at full speed", "going for a run",
                "dashing ahead", "racing down the track", "running a race", "running down the street",
                "jogging through the park", "hurrying along"),
    "jumping": ("jumping", "jumping in the air", "leaping into the air", "jumping up with {pos} arms raised",
                "jumping for joy", "doing a big jump", "springing into the air", "leaping up high",
                "jumping up and down", "bouncing in the air"),
    "sitting": ("sitting", "sitting down", "sitting on a chair", "sitting on a bench", "seated on a chair",
                "sitting on a stool", "sitting on a couch", "sitting at a table", "sitting on the steps",
                "sitting in an armchair", "resting on a bench", "taking a seat"),
    "squatting": ("squatting", "squatting down", "crouching", "crouching down", "doing a deep squat",
                  "squatting low to the ground", "hunkering down", "crouching low", "squatting with {pos} heels down"),
    "kneeling": ("kneeling", "kneeling down", "kneeling on the ground", "kneeling on the floor", "on {pos} knees",
                 "dropping to one knee", "kneeling in the grass", "getting down on {pos} knees"),
    "lying_down": ("lying down", "lying on the ground", "lying on the grass", "lying on the floor", "laying down",
                   "resting on the ground", "stretched out on the ground", "sleeping on the floor",
                   "napping on the grass", "lying face up", "sunbathing", "lying on a blanket"),
    "waving": ("waving {pos} {side} hand", "waving with {pos} {side} hand", "waving hello with {pos} {side} hand",
               "waving {pos} {side} arm", "waving with the {side} hand", "giving a wave with {pos} {side} hand",
               "saying hi with {pos} {side} hand", "waving farewell with {pos} {side} hand"),
    "raise_arm": ("raising {pos} {side} arm", "raising {pos} {side} hand", "holding {pos} {side} arm up",
                  "putting {pos} {side} hand up", "reaching up with {pos} {side} arm",
                  "lifting {pos} {side} arm above {pos} head", "sticking {pos} {side} hand in the air",
                  "stretching {pos} {side} arm up high"),
    "raise_both_arms": ("raising both arms", "raising both hands", "holding both arms up",
                        "holding {pos} arms up in the air", "putting both hands up",
                        "lifting {pos} arms above {pos} head", "reaching up with both arms",
                        "cheering with both arms up", "throwing both hands in the air", "celebrating with arms up",
                        "stretching both arms toward the sky"),
    "arms_out": ("stretching {pos} arms out to the sides", "holding {pos} arms out wide", "spreading {pos} arms wide",
                 "extending both arms to the sides", "making a T shape with {pos} arms",
                 "balancing with {pos} arms spread out", "standing with outstretched arms",
                 "opening {pos} arms wide"),
    "hands_on_hips": ("putting {pos} hands on {pos} hips", "resting {pos} hands on {pos} hips",
                      "holding {pos} hands on {pos} hips", "posing with {pos} hands on {pos} hips",
                      "keeping {pos} hands on {pos} hips", "standing with {pos} hands on {pos} hips",
                      "standing akimbo"),
    "arms_crossed": ("crossing {pos} arms", "folding {pos} arms", "keeping {pos} arms folded across {pos} chest",
                     "holding {pos} arms crossed", "waiting with {pos} arms crossed",
                     "standing with folded arms", "watching with {pos} arms crossed"),
    "pointing": ("pointing with {pos} {side} hand", "pointing {pos} {side} arm out",
                 "pointing at something with {pos} {side} hand", "pointing into the distance with {pos} {side} arm",
                 "pointing with the {side} index finger", "showing the way with {pos} {side} arm",
                 "gesturing ahead with {pos} {side} hand"),
    "kicking": ("kicking with {pos} {side} leg", "kicking {pos} {side} leg forward",
                "kicking a ball with {pos} {side} foot", "doing a front kick with {pos} {side} leg",
                "kicking high with the {side} leg", "swinging {pos} {side} leg up",
                "booting a ball with {pos} {side} foot", "striking a ball with the {side} foot"),
    "touching_toes": ("touching {pos} toes", "bending forward to touch {pos} toes", "bending over",
                      "bending down to touch the ground", "reaching for {pos} toes", "stretching {pos} hamstrings",
                      "folding forward at the waist", "bending down low", "reaching down to {pos} feet"),
    "throwing": ("throwing a ball", "throwing a frisbee", "pitching a baseball", "throwing something",
                 "about to throw a ball", "winding up to throw", "tossing a ball", "hurling a ball",
                 "making a throw", "pitching the ball"),
    "punching": ("punching", "punching the air", "boxing", "punching forward", "jabbing at a target",
                 "sparring", "throwing a punch", "hitting a punching bag", "shadow boxing", "striking with a fist"),
    "one_leg": ("standing on one leg", "balancing on one leg", "standing on one foot", "balancing on one foot",
                "lifting one leg off the ground", "holding a one-legged balance", "doing a tree pose",
                "balancing with one knee raised", "standing like a flamingo", "raising one knee up"),
    "handstand": ("doing a handstand", "standing on {pos} hands", "balancing upside down on {pos} hands",
                  "upside down in a handstand", "performing a handstand", "walking on {pos} hands",
                  "flipping upside down onto {pos} hands", "holding a handstand"),
}
# Third-person present forms of the phrases' leading participles ("A man stands in a park."); a phrase
# led by another word takes "is" ("A man is on his knees.").
_PRESENT = {
    "balancing": "balances", "bending": "bends", "booting": "boots", "bouncing": "bounces", "boxing": "boxes",
    "celebrating": "celebrates", "cheering": "cheers", "crossing": "crosses", "crouching": "crouches",
    "dashing": "dashes", "doing": "does", "dropping": "drops", "extending": "extends", "flipping": "flips", "folding": "folds",
    "gesturing": "gestures", "getting": "gets", "giving": "gives", "going": "goes", "heading": "heads",
    "hitting": "hits", "holding": "holds", "hunkering": "hunkers", "hurling": "hurls", "hurrying": "hurries",
    "jabbing": "jabs", "jogging": "jogs", "jumping": "jumps", "keeping": "keeps", "kicking": "kicks",
    "kneeling": "kneels", "laying": "lays", "leaping": "leaps", "lifting": "lifts", "lying": "lies",
    "making": "makes", "napping": "naps", "opening": "opens", "pacing": "paces", "performing": "performs",
    "pitching": "pitches", "pointing": "points", "posing": "poses", "punching": "punches", "putting": "puts",
    "racing": "races", "raising": "raises", "reaching": "reaches", "resting": "rests", "running": "runs",
    "saying": "says", "showing": "shows", "sitting": "sits", "sleeping": "sleeps", "sparring": "spars",
    "spreading": "spreads", "springing": "springs", "sprinting": "sprints", "squatting": "squats",
    "standing": "stands", "staying": "stays", "stepping": "steps", "sticking": "sticks", "stretching": "stretches",
    "striding": "strides", "striking": "strikes", "strolling": "strolls", "sunbathing": "sunbathes",
    "swinging": "swings", "taking": "takes", "throwing": "throws", "tossing": "tosses", "touching": "touches",
    "waiting": "waits", "walking": "walks", "wandering": "wanders", "watching": "watches", "waving": "waves",
    "winding": "winds",
}
# An optional tail naming the hand for the one-handed unsided actions.
_HAND_TAIL = {"throwing": " with {pos} {side} hand", "punching": " with {pos} {side} fist"}

_SUBJECTS = {  # by body: (male adult, female adult, boy, girl)
    "man": ("man", "guy", "young man", "older man", "gentleman", "man"),
    "woman": ("woman", "lady", "young woman", "older woman", "woman"),
    "boy": ("boy", "little boy", "young boy", "kid", "child"),
    "girl": ("girl", "little girl", "young girl", "kid", "child"),
}
_NEUTRAL = ("person", "player", "dancer", "athlete", "person", "young person")
_ACTION_SUBJECTS = {
    "running": ("runner", "jogger"), "throwing": ("baseball player", "pitcher"), "kicking": ("soccer player",
    "martial artist"), "punching": ("boxer", "fighter"), "handstand": ("gymnast", "acrobat"),
    "one_leg": ("yoga student", "dancer"), "walking": ("pedestrian", "hiker"), "arms_out": ("dancer", "performer"),
}
_SCENES = (
    "in a park", "on a tennis court", "next to a tree", "on a city street", "on a sidewalk", "in a field",
    "on the beach", "in a living room", "in a kitchen", "in front of a building", "on a grassy lawn", "in a gym",
    "on a stage", "near a fence", "in a parking lot", "in the snow", "in an office", "on a baseball field",
    "on a soccer field", "in front of a brick wall", "by the water", "in a backyard", "on a dirt road",
    "at a train station", "under a blue sky", "in a classroom", "at the beach", "on a basketball court",
    "in a hallway", "in an airport terminal", "on a rooftop", "in a garden", "by a lake", "in a studio", "on a bridge",
    "in light rain", "at a bus stop", "in a shopping mall", "on a hiking trail", "in a yoga studio", "at a market",
    "on a track", "in a bedroom", "outside a cafe", "at night", "in the sunshine",
)
# What a subject wears or carries, and how they look: "A man in a red shirt ...", "A smiling girl ...".
_DESCRIPTIONS = (
    "in an orange shirt", "in a blue jacket", "wearing a hat", "wearing sunglasses", "in a black coat",
    "with a backpack", "in a striped shirt", "in jeans", "in a green sweater", "wearing a cap", "in a white t-shirt",
    "in a purple raincoat", "with short hair", "in sports clothes", "in a uniform", "in shorts", "with long hair",
    "in a gray hoodie", "wearing glasses", "in a suit",
)
_ADJECTIVES = ("smiling", "happy", "tall", "cheerful", "sporty", "relaxed", "slim", "young")
DESCRIPTION_RATE = 0.3  # subjects described by clothing or looks
ADJECTIVE_RATE = 0.15
PRESENT_RATE = 0.35  # action phrases in the present tense: "A man stands ..."
_VIEWS = {  # facing -> phrases; three-quarter views go unmentioned
    "front": (", facing the camera",), "back": (", seen from behind", " with {pos} back to the camera"),
    "left": (", seen from the side", ", in profile"), "right": (", seen from the side", ", in profile"),
}
_TEMPLATES = (
    "{A} {act} {scene}.", "{A} is {act} {scene}.", "{A} {scene} {act}.", "A photo of {a} {act} {scene}.",
    "{A} {act}.", "{a} {act}", "{A} is {act}.", "There is {a} {act} {scene}.", "An image of {a} {act}.",
)
_PRESENT_TEMPLATES = ("{A} {act} {scene}.", "{A} {act}.", "{a} {act} {scene}", "{A} {scene} {act}.")
_SCENE_ONLY = ("{A} {scene}.", "{A} next to {scene_object}.", "There is {a} {scene}.", "A picture of {a} {scene}.")
_SCENE_OBJECTS = ("a tree", "a car", "a fence", "a wall", "a window", "a bicycle", "a bus stop", "a door")
SCENE_ONLY_RATE = 0.08  # captions that describe only the scene, as COCO's often do
VIEW_RATE = 0.15  # captions that mention the view


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _caption(action: str, side: str | None, facing: str, sex: str, u: np.ndarray) -> str:
    """One caption from thirteen uniform numbers ``u`` in [0, 1) (so a batch is drawn in one call)."""
    pick = lambda seq, x: seq[int(x * len(seq))]  # noqa: E731
    key = split_action(action)[0]
    own = _SUBJECTS[sex]
    neutral = _NEUTRAL + _ACTION_SUBJECTS.get(key, ()) if sex in ("man", "woman") else own
    subject = pick(own, u[0]) if u[1] < 0.65 else pick(neutral, u[0])
    gendered = subject in _SUBJECTS[sex] and subject not in ("kid", "child")
    pos = ("her" if sex in ("woman", "girl") else "his") if gendered or u[2] < 0.5 else "their"
    if u[10] < ADJECTIVE_RATE and not subject.startswith(("young", "older", "little")):
        subject = f"{pick(_ADJECTIVES, u[10] / ADJECTIVE_RATE)} {subject}"
    if u[11] < DESCRIPTION_RATE:
        subject = f"{subject} {pick(_DESCRIPTIONS, u[11] / DESCRIPTION_RATE)}"
    scene = pick(_SCENES, u[3])
    if u[4] < SCENE_ONLY_RATE:
        return pick(_SCENE_ONLY, u[5]).format(a=_article(subject), A=_article(subject).capitalize(), scene=scene,
                                              scene_object=pick(_SCENE_OBJECTS, u[6]))
    act = pick(ACTION_PHRASES[key], u[6])
    if key in _HAND_TAIL and u[7] < 0.3:
        act += _HAND_TAIL[key]
    if facing in _VIEWS and u[8] < VIEW_RATE:
        act += pick(_VIEWS[facing], u[5])
    if u[12] < PRESENT_RATE:
        template = pick(_PRESENT_TEMPLATES, u[9])
        act = _present(act)
    else:
        template = pick(_TEMPLATES, u[9])
    if template.endswith("{scene}.") and act.count(",") > 0:  # keep the view phrase last
        template = template.replace(" {scene}.", ".")
    text = template.format(a=_article(subject), A=_article(subject).capitalize(), act=act, scene=scene)
    return text.format(pos=pos, side=side)


def _present(act: str) -> str:
    """A participle phrase in the third-person present: "standing still" -> "stands still"."""
    first, _, rest = act.partition(" ")
    return f"{_PRESENT[first]} {rest}".strip() if first in _PRESENT else f"is {act}"


def _sex(female: bool, child: bool) -> str:
    return ("girl" if female else "boy") if child else ("woman" if female else "man")


def make_captions(rng: np.random.Generator, actions, sides, facings, female, child) -> list[str]:
    """One caption per sample; all arguments are length-``n`` sequences (sides may hold None)."""
    u = rng.random((len(actions), 13))
    return [_caption(a, s, f, _sex(fe, ch), ui) for a, s, f, fe, ch, ui in zip(actions, sides, facings, female, child, u)]


def caption_for(action: str, rng: np.random.Generator, side: str | None = None) -> str:
    """A random prompt for ``action`` (any subject; the side of a sided action id comes from the id).

    Unlike the training captions, a prompt always names the action: never a scene-only caption.
    """
    key, named = split_action(action)
    if key not in ACTION_PHRASES:
        raise ValueError(f"caption_for: unknown action {action!r}; see posegraph.data.synthetic.ACTIONS")
    side = named or side or ("left" if rng.random() < 0.5 else "right")
    u = rng.random(13)
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
