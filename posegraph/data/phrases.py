"""The caption generator's vocabulary: action phrases, pose details, subjects, scenes and clothes.

Every table is plain English written to be true to the pose :mod:`posegraph.data.poses` draws for
the action (a sitter's hands lie in the lap, a runner's elbows are bent, a kicker leans back), so a
caption may say it. ``{pos}`` is the possessive pronoun, ``{side}`` "left" or "right" (the person's
own side); no other "left" or "right" appears anywhere, so a horizontal flip only swaps those.
:mod:`posegraph.data.captions` assembles the sentences.
"""
from __future__ import annotations

# Participle phrases that read after "A man ..." and "A man is ...": plain ways to say the action,
# informal ones and activities, jobs or situations that put a body in that pose. Sided actions name
# their side in every phrase.
ACTION_PHRASES: dict[str, tuple[str, ...]] = {
    "standing": (
        "standing", "standing still", "standing up straight", "standing with {pos} arms at {pos} sides",
        "standing upright", "standing and looking ahead", "standing around", "posing for a photo",
        "waiting quietly", "standing tall", "standing in place", "staying on {pos} feet", "waiting for the bus",
        "waiting in line", "waiting to cross the street", "waiting for a ride", "standing on the corner",
        "hanging around", "just standing there", "standing alone", "standing at attention", "standing guard",
        "keeping watch", "killing time", "looking around", "gazing into the distance", "admiring the view",
        "taking in the scenery", "lingering by the door", "pausing for a moment", "getting {pos} picture taken",
        "loitering outside", "waiting on the platform", "standing by the curb", "staring straight ahead",
    ),
    "walking": (
        "walking", "walking along", "strolling", "walking forward", "taking a walk", "walking down the path",
        "striding along", "walking across the street", "wandering around", "stepping forward",
        "heading down the road", "walking to work", "pacing", "walking briskly", "taking a stroll",
        "going for a walk", "walking home", "walking to school", "crossing the road", "hiking up a trail", "hiking",
        "marching along", "window shopping", "sightseeing on foot", "on {pos} way home", "mid-stride",
        "stepping off the curb", "power walking", "ambling along", "sauntering down the street",
        "trudging through the snow", "striding down the hallway", "heading home", "walking past a shop window",
        "commuting on foot", "exploring the city on foot",
    ),
    "running": (
        "running", "jogging", "sprinting", "running fast", "running at full speed", "going for a run",
        "dashing ahead", "racing down the track", "running a race", "running down the street",
        "jogging through the park", "hurrying along", "running hard", "out for a jog", "going for a jog",
        "jogging along the river", "running along the beach", "doing a morning run", "training for a marathon",
        "running a marathon", "competing in a race", "sprinting to the finish line", "running to catch the bus",
        "rushing to catch a train", "in the middle of a run", "running laps", "doing laps around the track",
        "doing sprints", "dashing across the street", "charging ahead", "breaking into a run", "playing tag",
        "running the bases", "running down the field", "chasing after a ball", "jogging with earbuds in",
        "hurrying down the sidewalk",
    ),
    "jumping": (
        "jumping", "jumping in the air", "leaping into the air", "jumping up with {pos} arms raised",
        "jumping for joy", "doing a big jump", "springing into the air", "leaping up high", "jumping up and down",
        "bouncing in the air", "jumping high", "leaping", "hopping up", "mid-jump", "airborne", "getting some air",
        "jumping off the ground", "jumping with excitement", "leaping with joy", "celebrating with a jump",
        "jumping for the camera", "jumping on a trampoline", "leaping for a ball", "jumping up for a rebound",
        "jumping up to block a shot", "doing a cheerleading jump", "hopping into the air", "launching into a jump",
    ),
    "sitting": (
        "sitting", "sitting down", "sitting on a chair", "sitting on a bench", "seated on a chair",
        "sitting on a stool", "sitting on a couch", "sitting at a table", "sitting on the steps",
        "sitting in an armchair", "resting on a bench", "taking a seat", "sitting quietly", "sitting and waiting",
        "seated", "sitting in a chair", "sitting at a desk", "sitting on a park bench",
        "sitting on the edge of the bed", "sitting on a low wall", "perched on a stool", "relaxing in a chair",
        "reading a book", "looking at {pos} phone", "waiting in the waiting room", "waiting for an appointment",
        "taking a break on a bench", "watching television", "sitting on the bus", "riding the train", "knitting",
        "playing a video game", "working on a laptop", "typing on a laptop", "studying at a desk",
        "listening to a lecture", "lounging in a chair", "relaxing on the sofa", "sitting in an office chair",
    ),
    "squatting": (
        "squatting", "squatting down", "crouching", "crouching down", "doing a deep squat",
        "squatting low to the ground", "hunkering down", "crouching low", "squatting with {pos} heels down",
        "in a deep squat", "squatting on {pos} heels", "crouching on the ground", "getting low", "crouched down",
        "down in a crouch", "squatting to pick something up", "reaching for something on the ground",
        "doing squats", "doing a bodyweight squat", "playing catcher behind home plate",
        "crouched behind home plate", "in a catcher's crouch", "weeding the garden", "squatting by the campfire",
        "crouching behind a wall", "squatting to look at something", "crouching to inspect the ground",
        "hunched down low", "holding a low squat", "sinking into a squat",
    ),
    "kneeling": (
        "kneeling", "kneeling down", "kneeling on the ground", "kneeling on the floor", "on {pos} knees",
        "dropping to one knee", "kneeling in the grass", "getting down on {pos} knees", "down on one knee",
        "kneeling in the sand", "kneeling on a mat", "kneeling upright", "resting on {pos} knees",
        "kneeling on a yoga mat", "kneeling on the carpet", "kneeling on the sidewalk", "kneeling in the snow",
        "kneeling in the dirt", "sitting up on {pos} knees", "kneeling tall", "kneeling on a cushion",
        "kneeling by the flower bed", "kneeling on the sidelines", "kneeling in the garden", "down on {pos} knees",
        "kneeling with a straight back",
    ),
    "lying_down": (
        "lying down", "lying on the ground", "lying on the grass", "lying on the floor", "laying down",
        "resting on the ground", "stretched out on the ground", "sleeping on the floor", "napping on the grass",
        "lying face up", "sunbathing", "lying on a blanket", "lying down to rest", "resting on the grass",
        "taking a nap", "napping on the couch", "asleep on the sofa", "stretched out on the sand",
        "lying in the sun", "relaxing on a beach towel", "lounging on the grass", "lying on a yoga mat",
        "lying in bed", "sleeping in bed", "dozing on the lawn", "lying on a picnic blanket",
        "sprawled on the floor", "sprawled out on the grass", "flat on the ground", "stretched out on a bench",
        "catching some sun", "resting after a workout", "lying on the couch", "lying still", "lying flat",
        "lying on {pos} side",
    ),
    "waving": (
        "waving {pos} {side} hand", "waving with {pos} {side} hand", "waving hello with {pos} {side} hand",
        "waving {pos} {side} arm", "waving with the {side} hand", "giving a wave with {pos} {side} hand",
        "saying hi with {pos} {side} hand", "waving farewell with {pos} {side} hand",
        "waving hi with {pos} {side} hand", "saying hello with {pos} {side} hand",
        "giving a friendly wave with {pos} {side} hand", "lifting {pos} {side} hand in a wave",
        "raising {pos} {side} hand to wave", "waving {pos} {side} hand in greeting",
        "waving {pos} {side} hand at the camera", "waving happily with {pos} {side} hand",
        "signaling with {pos} {side} hand", "holding up {pos} {side} hand in a wave",
        "waving {pos} {side} hand in the air", "waving {pos} {side} hand back and forth",
        "giving a little wave with {pos} {side} hand", "waving a greeting with {pos} {side} hand",
        "waving a friendly hello with the {side} hand", "waving from the sidewalk with {pos} {side} hand",
        "hailing a cab with a wave of {pos} {side} hand",
    ),
    "raise_arm": (
        "raising {pos} {side} arm", "raising {pos} {side} hand", "holding {pos} {side} arm up",
        "putting {pos} {side} hand up", "reaching up with {pos} {side} arm",
        "lifting {pos} {side} arm above {pos} head", "sticking {pos} {side} hand in the air",
        "stretching {pos} {side} arm up high", "raising {pos} {side} hand to ask a question",
        "putting {pos} {side} hand up to answer", "volunteering with {pos} {side} hand raised",
        "hailing a taxi with {pos} {side} arm", "flagging down a bus with {pos} {side} hand",
        "holding {pos} {side} hand up high", "stretching {pos} {side} arm overhead",
        "reaching for the sky with {pos} {side} hand", "reaching up high with {pos} {side} hand",
        "raising {pos} {side} fist in the air", "raising {pos} {side} hand to be called on",
        "lifting {pos} {side} hand over {pos} head", "stretching up with {pos} {side} arm",
        "bidding with {pos} {side} hand raised", "holding up {pos} {side} hand", "shooting {pos} {side} hand up",
        "pumping {pos} {side} fist overhead",
    ),
    "raise_both_arms": (
        "raising both arms", "raising both hands", "holding both arms up", "holding {pos} arms up in the air",
        "putting both hands up", "reaching up with both arms", "cheering with both arms up",
        "throwing both hands in the air", "celebrating with arms up", "stretching both arms toward the sky",
        "raising {pos} arms in victory", "cheering with {pos} hands in the air", "holding up both hands",
        "putting {pos} hands up", "reaching for the sky", "stretching {pos} arms overhead",
        "stretching up toward the ceiling", "doing an overhead stretch", "signaling a touchdown",
        "celebrating a win", "raising {pos} hands in triumph", "surrendering with {pos} hands up",
        "worshipping with {pos} arms raised", "dancing with {pos} arms up", "waving both arms in the air",
        "reaching up with both hands", "raising {pos} arms toward the ceiling",
        "lifting both hands over {pos} head", "stretching tall with both arms overhead", "celebrating a goal",
    ),
    "arms_out": (
        "stretching {pos} arms out to the sides", "holding {pos} arms out wide", "spreading {pos} arms wide",
        "extending both arms to the sides", "making a T shape with {pos} arms",
        "balancing with {pos} arms spread out", "standing with outstretched arms", "opening {pos} arms wide",
        "holding {pos} arms straight out to the sides", "spreading {pos} arms like wings", "pretending to fly",
        "pretending to be an airplane", "making an airplane with {pos} arms", "doing a T-pose",
        "stretching {pos} arms wide", "holding both arms out sideways", "reaching out to both sides",
        "extending {pos} arms straight out", "standing with {pos} arms outstretched",
        "posing with {pos} arms spread wide", "spreading {pos} arms out wide",
        "welcoming the sunshine with open arms", "feeling the breeze with {pos} arms spread",
        "balancing on a curb with {pos} arms out", "balancing on a beam", "walking a tightrope",
        "doing arm circles", "showing off {pos} wingspan", "holding {pos} arms level with {pos} shoulders",
    ),
    "hands_on_hips": (
        "putting {pos} hands on {pos} hips", "resting {pos} hands on {pos} hips",
        "holding {pos} hands on {pos} hips", "posing with {pos} hands on {pos} hips",
        "keeping {pos} hands on {pos} hips", "standing with {pos} hands on {pos} hips", "standing akimbo",
        "putting {pos} hands on {pos} waist", "resting {pos} hands on {pos} waist", "striking a superhero pose",
        "doing a superhero pose", "posing like a superhero", "looking confident with {pos} hands on {pos} hips",
        "waiting impatiently with {pos} hands on {pos} hips", "taking a break with {pos} hands on {pos} hips",
        "catching {pos} breath with {pos} hands on {pos} hips", "looking annoyed with {pos} hands on {pos} hips",
        "standing with {pos} hands planted on {pos} hips", "keeping {pos} hands at {pos} waist",
        "surveying the scene with {pos} hands on {pos} hips", "looking around with {pos} hands on {pos} hips",
        "standing in a power pose", "striking a power pose", "placing {pos} hands on {pos} hips",
        "propping {pos} hands on {pos} hips", "standing firm with hands on hips",
    ),
    "arms_crossed": (
        "crossing {pos} arms", "folding {pos} arms", "keeping {pos} arms folded across {pos} chest",
        "holding {pos} arms crossed", "waiting with {pos} arms crossed", "standing with folded arms",
        "watching with {pos} arms crossed", "crossing {pos} arms over {pos} chest",
        "folding {pos} arms across {pos} chest", "standing with {pos} arms folded", "keeping {pos} arms crossed",
        "waiting with arms folded", "looking stern with {pos} arms crossed",
        "looking skeptical with {pos} arms folded", "looking unimpressed with {pos} arms crossed",
        "posing with crossed arms", "posing with {pos} arms folded", "standing cross-armed",
        "listening with {pos} arms crossed", "standing guard with {pos} arms crossed",
        "crossing {pos} arms in front of {pos} body", "looking impatient with {pos} arms crossed",
        "staring ahead with folded arms", "holding {pos} arms tight across {pos} chest", "hugging {pos} own arms",
        "frowning with {pos} arms folded",
    ),
    "pointing": (
        "pointing with {pos} {side} hand", "pointing {pos} {side} arm out",
        "pointing at something with {pos} {side} hand", "pointing into the distance with {pos} {side} arm",
        "pointing with the {side} index finger", "showing the way with {pos} {side} arm",
        "gesturing ahead with {pos} {side} hand", "pointing at something far away with {pos} {side} hand",
        "pointing ahead with {pos} {side} arm", "pointing the way with {pos} {side} hand",
        "giving directions with {pos} {side} arm", "pointing something out with {pos} {side} hand",
        "showing the direction with {pos} {side} hand", "indicating a spot with {pos} {side} arm",
        "directing traffic with {pos} {side} arm", "pointing {pos} {side} finger at something",
        "pointing toward the horizon with {pos} {side} arm", "pointing out a landmark with {pos} {side} hand",
        "extending {pos} {side} arm to point", "signaling with an outstretched {side} arm",
        "pointing across the street with {pos} {side} hand", "holding out {pos} {side} arm to point at something",
        "pointing straight ahead with {pos} {side} hand", "aiming {pos} {side} index finger into the distance",
        "showing where to go with {pos} {side} hand", "motioning with {pos} {side} arm outstretched",
    ),
    "kicking": (
        "kicking with {pos} {side} leg", "kicking {pos} {side} leg forward",
        "kicking a ball with {pos} {side} foot", "doing a front kick with {pos} {side} leg",
        "kicking high with the {side} leg", "swinging {pos} {side} leg up", "booting a ball with {pos} {side} foot",
        "striking a ball with the {side} foot", "kicking {pos} {side} leg up high",
        "taking a shot with {pos} {side} foot", "shooting the ball with {pos} {side} foot",
        "kicking a soccer ball with {pos} {side} foot", "punting a football with {pos} {side} foot",
        "kicking a football with {pos} {side} foot", "doing a high kick with {pos} {side} leg",
        "practicing a front kick with {pos} {side} leg", "doing a karate kick with {pos} {side} leg",
        "lifting {pos} {side} leg high in a kick", "kicking into the air with {pos} {side} foot",
        "swinging {pos} {side} foot at a ball", "kicking out with the {side} leg",
        "raising {pos} {side} leg in a high kick", "taking a penalty kick with {pos} {side} foot",
        "launching the ball with {pos} {side} foot", "clearing the ball with {pos} {side} foot",
        "doing a cancan kick with the {side} leg", "kicking a beach ball with {pos} {side} foot",
    ),
    "touching_toes": (
        "touching {pos} toes", "bending forward to touch {pos} toes", "bending over",
        "bending down to touch the ground", "reaching for {pos} toes", "stretching {pos} hamstrings",
        "folding forward at the waist", "bending down low", "reaching down to {pos} feet",
        "touching the floor with {pos} fingertips", "bending down to {pos} toes", "bending at the waist",
        "doing a forward fold", "doing a toe touch", "doing toe touches", "stretching before a run",
        "warming up with a hamstring stretch", "stretching {pos} legs", "folding over {pos} legs",
        "bending over to pick something up", "reaching down to the ground", "bending way over",
        "bent over at the waist", "doing a standing forward bend", "limbering up", "reaching toward {pos} feet",
        "hanging forward from the waist", "stretching the backs of {pos} legs", "touching the ground",
        "picking something up off the floor", "stretching in a forward bend",
    ),
    "throwing": (
        "throwing a ball", "throwing a frisbee", "pitching a baseball", "throwing something",
        "about to throw a ball", "winding up to throw", "tossing a ball", "hurling a ball", "making a throw",
        "pitching the ball", "throwing a baseball", "throwing a football", "pitching", "getting ready to throw",
        "about to throw", "winding up for a pitch", "throwing a pitch", "delivering a pitch",
        "throwing the ball overhand", "tossing a frisbee", "throwing a snowball", "throwing a rock into the water",
        "hurling a javelin", "throwing a javelin", "cocking {pos} arm back to throw",
        "drawing {pos} arm back to throw", "launching a ball", "getting ready to pitch", "throwing a pass",
        "playing catch", "throwing a ball for the dog",
    ),
    "punching": (
        "punching", "punching the air", "boxing", "punching forward", "jabbing at a target", "sparring",
        "throwing a punch", "hitting a punching bag", "shadow boxing", "striking with a fist", "jabbing",
        "throwing a jab", "landing a punch", "punching straight ahead", "hitting the heavy bag",
        "training at a boxing gym", "working the heavy bag", "practicing {pos} punches", "doing a boxing workout",
        "throwing a straight punch", "striking a target", "punching a pad", "fighting", "practicing kickboxing",
        "doing a karate punch", "punching out at the air", "delivering a punch", "shooting out a jab",
        "training for a fight", "in a fighting stance",
    ),
    "one_leg": (
        "standing on one leg", "balancing on one leg", "standing on one foot", "balancing on one foot",
        "lifting one leg off the ground", "holding a one-legged balance", "balancing with one knee raised",
        "standing like a flamingo", "raising one knee up", "hopping on one foot", "hopping on one leg",
        "standing on one foot for balance", "keeping {pos} balance on one leg", "doing a balance exercise",
        "practicing balance on one leg", "balancing on a single leg", "lifting one foot off the ground",
        "holding one foot up", "doing a yoga balance pose", "posing like a flamingo", "balancing like a flamingo",
        "doing a standing balance pose", "standing on a single foot", "playing hopscotch",
        "doing a dance move on one leg", "striking a crane pose", "on one leg", "teetering on one foot",
        "wobbling on one foot", "holding a balance pose",
    ),
    "handstand": (
        "doing a handstand", "standing on {pos} hands", "balancing upside down on {pos} hands",
        "upside down in a handstand", "performing a handstand", "walking on {pos} hands", "holding a handstand",
        "standing upside down on {pos} hands", "upside down on {pos} hands", "going upside down",
        "turned upside down", "balancing on {pos} hands", "holding {pos} body upside down", "practicing handstands",
        "doing gymnastics", "doing a gymnastics move", "doing a yoga inversion", "in a handstand",
        "showing off a handstand", "doing a trick on {pos} hands", "doing acrobatics",
        "performing an acrobatic trick", "pressing up into a handstand", "doing a hand balance",
        "upside down with {pos} legs in the air", "balancing on {pos} palms",
    ),
}

# Activities a child body does not get ("a little boy commuting on foot").
ADULT_ONLY = frozenset({
    "walking to work", "commuting on foot", "power walking", "training for a marathon", "running a marathon",
    "doing a morning run", "rushing to catch a train", "waiting for an appointment", "working on a laptop",
    "typing on a laptop", "listening to a lecture", "knitting", "riding the train",
    "bidding with {pos} {side} hand raised", "hailing a taxi with {pos} {side} arm",
    "hailing a cab with a wave of {pos} {side} hand", "flagging down a bus with {pos} {side} hand",
    "directing traffic with {pos} {side} arm", "signaling a touchdown", "worshipping with {pos} arms raised",
    "training for a fight", "practicing kickboxing", "sparring", "hurling a javelin", "throwing a javelin",
    "playing catcher behind home plate", "crouched behind home plate", "in a catcher's crouch",
    "doing a cancan kick with the {side} leg", "loitering outside", "standing guard",
    "standing guard with {pos} arms crossed", "killing time",
})

# Third-person present forms of the phrases' leading participles ("A man stands in a park."); a phrase
# led by another word takes "is" ("A man is on his knees.").
PRESENT = {
    "admiring": "admires", "aiming": "aims", "ambling": "ambles", "balancing": "balances", "bending": "bends",
    "bidding": "bids", "booting": "boots", "bouncing": "bounces", "boxing": "boxes", "breaking": "breaks",
    "breathing": "breathes", "carrying": "carries", "catching": "catches", "celebrating": "celebrates",
    "charging": "charges", "chasing": "chases", "cheering": "cheers", "clearing": "clears", "cocking": "cocks",
    "commuting": "commutes", "competing": "competes", "concentrating": "concentrates", "crossing": "crosses",
    "crouching": "crouches", "dancing": "dances", "dashing": "dashes", "daydreaming": "daydreams",
    "delivering": "delivers", "directing": "directs", "doing": "does", "dozing": "dozes", "drawing": "draws",
    "dropping": "drops", "enjoying": "enjoys", "exploring": "explores", "extending": "extends", "feeling": "feels",
    "fighting": "fights", "flagging": "flags", "flipping": "flips", "folding": "folds", "frowning": "frowns",
    "gazing": "gazes", "gesturing": "gestures", "getting": "gets", "giving": "gives", "going": "goes",
    "grinning": "grins", "hailing": "hails", "hanging": "hangs", "having": "has", "heading": "heads",
    "hiking": "hikes", "hitting": "hits", "holding": "holds", "hopping": "hops", "hugging": "hugs",
    "hunkering": "hunkers", "hurling": "hurls", "hurrying": "hurries", "indicating": "indicates", "jabbing": "jabs",
    "jogging": "jogs", "jumping": "jumps", "keeping": "keeps", "kicking": "kicks", "killing": "kills",
    "kneeling": "kneels", "knitting": "knits", "landing": "lands", "laughing": "laughs", "launching": "launches",
    "laying": "lays", "leaping": "leaps", "lifting": "lifts", "limbering": "limbers", "lingering": "lingers",
    "listening": "listens", "loitering": "loiters", "looking": "looks", "lounging": "lounges", "lying": "lies",
    "making": "makes", "marching": "marches", "motioning": "motions", "napping": "naps", "opening": "opens",
    "pacing": "paces", "pausing": "pauses", "performing": "performs", "picking": "picks", "pitching": "pitches",
    "placing": "places", "playing": "plays", "pointing": "points", "posing": "poses", "practicing": "practices",
    "pressing": "presses", "pretending": "pretends", "propping": "props", "pumping": "pumps", "punching": "punches",
    "punting": "punts", "putting": "puts", "racing": "races", "raising": "raises", "reaching": "reaches",
    "reading": "reads", "relaxing": "relaxes", "resting": "rests", "riding": "rides", "running": "runs",
    "rushing": "rushes", "sauntering": "saunters", "saying": "says", "shooting": "shoots", "showing": "shows",
    "sightseeing": "goes sightseeing", "signaling": "signals", "sinking": "sinks", "sitting": "sits",
    "sleeping": "sleeps", "smiling": "smiles", "soaking": "soaks", "sparring": "spars", "spreading": "spreads",
    "springing": "springs", "sprinting": "sprints", "squatting": "squats", "standing": "stands",
    "staring": "stares", "staying": "stays", "stepping": "steps", "sticking": "sticks", "stretching": "stretches",
    "striding": "strides", "striking": "strikes", "strolling": "strolls", "studying": "studies",
    "sunbathing": "sunbathes", "surrendering": "surrenders", "surveying": "surveys", "swinging": "swings",
    "taking": "takes", "teetering": "teeters", "throwing": "throws", "tossing": "tosses", "touching": "touches",
    "training": "trains", "trudging": "trudges", "trying": "tries", "typing": "types", "volunteering": "volunteers",
    "waiting": "waits", "walking": "walks", "wandering": "wanders", "warming": "warms", "watching": "watches",
    "waving": "waves", "wearing": "wears", "weeding": "weeds", "welcoming": "welcomes", "winding": "winds",
    "wobbling": "wobbles", "working": "works", "worshipping": "worships",
}
# Phrases led by two words whose present form is not the first word's: "power walking" -> "power walks".
PRESENT_PREFIXES = {"power walking": "power walks", "window shopping": "window-shops"}

# An optional tail naming the hand for the one-handed unsided actions.
HAND_TAILS = {
    "throwing": (" with {pos} {side} hand", " using {pos} {side} arm", " {side}-handed"),
    "punching": (" with {pos} {side} fist", " with the {side}", " using {pos} {side} arm"),
}

# Phrases that take no hand tail ("training for a fight with his left fist" says nothing right).
NO_TAIL = frozenset({
    "training at a boxing gym", "doing a boxing workout", "practicing kickboxing", "training for a fight",
    "in a fighting stance", "practicing {pos} punches", "playing catch", "throwing a ball for the dog",
    "cocking {pos} arm back to throw", "drawing {pos} arm back to throw", "pitching", "boxing", "fighting",
})

# Details of the drawn body, each an absolute phrase that reads after "with" ("with her knees bent")
# or after a comma ("..., her knees bent"). Sided ones name the acting side or "the other" limb only.
_ARMS_DOWN = ("{pos} arms hanging down", "{pos} arms at {pos} sides", "{pos} hands at {pos} sides",
              "{pos} arms relaxed", "{pos} arms down by {pos} sides")
_OTHER_ARM_DOWN = ("{pos} other arm hanging down", "{pos} other hand at {pos} side", "{pos} other arm relaxed")
_LEGS_STRAIGHT = ("{pos} legs straight", "{pos} feet on the ground", "{pos} feet slightly apart",
                  "both feet planted on the ground", "{pos} weight on both feet")
DETAILS: dict[str, tuple[str, ...]] = {
    "standing": _ARMS_DOWN + _LEGS_STRAIGHT + (
        "{pos} head up", "{pos} shoulders relaxed", "{pos} back straight", "{pos} arms loose at {pos} sides",
        "{pos} hands hanging loosely"),
    "walking": (
        "one foot in front of the other", "{pos} arms swinging", "{pos} arms swinging at {pos} sides",
        "one leg stepping forward", "{pos} rear heel lifted", "{pos} back knee slightly bent", "{pos} body upright",
        "{pos} arms swinging loosely", "{pos} front foot reaching forward", "{pos} legs apart in a long stride",
        "one arm swinging forward and the other back"),
    "running": (
        "{pos} elbows bent", "{pos} arms pumping", "one knee driving up", "{pos} elbows bent to ninety degrees",
        "{pos} body leaning forward", "{pos} back leg pushing off", "one foot off the ground",
        "one knee raised in front", "{pos} arms bent and pumping", "{pos} front knee lifted high",
        "{pos} torso tilted forward"),
    "jumping": (
        "{pos} arms raised over {pos} head", "both feet off the ground", "{pos} arms stretched overhead",
        "{pos} arms reaching for the sky", "{pos} arms up", "{pos} whole body in the air", "{pos} arms overhead",
        "{pos} body off the ground"),
    "sitting": (
        "{pos} hands in {pos} lap", "{pos} hands resting in {pos} lap", "{pos} knees bent",
        "{pos} feet flat on the floor", "{pos} feet on the ground", "{pos} legs bent at the knee",
        "both feet planted on the floor",
        "{pos} hands folded in {pos} lap", "{pos} thighs resting on the seat"),
    "squatting": (
        "{pos} knees deeply bent", "{pos} knees bent", "{pos} hips low", "{pos} arms reaching forward",
        "{pos} arms out in front", "{pos} body leaning forward", "{pos} torso tilted forward",
        "{pos} bottom close to the ground", "{pos} hips down below {pos} knees", "{pos} heels on the ground",
        "{pos} hands out in front of {pos} knees"),
    "kneeling": (
        "{pos} back straight", "{pos} body upright", "{pos} arms hanging at {pos} sides", "{pos} shoulders relaxed",
        "{pos} torso upright", "{pos} hands at {pos} sides", "{pos} hands hanging down", "{pos} head up",
        "{pos} arms relaxed"),
    "lying_down": (
        "{pos} body stretched out", "{pos} head resting on the ground", "{pos} whole body on the ground",
        "{pos} head down", "{pos} body at full length", "{pos} head on the ground", "{pos} body relaxed",
        "{pos} limbs loose"),
    "waving": (
        "{pos} {side} hand up by {pos} head", "{pos} {side} palm facing out", "{pos} {side} elbow bent",
        "{pos} {side} forearm raised", "{pos} {side} hand held up", "{pos} {side} arm bent at the elbow",
        "{pos} {side} hand raised to head height") + _OTHER_ARM_DOWN,
    "raise_arm": (
        "{pos} {side} hand high above {pos} head", "{pos} {side} elbow straight",
        "{pos} {side} fingers pointing up", "{pos} {side} hand in the air",
        "{pos} {side} arm reaching up") + _OTHER_ARM_DOWN,
    "raise_both_arms": (
        "both arms straight up", "{pos} arms fully extended overhead", "{pos} elbows straight",
        "{pos} hands reaching up", "{pos} arms stretched overhead", "{pos} fingers pointing up",
        "{pos} legs straight", "both hands in the air"),
    "arms_out": (
        "{pos} arms level with {pos} shoulders", "{pos} arms parallel to the ground", "{pos} arms straight out",
        "{pos} elbows straight", "{pos} arms stretched wide", "{pos} body making a T",
        "{pos} fingertips reaching to the sides", "{pos} arms spread wide", "{pos} legs straight"),
    "hands_on_hips": (
        "{pos} elbows pointing out", "{pos} elbows out to the sides", "{pos} hands resting on {pos} waist",
        "{pos} elbows bent outward", "{pos} feet on the ground", "{pos} legs straight", "{pos} shoulders back",
        "{pos} hands on {pos} hips"),
    "arms_crossed": (
        "{pos} arms folded across {pos} chest", "{pos} arms crossed in front of {pos} body",
        "{pos} hands tucked under {pos} arms",
        "{pos} feet planted", "{pos} legs straight", "{pos} arms crossed", "{pos} shoulders squared",
        "{pos} chin up"),
    "pointing": (
        "{pos} {side} arm held level", "{pos} {side} index finger out",
        "{pos} head turned where {pos} {side} hand points", "{pos} gaze following {pos} {side} arm",
        "{pos} {side} arm at shoulder height",
        "{pos} eyes following {pos} {side} finger") + _OTHER_ARM_DOWN,
    "kicking": (
        "{pos} {side} leg raised high", "{pos} body leaning back", "{pos} arms out for balance",
        "{pos} arms spread for balance", "{pos} other foot planted", "{pos} supporting leg straight",
        "{pos} {side} foot off the ground",
        "{pos} other leg on the ground", "{pos} {side} knee straight"),
    "touching_toes": (
        "{pos} legs straight", "{pos} knees straight", "{pos} head down", "{pos} head hanging low",
        "{pos} arms hanging toward {pos} feet", "{pos} fingers near {pos} toes",
        "{pos} hands reaching for the floor", "{pos} back rounded", "{pos} body folded in half",
        "{pos} upper body hanging down",
        "{pos} hips high"),
    "throwing": (
        "{pos} throwing arm cocked back", "{pos} throwing hand behind {pos} head",
        "{pos} other arm pointing at the target", "{pos} other arm stretched forward",
        "{pos} front foot stepping forward", "one foot stepping forward", "{pos} body twisting",
        "{pos} throwing elbow up at shoulder height",
        "{pos} weight shifting forward", "{pos} legs in a wide stride"),
    "punching": (
        "{pos} other fist guarding {pos} chin", "{pos} fists up", "one arm fully extended",
        "{pos} punching arm straight out", "{pos} other fist near {pos} jaw", "{pos} guard up", "one foot forward",
        "{pos} feet staggered", "{pos} fist at shoulder height",
        "{pos} torso twisting into the punch", "{pos} other elbow tucked in"),
    "one_leg": (
        "one foot off the ground", "{pos} weight on one leg", "{pos} raised leg bent",
        "{pos} standing leg straight",
        "one leg lifted", "{pos} supporting leg straight", "one knee bent", "one foot raised", "{pos} body upright"),
    "handstand": (
        "{pos} elbows locked", "{pos} hands on the ground", "{pos} palms flat on the ground",
        "{pos} legs up in the air", "{pos} body upside down", "{pos} head down", "{pos} head between {pos} arms",
        "{pos} weight on {pos} hands", "{pos} feet pointing up"),
}

# A second, pose-neutral thing the person does: "A man walks along the river and smiles.",
# "A girl waves her left hand while laughing."
_MOODS = (
    "smiling", "laughing", "grinning", "looking happy", "looking relaxed", "looking focused", "concentrating",
    "enjoying the sunshine", "enjoying the fresh air", "enjoying the day", "having fun", "having a good time",
    "listening to music", "wearing headphones", "looking off into the distance", "looking around", "staring ahead",
    "daydreaming",
)
EXTRAS: dict[str, tuple[str, ...]] = {key: _MOODS for key in ACTION_PHRASES}
EXTRAS.update({
    "running": _MOODS + ("breathing hard", "working up a sweat", "picking up speed", "training hard"),
    "walking": _MOODS + ("carrying a backpack", "heading somewhere", "taking {pos} time"),
    "sitting": _MOODS + ("waiting patiently", "relaxing", "resting {pos} legs", "taking it easy"),
    "lying_down": ("smiling", "resting", "relaxing", "soaking up the sun", "taking it easy", "sleeping",
                   "enjoying the sunshine", "daydreaming", "listening to music"),
    "standing": _MOODS + ("waiting patiently", "taking it easy"),
    "kicking": _MOODS + ("training hard", "practicing {pos} technique"),
    "punching": _MOODS + ("training hard", "practicing {pos} technique", "working up a sweat"),
    "throwing": _MOODS + ("practicing {pos} technique", "aiming carefully"),
    "handstand": _MOODS + ("showing off", "practicing {pos} technique"),
    "one_leg": _MOODS + ("trying not to fall", "keeping steady"),
})

# Subjects by body. Adults: gendered nouns and neutral ones (roles, jobs); children: their own.
SUBJECTS = {
    "man": ("man", "guy", "young man", "older man", "gentleman", "man", "man", "elderly man", "middle-aged man",
            "businessman", "father", "dad", "grandfather", "young man", "male tourist", "policeman",
            "fisherman", "groom", "waiter", "bearded man", "man", "guy"),
    "woman": ("woman", "lady", "young woman", "older woman", "woman", "woman", "elderly woman", "middle-aged woman",
              "businesswoman", "mother", "mom", "grandmother", "young woman", "young lady",
              "female tourist", "policewoman", "bride", "waitress", "woman", "lady"),
    "boy": ("boy", "little boy", "young boy", "boy", "schoolboy", "small boy", "boy"),
    "girl": ("girl", "little girl", "young girl", "girl", "schoolgirl", "small girl", "girl"),
}
NEUTRAL = (
    "person", "person", "person", "someone", "someone", "young person", "adult", "individual", "player", "athlete",
    "dancer", "tourist", "student", "college student", "teenager", "teen", "commuter", "traveler", "shopper",
    "customer", "nurse", "doctor", "chef", "cook", "teacher", "worker", "construction worker", "office worker",
    "police officer", "firefighter", "soldier", "mail carrier", "delivery driver", "farmer", "gardener", "mechanic",
    "photographer", "scientist", "coach", "lifeguard", "hiker", "camper", "musician", "artist", "model",
    "volunteer", "visitor", "local", "spectator", "fan", "cashier", "barista", "pilot", "referee", "young adult",
)
CHILD_NEUTRAL = ("kid", "child", "kid", "child", "toddler", "youngster", "young child", "little kid",
                 "preschooler", "young student")
# Action-specific subjects ("a pitcher throwing a ball"); children get them with "young".
ACTION_SUBJECTS = {
    "running": ("runner", "jogger", "sprinter", "marathon runner", "track athlete"),
    "walking": ("pedestrian", "hiker", "commuter", "shopper", "tourist"),
    "throwing": ("baseball player", "pitcher", "quarterback", "frisbee player", "softball player",
                 "football player"),
    "kicking": ("soccer player", "martial artist", "karate student", "kickboxer", "football player",
                "soccer goalie"),
    "punching": ("boxer", "fighter", "kickboxer", "martial artist", "prizefighter"),
    "handstand": ("gymnast", "acrobat", "street performer", "circus performer", "yoga student"),
    "one_leg": ("yoga student", "ballet dancer", "dancer", "yogi"),
    "arms_out": ("dancer", "performer", "tightrope walker"),
    "jumping": ("cheerleader", "dancer", "basketball player", "volleyball player", "athlete"),
    "touching_toes": ("yoga student", "athlete", "gymnast", "runner"),
    "squatting": ("catcher", "gardener", "weightlifter", "camper"),
    "kneeling": ("gardener", "football player", "worshipper"),
    "sitting": ("office worker", "passenger", "student", "reader", "patient"),
    "standing": ("security guard", "doorman", "tourist", "model", "bystander"),
    "raise_arm": ("student", "referee", "fan", "bidder"),
    "raise_both_arms": ("fan", "referee", "cheerleader", "winner"),
    "lying_down": ("sunbather", "patient", "camper", "napper"),
    "hands_on_hips": ("coach", "model", "supervisor", "hiker"),
    "arms_crossed": ("bouncer", "security guard", "coach", "manager"),
    "pointing": ("coach", "teacher", "referee", "crossing guard"),
    "waving": ("crossing guard", "fan"),
}
# Roles no child has: a child body gets the others with "young" ("a young pitcher").
ADULT_ROLES = frozenset({"bouncer", "security guard", "supervisor", "manager", "doorman", "bidder",
                         "crossing guard", "office worker", "referee", "coach", "teacher",
                         "prizefighter", "marathon runner", "quarterback", "napper", "worshipper", "hiker"})
# Nouns kept away from actions that do not fit them: the elderly and toddlers do no acrobatics or fights.
ELDERLY = frozenset({"elderly man", "grandfather", "elderly woman", "grandmother"})
TODDLER = frozenset({"toddler", "preschooler"})
STRENUOUS = frozenset({"handstand", "kicking", "punching", "one_leg", "throwing", "touching_toes"})

# Adjectives before the noun ("a smiling woman"), by body.
ADJECTIVES = {
    "man": ("smiling", "happy", "tall", "cheerful", "sporty", "relaxed", "slim", "young", "bearded", "gray-haired",
            "athletic", "muscular", "tired", "barefoot", "dark-haired", "short", "casually dressed"),
    "woman": ("smiling", "happy", "tall", "cheerful", "sporty", "relaxed", "slim", "young", "blonde", "gray-haired",
              "athletic", "tired", "barefoot", "dark-haired", "red-haired", "short", "casually dressed"),
    "boy": ("smiling", "happy", "cheerful", "small", "barefoot", "curly-haired", "excited", "playful"),
    "girl": ("smiling", "happy", "cheerful", "small", "barefoot", "curly-haired", "excited", "playful", "blonde"),
}
# Words already saying age or size, after which no adjective is added.
NO_ADJECTIVE = ("young", "older", "old", "elderly", "middle-aged", "little", "small", "bearded", "someone")

# What a subject wears or carries: "in a red shirt", "wearing a striped sweater", "with a backpack".
COLORS = ("blue", "black", "white", "green", "gray", "pink", "orange", "purple", "brown", "navy",
          "striped", "plaid", "dark", "bright red", "light blue", "denim", "checkered", "white and blue")
GARMENTS = {  # "in a red shirt", "wearing a red shirt"
    "any": ("shirt", "t-shirt", "jacket", "coat", "hoodie", "sweater", "tank top", "jersey", "vest", "raincoat",
            "tracksuit", "sweatshirt", "uniform", "polo shirt", "windbreaker", "shirt", "jacket", "t-shirt"),
    "female": ("dress", "skirt", "blouse", "sundress"),
    "male": ("button-down shirt",),
}
HEADWEAR = ("hat", "cap", "scarf", "beanie", "baseball cap", "headband")  # "wearing a red cap" only
ACCESSORIES = {
    "any": ("wearing a hat", "wearing sunglasses", "with a backpack", "wearing a cap", "in jeans", "with short hair",
            "in sports clothes", "in shorts", "with long hair", "wearing glasses", "in a suit", "in workout clothes",
            "in a business suit", "in pajamas", "in a lab coat", "in scrubs", "in an apron", "with a lanyard",
            "in a costume", "in a wetsuit", "with curly hair", "with a bag over {pos} shoulder", "wearing a helmet",
            "in a winter coat", "in a bathing suit", "wearing headphones", "in a school uniform", "in sneakers",
            "wearing a face mask", "with a ponytail", "in flip-flops", "in a soccer jersey", "wearing a name tag",
            "in a leather jacket", "with a tattoo on {pos} arm", "wearing a wristwatch", "in a graduation gown",
            "in a santa hat"),
    "male": ("with a beard", "with a mustache", "in a suit and tie"),
    "female": ("in a summer dress", "with braided hair", "in a long skirt", "in a wedding dress"),
}
# Accessories that are odd on a child.
ADULT_ACCESSORIES = frozenset({
    "in a business suit", "in a lab coat", "in scrubs", "with a lanyard", "in a suit", "wearing a name tag",
    "with a tattoo on {pos} arm", "in a graduation gown", "in a leather jacket", "in a suit and tie",
    "in a wedding dress", "with a beard", "with a mustache",
})

# Where: scenes any action can take place in, and places that suit one action.
SCENES = (
    "in a park", "on a tennis court", "next to a tree", "on a city street", "on a sidewalk", "in a field",
    "in a living room", "in a kitchen", "in front of a building", "on a grassy lawn", "in a gym", "on a stage",
    "near a fence", "in a parking lot", "in the snow", "in an office", "on a baseball field", "on a soccer field",
    "in front of a brick wall", "by the water", "in a backyard", "on a dirt road", "at a train station",
    "under a blue sky", "in a classroom", "at the beach", "on a basketball court", "in a hallway",
    "in an airport terminal", "on a rooftop", "in a garden", "by a lake", "in a studio", "on a bridge",
    "in light rain", "at a bus stop", "in a shopping mall", "on a hiking trail", "in a yoga studio", "at a market",
    "on a track", "in a bedroom", "outside a cafe", "at night", "in the sunshine", "in a city park",
    "on a busy street", "on a quiet street", "on a crowded street", "in a grassy field", "on a sandy beach",
    "by the ocean", "by a river", "on a riverbank", "near a pond", "on a pier", "on a wooden dock",
    "on a boardwalk", "in a forest", "in the woods", "on a mountain trail", "on a hilltop", "in the desert",
    "in a snowy field", "on a country road", "in a front yard", "on a patio", "on a porch", "on a balcony",
    "in a plaza", "in a town square", "outside a store", "in front of a house", "in front of a graffiti wall",
    "under a tree", "beside a fountain", "near a statue", "in an alley", "on a college campus", "in a schoolyard",
    "on a playground", "at a campsite", "on a farm", "in an orchard", "in a library", "in a museum",
    "in an art gallery", "in a church", "in a hotel lobby", "in a restaurant", "in a coffee shop",
    "in a grocery store", "in a warehouse", "in a garage", "in a hospital corridor", "in a waiting room",
    "in a lobby", "in a basement", "in an empty room", "in a dance studio", "in front of a white wall",
    "against a plain background", "in a locker room", "on a train platform", "in a subway station", "at an airport",
    "at a bus station", "on a ferry", "at a harbor", "near a parked car", "next to a car",
    "by the side of the road", "at a crosswalk", "at an intersection", "in a parking garage", "at a festival",
    "at a street fair", "at a wedding", "at a party", "at a farmers market", "at a fair", "at a carnival",
    "at a stadium", "at a concert", "in a courtyard", "on the lawn", "at a rest stop", "next to a lamppost",
    "in front of a shop window", "near a bike rack", "by a window", "on the steps of a museum", "at the zoo",
    "in a vineyard", "near the entrance of a building",
)
ACTION_SCENES = {
    "running": ("on a running track", "along the river", "through the park", "along the beach", "down the street",
                "at a marathon", "on a treadmill", "across the field", "along the boardwalk", "down a country road",
                "through the woods", "along the waterfront", "through the neighborhood", "up a hill"),
    "walking": ("down the sidewalk", "across a crosswalk", "through a shopping district", "along the boardwalk",
                "through the airport", "down a hallway", "along a country road", "through the park",
                "along the shore", "down a busy street", "through the snow", "past a row of shops",
                "through a parking lot", "along a canal", "up the street"),
    "sitting": ("in a waiting room", "in a cafe", "at a bus stop", "in an office", "in a living room", "on a porch",
                "in a library", "in a classroom", "in a restaurant", "at an airport gate", "in a hotel lobby",
                "on a patio", "in a train car", "at the kitchen table"),
    "lying_down": ("on the grass", "in a park", "on a beach", "in a bedroom", "on a lawn",
                   "on a sandy beach", "in the backyard", "on a dock", "by the pool"),
    "throwing": ("on a baseball field", "on a baseball diamond", "on the pitcher's mound", "in a backyard",
                 "on a football field", "on a beach", "in the snow", "in a park", "at a ballpark",
                 "on a softball field", "at the lake", "on a grassy field"),
    "kicking": ("on a soccer field", "on a soccer pitch", "in a dojo", "in a martial arts studio",
                "on a football field", "in a backyard", "on the grass", "on a field", "on a sports field",
                "on an artificial turf field", "at a soccer game", "on a beach"),
    "punching": ("in a boxing ring", "in a boxing gym", "in a gym", "in a dojo", "in a martial arts studio",
                 "in a garage gym", "at the gym", "in a fitness center", "in a basement gym"),
    "handstand": ("on a beach", "on the grass", "in a gym", "on a gymnastics mat", "in a yard", "on a lawn",
                  "in a park", "on the sand", "in a gymnastics hall", "on a stage"),
    "one_leg": ("in a yoga studio", "on a yoga mat", "on a beach", "in a dance studio", "on the grass", "in a park",
                "on a rock", "at the edge of a lake", "on a playground"),
    "touching_toes": ("in a gym", "on a yoga mat", "in a park", "on a track", "in a yoga studio",
                      "at the start line", "in a fitness class", "on the lawn"),
    "jumping": ("on a beach", "in a field", "on a basketball court", "on a volleyball court", "on a lawn",
                "in a backyard", "at a concert", "on the sand", "in a playground", "on a hilltop"),
    "squatting": ("in a garden", "on a baseball field", "in a gym", "on the sidewalk", "by a campfire",
                  "on the forest floor", "at a campsite", "next to a flower bed", "on a beach"),
    "kneeling": ("in a garden", "on the grass", "in a church", "on the floor", "on a football field",
                 "on a yoga mat", "on a beach", "in a flower bed", "by a grave"),
    "raise_arm": ("in a classroom", "in a lecture hall", "at a concert", "at an auction", "at a town meeting",
                  "on a street corner", "in a meeting room", "at a sports game"),
    "raise_both_arms": ("at a concert", "at a stadium", "on a mountaintop", "at the finish line",
                        "at a football game", "at a music festival", "on a beach"),
    "arms_out": ("on a beach", "on a cliff", "on a mountaintop", "on a pier", "at the edge of a cliff",
                 "in an open field", "on a windy hill", "at the top of a hill"),
    "hands_on_hips": ("on a construction site", "on a soccer field", "at a finish line", "on a hiking trail",
                      "in front of a house", "on a mountaintop"),
    "arms_crossed": ("outside a nightclub", "in an office", "at the entrance of a building", "on a sideline",
                     "in a doorway", "in front of a store"),
    "pointing": ("on a street corner", "at a tourist site", "in a museum", "on a hilltop", "at a crossroads",
                 "on a soccer field", "in front of a map", "at an intersection"),
    "waving": ("from a balcony", "at a parade", "from a doorway", "at a train station", "from the porch",
               "on a street corner", "from a window", "at the airport"),
}
# When, or the weather: "... on a sunny afternoon".
TIMES = ("on a sunny day", "on a sunny afternoon", "in the evening", "early in the morning", "on a rainy day",
         "in the afternoon", "on a cloudy day", "in winter", "in the summer", "at sunset", "at dusk",
         "on a windy day",
         "in the fall", "on a cold morning", "on a hot day", "in the late afternoon", "after dark", "on a spring day")
# Words in a phrase that already say where it happens ("sitting on a bench"): such a phrase gets a
# time at most, never a second place.
PLACE_WORDS = frozenset({
    "bench", "chair", "couch", "stool", "table", "steps", "armchair", "grass", "floor", "ground", "beach", "street",
    "road", "path", "park", "track", "river", "desk", "bed", "sofa", "mat", "sand", "snow", "trail", "sidewalk",
    "bus", "train", "lawn", "blanket", "towel", "corner", "curb", "platform", "hallway", "garden", "dirt", "carpet",
    "cushion", "wall", "room", "plate", "trampoline", "campfire", "water", "city", "field", "sidelines", "beam",
    "shelf", "door", "airport", "gym", "tightrope", "bases", "outside", "window", "taxi", "cab", "traffic",
})
# Words of a sport or game: such a phrase is placed only where its action's own scenes put it ("running
# laps" on a track, not in a grocery store).
SPORT_WORDS = frozenset({
    "ball", "baseball", "football", "soccer", "frisbee", "pitch", "pass", "javelin", "snowball", "catch", "catcher",
    "race", "marathon", "laps", "sprints", "touchdown", "goal", "rebound", "shot", "kick", "bag", "gymnastics",
    "acrobatics", "handstands", "hopscotch", "tag", "sparring", "kickboxing", "boxing", "fight", "cheerleading",
    "squats", "workout", "punches", "karate",
})
SCENE_OBJECTS = ("a tree", "a car", "a fence", "a wall", "a window", "a bicycle", "a bus stop", "a door",
                 "a lamppost", "a bench", "a fountain", "a food truck", "a mailbox", "a parked motorcycle",
                 "a statue")
