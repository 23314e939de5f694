"""Understand a statement about two videos: which metric, which way, at which moment and side.

"She squats lower", "the heels stay planted", "the knees lock out at the top" are read by a
small grammar, not by one regular expression per wording:

* **Words to concepts.** The statement is lower-cased, contractions opened ("doesn't" -> "does
  not"), a few fixed expressions rewritten ("on the way down" -> ``descent``, "closer to the
  floor" -> ``low``), and each word stemmed and mapped to a concept (``hips``, ``pelvis`` and
  ``butt`` are ``hip``). Words that have an opposite are *polar*: "deeper" is ``DEEP`` +1 and
  "shallower" ``DEEP`` -1, "lower" ``HIGH`` -1, "planted" and "lift" are not pairs but phrases.
* **Phrases in the catalogue.** Each metric says once, in its catalogue entry
  (``MetricSpec.phrases``), how people name it: "hip high", "-squat deep", "heel lift",
  "-heel planted" (a ``-`` marks a phrase true of the video with the LOWER value). A phrase
  matches when all its concepts occur in the statement; the most specific match wins (concepts
  weighted by how rare they are among all phrases, ties to the phrase whose words come first:
  the subject).
* **Which statistic.** Sibling metrics of one body part (``hand_height_max`` and
  ``hand_height_mean``, ``peak_speed_ankle`` and ``mean_speed_ankle``, ``stance_width_max`` and
  ``stance_width``) share their plain phrase's words; the words that name an extreme -- "reach",
  "peak", "top speed", "at contact", "at release", "jumps out" (:data:`_PEAK_CUES`) -- add the
  concept ``peak``, which only the extreme sibling's phrases name ("hand high peak"). Without
  one, the plain phrase answers: the typical value (the hands held higher, the feet set wider,
  the ankles moving faster). Straightening and extending name a joint's largest angle ("never
  straightens", "keeps a bend"), straight its smallest ("stays straighter"); "opens and
  closes" and a "band" of bend are the range.
* **Direction.** The phrase's sign, times the sign of each polar concept it shares with the
  statement (phrase's word against the statement's word), times -1 for each negation or
  softener ("not", "never", "no", "less", "barely", "only", "cut short", "incomplete"). A
  statement and its negation, or its antonym, therefore match the same phrase and get mirror
  directions: consistent by construction. A statement of several clauses ("the lunge is
  shallow, the front knee hardly bends") takes its direction from a clause that names the
  matched property on its own, so that two clauses saying the same thing are not multiplied
  into a double negative. A reading pieced together across clauses whose direction word sits
  in a clause that names nothing else of the phrase ("the elbows flare wider, the arm range
  is the same") is refused: the direction is said of something else. A reading that borrows
  words from a later clause ("the hips sag as he pushes up": "hip push high") gives way to what
  the subject's own clause says ("hip sag").
* **Moment and side.** "At the bottom", "on the way down", "at the top", "on the way up",
  "throughout" give the stage hint (``bottom``, ``descent``, ``top``, ``ascent``; throughout is
  the whole clip); one of "left"/"right" picks the metric's ``_left``/``_right`` variant.
* **Refusal with help.** A statement no phrase covers, or one about a property the catalogue has
  no metric for yet (:data:`NOT_YET_MEASURED`: the knees past the toes), is refused with the
  reason and the three closest statements that can be measured (the catalogue's own ``more``
  wording).
* **The way down and the way up.** A verb of going down ("lowers", "sinks", "drops") or up
  ("comes up", "pushes up") said with a speed or time word ("slowly", "fast", "takes longer")
  is about that phase's time, so it is read as the phase (``descent``, ``ascent``): "she lowers
  herself more slowly" is the descent's time, "she comes up more slowly" the ascent's, and
  so is "she slowly lowers her chest" (the chest is what is lowered, not the subject).
* **An exercise's pace, a part's amount.** An exercise named before a pace word, with no body
  part ("the squat is quicker", "he deadlifts faster"), is the movement's time
  (:data:`ACTION_WORDS`). A part said only to move, more or less ("the knees hardly move",
  "the hips move a lot more"), moves through a range, and a jump said so ("she barely hops")
  goes higher or lower; "the hands move higher" still says where the hands go.

Nothing heavy is imported: the metric catalogue loads on the first call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from viddiff.tools.taxonomy import MetricQuery

_V = TypeVar("_V")
Direction = Literal["higher", "lower"]
Moment = Literal["bottom", "top", "descent", "ascent", "throughout"]


def _words(text: str) -> list[str]:
    """The words of a space-separated list (the tables below are easier to read that way)."""
    return text.split()


def _each(words: str, value: _V) -> dict[str, _V]:
    """``value`` for each word of a space-separated list."""
    return dict.fromkeys(_words(words), value)

# --------------------------------------------------------------------------------------------
# The grammar: words to concepts
# --------------------------------------------------------------------------------------------

#: Words with an opposite: surface form -> (concept, sign). Looked up before stemming.
POLAR: dict[str, tuple[str, int]] = {
    **_each("high higher highest up upward upwards above raise raises "
                    "raised raising lift lifts lifted lifting rise rises rising elevate "
                    "elevates elevated elevation", ("HIGH", 1)),
    **_each("low lower lowest lowers lowered lowering down downward downwards below "
                    "drop drops dropped dropping sink sinks sinking sank hang hangs droop "
                    "droops drooping drooped",
                    ("HIGH", -1)),
    **_each("deep deeper deepest deeply depth", ("DEEP", 1)),
    **_each("shallow shallower shallowest", ("DEEP", -1)),
    **_each("wide wider widest widely broad broader apart spread spreads splayed splay",
            ("WIDE", 1)),
    **_each("narrow narrower narrowest together touching", ("WIDE", -1)),
    **_each("fast faster fastest quick quicker quickest quickly rapid rapidly "
                    "explosive explosively explode explodes energetic energetically whip whips "
                    "brisk briskly hurried hurries rush rushes rushed speedy "
                    "snappier", ("FAST", 1)),
    **_each("slow slower slowest slowly sluggish sluggishly lazy lazily gentle gentler gently "
                    "grind grinds", ("FAST", -1)),
    **_each("long longer longest lasts", ("LONG", 1)),
    **_each("short shorter shortest brief briefly", ("LONG", -1)),
    **_each("big bigger biggest large larger largest full fuller greater",
                    ("BIG", 1)),
    **_each("small smaller smallest restricted limited tiny", ("BIG", -1)),
    **_each("straight straighter lock locks locked open stiff stiffer", ("STRAIGHT", 1)),
    # a sharper (more acute) angle at a joint is a deeper bend
    **_each("sharp sharper sharpest acute", ("STRAIGHT", -1)),
    **_each("bent bend bends bending flex flexes flexed flexing flexion fold folds "
                    "folded crooked soft closed tight tighter hinge hinges hinged "
                    "hinging", ("STRAIGHT", -1)),
    # extending names the joint's straightest moment (its largest angle), which "straight"
    # alone does not: "the arm is more extended" is the elbow at full extension, "the arm
    # stays straighter" the elbow bending less
    # so does straightening, the move to the straight end: "the arms never straighten" is the
    # elbow's largest angle, "the arms stay straighter" its smallest (less bend)
    **_each("extend extends extended extending extension fully straighten straightens "
            "straightened straightening opens opening opened", ("EXTEND", 1)),
    **_each("upright vertical erect proud tall taller tallest", ("UPRIGHT", 1)),
    **_each("lean leans leaning leaned tip tips tipping tipped horizontal horizontally "
                    "hunch hunches hunched hunching slouch slouches slouched slump slumps "
                    "slumped stoop stoops stooped", ("UPRIGHT", -1)),
    **_each("many more extra additional", ("MANY", 1)),
    **_each("few fewer", ("MANY", -1)),
    "toleft": ("LEFT", 1), "toright": ("LEFT", -1),
    **_each("sway sways swaying wobble wobbles wobbly rock rocks rocking shaky shakes "
                    "unstable unsteady", ("SWAY", 1)),
    **_each("steady steadier stable still stiller solid", ("SWAY", -1)),
    **_each("forward forwards ahead", ("FORWARD", 1)),
    **_each("backward backwards behind", ("FORWARD", -1)),
    **_each("inward inwards inside", ("IN", 1)),
    **_each("out outward outwards outside", ("IN", -1)),
    **_each("uneven unevenly lopsided asymmetric asymmetrical asym differently mismatch "
            "mismatched imbalance imbalanced discrepancy favour favours "
            "favouring favoured favor favors favoring favored", ("ASYM", 1)),
    # the force of a strike is its limb's speed at contact
    **_each("hard harder hardest powerful powerfully forceful forcefully", ("FORCE", 1)),
    **_each("weak weaker weakly feeble", ("FORCE", -1)),
    **_each("even evenly equal equally same sync alike symmetric symmetrical "
                    "symmetrically match matching matched balanced", ("ASYM", -1)),
}

_POLAR_CONCEPTS = frozenset(concept for concept, _ in POLAR.values())

#: The concepts that name a body part: a statement that names some is answered only by a
#: phrase that names one of them, or the whole body (a phrase about the arms does not answer
#: one about the hands).
BODY_PARTS = frozenset(("hip", "knee", "leg", "thigh", "foot", "toe", "heel", "arm", "elbow",
                        "hand", "shoulder", "trunk", "head", "chest", "ankl", "upper",
                        "midsection"))

#: Metric kinds a statement with a pace word ("faster", "slowly", "briskly") may be about:
#: a pace word says the property is speed or time, whatever else the words name.
PACE_KINDS = frozenset(("speed", "time"))

#: Words that turn a statement round: negations and softeners.
FLIPS = frozenset(_words("not never no without less barely hardly only nor incomplete "
                         "unfinished truncated abbreviated"))

#: Words that say nothing about the property (dropped from phrases and statements).
STOP = frozenset(_words(
    "a an the is are was were be been being am it its this that these those of to at on by for "
    "with from into onto as than and or so very much quite slightly little bit some any all way "
    "she he they her his their him them person athlete player shooter lifter who which there "
    "does do did doing has have had get gets got getting make makes made keep keeps kept stay "
    "stays stayed remain remains come comes coming her herself himself themselves each every "
    "one while when then just still also even well")) - set(POLAR) | {"the"}

#: Words about what body pose does not see: a statement with one is refused outright.
OFF_BODY = frozenset(_words(
    "gaze eye eyes look looks looking stare grip gripping breath breathe breathes "
    "breathing exhale exhales inhale inhales smile smiles smiling grimace grimaces finger "
    "fingers thumb thumbs belt camera music room loud confident happier"))

#: Stems and words to concepts (synonyms). Looked up on the word and on its stem.
SYNONYMS: dict[str, str] = {
    **_each("hip hips pelvis butt bum glute glutes backside waist", "hip"),
    # "soft-kneed", "knock-kneed": the adjective of the knee
    **_each("knee knees kneed", "knee"),
    **_each("leg legs shin shins calf calves", "leg"),
    **_each("thigh thighs quad quads", "thigh"),
    **_each("foot feet", "foot"),
    **_each("toe toes tiptoe tiptoes forefoot forefeet", "toe"),
    **_each("heel heels", "heel"),
    **_each("arm arms forearm forearms", "arm"),
    **_each("elbow elbows", "elbow"),
    **_each("hand hands wrist wrists", "hand"),
    **_each("shoulder shoulders", "shoulder"),
    **_each("torso trunk back spine", "trunk"),
    **_each("head chin neck ear ears", "head"),
    # the belly, the core, the lower back: the midsection, which sags or arches in a plank
    **_each("midsection belly bellies stomach tummy core midriff", "midsection"),
    # a lunge's depth is a squat's depth (the hips' lowest point, the knees' deepest bend)
    **_each("squat squats squatting lunge lunges lunging", "squat"),
    **_each("rep reps repetition repetitions", "rep"),
    **_each("movement motion", "motion"),
    **_each("step steps stepping", "step"),
    **_each("kick kicks kicking kicked punt punts punting punted", "kick"),
    **_each("jump jumps jumping jumper hop hops", "jump"),
    **_each("stance base", "stance"),
    **_each("pause pauses paused pausing stop stops stopped halt halts rest rests resting "
            "rested hesitation hesitations hesitate hesitates hesitated hesitating linger "
            "lingers lingered lingering wait waits waited waiting", "pause"),
    **_each("speed pace velocity", "speed"),
    # the statistic a statement names: a peak, a reach, a maximum is the metric's extreme
    # (``hand_height_max``, ``peak_speed_ankle``), not its mean; phrases that want it name
    # ``peak`` (see :data:`_PEAK_CUES`)
    **_each("reach reaches reached reaching peak peaks peaked maximum max maximal", "peak"),
    **_each("range ranges band span", "range"),
    **_each("floor ground mat", "floor"),
    # centred is in the middle ("the hips stay centred over the feet")
    **_each("centre centred center centered central centrally middle", "middle"),
    **_each("nose", "head"),
    **_each("fingertip fingertips", "hand"),
    # "as far" is the negation's word for "further": "he does not drop as far" mirrors
    # "he drops further"
    **_each("far farther further", "further"),
}

#: Verbs of going down and of coming up, and the words that make them about the pace: a verb
#: of either said with a pace word (before it or a few words after) names that phase.
_DOWN_VERBS = (r"lowers?|lowering|lowered|sinks?|sinking|sank|drops?|dropping|dropped|"
               r"descends?|descending|collapses?|collapsing|collapsed|falls?|falling|fell|"
               r"(?:goes|go|going|comes|come|coming) down")
_UP_VERBS = (r"(?:comes?|coming|came|pushe?s?|pushing|press(?:es)?|pressing|drives?|driving|"
             r"gets?|getting|stands?|standing)(?: back)? up|rises?|rising")
_PACE = (r"slow\w*|fast\w*|quick\w*|rapid\w*|explosive\w*|control\w*|seconds?|takes?|"
         r"taking|gentl\w*|hurr\w*")


def _phase_said(verbs: str, phase: str) -> tuple[tuple[str, str], ...]:
    """The two rewrites that add ``phase`` after a verb of ``verbs`` said with a pace word."""
    return ((rf"\b({verbs})\b(?=(?:\W+\w+){{0,5}}?\W+(?:{_PACE})\b)", rf" \1 {phase} "),
            (rf"\b((?:{_PACE})(?:\W+\w+){{0,2}}?\W+(?:{verbs}))\b", rf" \1 {phase} "))


#: Words that name a metric's extreme (its peak, its furthest reach) rather than its typical
#: value: they add the concept ``peak``, which a catalogue phrase of the extreme sibling names
#: ("hand high peak" for ``hand_height_max`` beside ``hand_height_mean``'s "hand high"). A
#: statement without one reads the plain phrase: the sibling a coach means by default. The
#: moment of a strike or a release is the peak of the limb's speed and height; "jumps out" or
#: "steps out" names the widest moment of a jack or a step.
_PEAK_CUES: tuple[tuple[str, str], ...] = (
    (r"\b(at|through|on|during|into) (the |his |her |their )?(moment of |point of )?(contact|"
     r"impact|release|strike|take[- ]?off|launch|kick)\b", " peak \\4 "),
    (r"\bat (its|their|his|her|the) (highest|widest|fastest|furthest|farthest|biggest|"
     r"largest)( point| moment)?\b", " peak \\2 "),
    (r"\b(jumps?|jumping|jumped|hops?|hopping|springs?|kicks?|kicking|steps?|stepping) "
     r"(out|apart)\b", " \\1 peak \\2 "),
)

#: Dimension nouns and the words that say them bigger and smaller.
_DIMENSIONS: dict[str, tuple[str, str]] = {
    "height": ("high", "low"), "width": ("wide", "narrow"), "depth": ("deep", "shallow"),
    "length": ("long", "short"), "speed": ("fast", "slow"), "velocity": ("fast", "slow")}
_BIGGER = r"greater|larger|bigger|higher|more|increased"
_SMALLER = r"smaller|lower|less|reduced|decreased"


def _dimension_said() -> tuple[tuple[str, str], ...]:
    """The rewrites of a dimension noun said with a size, before it or after it ("is"), to
    the dimension's adjective: "the peak hand height is greater" -> "peak hand high"."""
    out: list[tuple[str, str]] = []
    for noun, (big, small) in _DIMENSIONS.items():
        for size, word in ((_BIGGER, big), (_SMALLER, small)):
            out.append((rf"\b{noun}\s+(is|are|was|were|gets?|becomes?)\s+((much|a lot|a bit|"
                        rf"slightly|even|far)\s+)?({size})\b", f" {word} "))
            # not "more height": covering more height is a range, not a higher position
            before = size.replace("|more", "").replace("|less", "")
            out.append((rf"\b({before})\s+((top|peak|maximum|max|hand|foot|stance|jump|squat)\s+)?"
                        rf"{noun}\b", rf" {word} \3 "))
    return tuple(out)


def _contrast_said() -> tuple[str, str]:
    """The rewrite that drops a contrast: "than" followed by polar words only.

    "The arms end up more out in front than straight up" says where the arms are, and "than
    straight up" where they are not: read as words of the statement, "straight" and "up" would
    name the elbow's bend and the arm's height. What follows "than" is the other term of the
    comparison, so a run of direction words there is dropped; a level ("lower than parallel",
    "higher than the shoulders") is not a run of polar words and stays."""
    polar = "|".join(sorted(POLAR, key=len, reverse=True))
    return (rf"\bthan((\s+(just|dead|directly|fully|straight|more|less))*\s+({polar}))+\b"
            rf"(?=\s*([,;]|$))", " ")


_AMOUNT = r"a lot|a little|a bit|much|little|very little|at all|around|about|more|less"
_AMOUNT_END = (r"\s*(?:[,;.!?]|$|\b(?:than|in|at|during|on|through|throughout|when|while|as|"
               r"and|but)\b)")


def _amount_said(verbs: str) -> tuple[tuple[str, str], ...]:
    """The rewrites that add ``big`` to a verb of ``verbs`` said with only an amount: a
    softener before it ("hardly jumps", "barely moves") or amount words after it ("moves a
    lot more"), then the end of the clause."""
    return ((rf"\b(hardly|barely|scarcely|never|not|only|just)\s+({verbs})\b"
             rf"(?=(?:\s+(?:{_AMOUNT}))*{_AMOUNT_END})", r" \1 \2 big "),
            (rf"\b({verbs})\b(?=(?:\s+(?:{_AMOUNT}))+{_AMOUNT_END})", r" \1 big "))


#: Fixed expressions rewritten before the words are read (regex -> replacement).
EXPRESSIONS: tuple[tuple[str, str], ...] = (
    # typographic apostrophes first, so that "doesn’t" opens to "does not" like "doesn't"
    (r"[’`]", "'"), (r"n't\b", " not"), (r"\bcannot\b", "can not"), (r"'s\b", ""),
    # "it looks like" compares with another movement; it is not about the eyes ("looks")
    (r"\b(looks?|looking|looked) (more |less |a bit |a lot )?(like|as if|as though)\b",
     " \\2 "),
    # sinking into a joint is bending it deep ("she sinks into her knees more";
    # before the phase rule, which would read "sinks ... taking off" as the way down)
    (r"\b(sinks?|sinking|sank|sits?|sitting|sat|settles?|settling|drops?|dropping) (back |down "
     r")?into (the |his |her |their )?(knees|legs)\b", " knee bend deep "),
    # "as he pushes up", "as she comes back down" say when, not what ("the hips sag as he
    # pushes up" is the sag): the moment, before the phase rule reads the verb as the pace
    (r"\bas (he|she|they|you) (pushe?s?|press(?:es)?|comes?|drives?|stands?|gets?|rises?)"
     r"( back)? up\b", " ascent "),
    (r"\bas (he|she|they|you) (lowers?|comes?|goes|go|sinks?|drops?|descends?)( back)?"
     r"( down)?\b", " descent "),
    *_phase_said(_DOWN_VERBS, "descent"), *_phase_said(_UP_VERBS, "ascent"),
    (r"\bexplod\w* (back )?up\b", " explode ascent "),
    (r"\bpush[- ]?ups?\b", "pushup"),
    # a jump, or a part said to move, more or less, with nothing after it but when or than
    # ("the shooter hardly jumps at all", "the knees barely move", "the elbows move a lot
    # more at the bottom"): how high the jump goes, how far the part moves (its range); "the
    # hands move higher" or "the knees move forward" say where it goes, and are not this. A
    # word of amount must be there, so the catalogue's own phrases ("shoulder move") keep
    # their words.
    *_amount_said(r"jumps?|jumping|jumped|hops?|hopping|hopped"),
    *_amount_said(r"move|moves|moved|moving"),
    # up and down, either order, is a travel, not a level said both ways; so are out and
    # back, in and out (not a direction)
    (r"\bup and (back )?down\b|\bdown and (back )?up\b", " updown "),
    (r"\bout and (back|in)\b|\bin and out\b", " outback "),
    # the lower back is not the back (the trunk) and says nothing lower: the midsection,
    # which in a plank or a push-up sags with the hips ("the lower back sags")
    (r"\blower back\b", " midsection "),
    # tucking the chin draws the head back over the shoulders
    (r"\btuck(s|ed|ing)? (his |her |their |the )?chin( in)?\b", " head backward "),
    # standing all the way up is standing up fully (not a height: "full high")
    (r"\b(stands?|standing|stood) (all the way|fully|right) up\b", " stand standup full "),
    (r"\bass to grass\b|\ball the way down\b", " deep "),
    # straight up is a direction, vertical, not a straight joint ("the arms go straight up")
    (r"\bstraight up\b", " vertical "),
    # leading up to a moment says when, like "before" (it is not a move upwards)
    (r"\b(leading|leads|lead|building) up to\b|\bin the (run|lead)[- ]up to\b", " before "),
    (r"\ball the way up\b", " full high "),
    (r"\bdrops? into\b|\bdropping into\b", " dropinto "),
    (r"\b(further|farther|away) from (the )?horizontal\b", " tilt "),
    (r"\b(straight )?back (up|down)\b", " again \\2 "),
    # holding the spine angle or the posture keeps the trunk's angle the same; popping out of
    # it or losing it changes it (the trunk's sway)
    (r"\b(holds?|holding|held|keeps?|keeping|kept|maintains?|maintaining|maintained) "
     r"(his |her |their |the )?(spine|back|torso|trunk|upper body) (angle|tilt)\b",
     " trunk angle same "),
    (r"\b(out of|loses?|losing|lost) (his |her |their |the )?(posture|spine angle)\b",
     " trunk angle change "),
    # something held by or at the chest is at the chest's level, not the chest itself ("she
    # holds her hands up by her chest")
    (r"\b(by|at|near|in front of|against|around) (his |her |their |the )chest\b", " chestlevel "),
    (r"\bupper body\b", "trunk"), (r"\brange of motion\b", "range"),
    (r"\brather than\b", " not "), (r"\brock solid\b", " solid "),
    (r"\bupside[- ]down\b", " upside "), (r"\bin front\b", " forward "),
    (r"\b(cave|caves|caving|caved|fall|falls|fell|come|comes|pinch|pinches|drift|drifts|move|"
     r"moves|roll|rolls|turn|turns|turned|angled|point|points|pointed|go|goes|dive|dives|"
     r"diving|dived|dove|wobble|wobbles|wobbling|buckle|buckles|buckling|collapse|collapses|"
     r"collapsing|knock|knocks|knocking|slide|slides|sliding|track|tracks|tracking) in\b",
     " \\1 inward "),
    (r"\b(stays?|held|kept|keeps?|pulled|sits?) back\b", " \\1 backward "),
    (r"\bstands? up\b|\bstanding up\b", " stand standup "),
    (r"\bonly (half|partial)\b", " \\1 "), (r"\bhinge", " hip hinge"),
    (r"\block(s|ed|ing)? ?out\b", " lock top "),
    (r"\bon the way down\b|\bgoing down\b|\bway down\b", " descent "),
    (r"\bon the way up\b|\bway up\b|\bcoming up out\b", " ascent "),
    (r"\bin the hole\b", " bottom "), (r"\bbent over\b", " trunk lean "),
    (r"\b(closer|close|nearer) to the (floor|ground)\b|\btowards? the (floor|ground|mat)\b",
     " low floor "),
    (r"\bfar(ther)? from the (floor|ground)\b", " high floor "),
    # high off the floor is the height of a jump, not a level the body goes to
    (r"\b(high|higher|highest|further|farther) off (the )?(floor|ground)\b", " jump high \\3 "),
    (r"\b(off|leave|leaves|leaving) the (floor|ground)\b", " up floor "),
    (r"\b(stay|stays|stayed|remain|remains|kept|keep|keeps) on the (floor|ground)\b", " planted "),
    (r"\bthan the right( one| side)?\b|\binstead of the right( \w+)?\b", " toleft "),
    (r"\bthan the left( one| side)?\b|\binstead of the left( \w+)?\b", " toright "),
    (r"\b(to|towards|over to) (the|his|her|their) (left|right)\b", " to\\3 "),
    # off to one side is sideways, either way ("the hips shift off to one side")
    (r"\b(to|towards) (one|a|the) side\b", " sideways "),
    (r"\b(weight\b.*)\bon(to)? the (left|right)( side| leg| foot)?\b", " \\1 to\\3 "),
    (r"\bknee (raise|lift)s?\b", " kneeraise "), (r"\bnon[- ](\w+)", " non\\1 "),
    (r"\b(lean|leans|leaning|leaned) (forward|over)\b", " trunk \\1 "),
    # where a limb ends up is a position, not a move upwards ("the arms end up lower")
    (r"\b(ends?|ended|ending) up\b", " \\1 "),
    # "further back" is a direction, not the back (the trunk)
    (r"\b(further|farther|too far|more) back\b(?! (of|rounds?|rounding|arch\w*|bends?|is|are)\b)",
     " \\1 backward "),
    # going or getting to a level, either way: "the hands go lower" and "the hands go higher"
    # name the same property (``sinkdown`` + the level word), so that a statement and its
    # antonym match the same phrase; a verb of sinking can only go down
    (r"\b(go|goes|going|went|get|gets|getting|got)\s+(as |so |much |even )?(low|lower|deep|"
     r"deeper|high|higher|shallow|shallower)\b", " sinkdown \\3 "),
    (r"\b(go|goes|going|went)\s+(as |so |much |even )?(down)\b", " sinkdown \\3 "),
    # sitting down or back lower is going lower ("she sits down lower into the hole"; "the
    # hands sit lower on the hips" is a position)
    (r"\b(sits?|sitting|sat|settles?|settling|settled)\s+(down |back )(as |so |much |even )?"
     r"(low|lower|deep|deeper|high|higher|shallow|shallower)\b", " sinkdown \\4 "),
    # so is getting or bringing a body part to a level ("she gets her chest down")
    (r"\b(get|gets|getting|got|bring|brings|bringing|brought)\s+(his|her|their|the)\s+(\w+)\s+"
     r"(as |so |much |even )?(low|lower|deep|deeper|high|higher|down)\b", " \\3 sinkdown \\5 "),
    (r"\b(drops?|dropping|sinks?|sinking|descends?|descending|dips?|dipping)\s+"
     r"(as |so |much |even )?(low|lower|deep|deeper|shallow|shallower)\b", " sinkdown \\3 "),
    (r"\b(bend|bends|bending|bent|tips?|tipping|falls?|falling|collapses?|collapsing|pitch|"
     r"pitches|pitching|pitched|lurch|lurches|lurching|lurched|folds?|folding|folded) "
     r"forward\b", " trunk lean "),
    (r"\b(bend|bends|bending) over\b", " trunk lean "),
    (r"\b(than|behind) the other( one| side)?\b", " asym "),
    (r"\bin line\b|\baligned\b|\bstacked (over|above|on top of|on)\b", " align "),
    # "a few more" is more, not few and more (said both ways)
    (r"\ba (few|couple|couple of) (more|fewer|less|extra)\b", " \\2 "),
    # catching one's breath is a rest (not the breathing, which pose does not see)
    (r"\b(catch|catches|catching|caught) (his |her |their |a |one )?breath\b", " rest "),
    (r"\bduck[- ]?footed\b", " duck "),
    (r"\bballs of (his|her|their|the) feet\b", " toe "),
    (r"\bthe whole time\b|\bthroughout\b", " throughout "),
    # a trailing "before the jump" / "after the release" says when, not what: the property
    # is in the words before it ("he dips lower before the jump" is about depth); not when
    # the clause goes on to say something ("the knee bend before the take-off is shallower")
    # so does "leading up to the strike" and "between reps" (not "between the knees", a place)
    (r"\b(before|after|prior to|leading up to|in the lead up to)\s+(the|a|an|his|her|"
     r"their|taking|pulling|jumping|shooting|kicking|releasing|landing)\b"
     r"(?:(?!\b(is|are|was|were|gets?|looks?)\b).)*$", " "),
    (r"\b(in )?between (\w+ )?(reps|sets|lunges|squats|jumps|steps|strides|swings|kicks|throws|"
     r"shots|attempts|repetitions)\s*$", " "),
    *_PEAK_CUES,
    # a movement "cut short" is not carried through: a softener, like "barely"
    (r"\b(cuts?|cutting) (it |them )?short\b", " not "),
    # "stops briefly" says there is a stop, "briefly" only that it is short: the stop is the
    # claim ("he stops briefly at the bottom": a longer pause than none); "only briefly" stays
    # a softener
    (r"\b(a|one) (brief|short|quick|small|slight|momentary) (pause|stop|halt|rest|hold)\b",
     " \\1 \\3 "),
    (r"\b(pause|pauses|paused|pausing|stop|stops|stopped|stopping|halt|halts|rest|rests|hold|"
     r"holds|freeze|freezes)\s+(briefly|momentarily|for a (moment|second|beat|split second))\b",
     " \\1 "),
    # a joint driven "all the way through" or "all the way open" is extended fully
    (r"\ball the way (through|open|out)\b", " full extend "),
    # reaching or stretching down is towards the floor: the lowest point of the hands
    (r"\b(peak|reach\w*|stretch\w*)\s+((as|so|much|even|further|farther|far|a lot|no)\s+){0,2}"
     r"down\b", " peak low floor "),
    # a strike that is soft is a weak one (soft knees are bent ones)
    (r"\b(kick\w*|strik\w*|hit\w*|punch\w*|throw\w*)((?:\s+\w+){0,3}?)\s+(softer|soft|softly)\b",
     " \\1\\2 weak "),
    # getting to the floor is the hands' lowest point
    (r"\b(gets?|getting|got|reach\w*|stretch\w*|goes|go|going|comes?|all the way)"
     r"((?:\s+(?:further|farther|closer|down|all|the|way))*) (to|towards?) (the |his |her |"
     r"their )?(floor|ground|mat|toes|feet)\b", " \\1 \\2 low floor "),
    # a level against the shins, ankles or toes is a height above the floor ("the hands stop
    # above the shins", "the hips sink below the knees")
    (r"\b(above|below|past|beyond|around|under|to|towards) (the |his |her |their )?"
     r"(mid[- ]?)?(shins?|ankles?|toes|feet|knees)\b", " \\1 floor "),
    (r"\btouch(es|ed|ing)? (his|her|their|the) toes\b", " hand low floor "),
    # a joint that opens and closes, bends and straightens, goes through its range
    (r"\b(opens? (and|or) closes?|opening (and|or) closing|bends? (and|or) straightens?|bending "
     r"(and|or) straightening|flex(es)? (and|or) extends?|flexing (and|or) extending)\b",
     " range "),
    # "a higher speed" is a faster one (not a higher position); "top speed" names the peak
    (r"\b(higher|greater|bigger|faster|more)\s+((top|peak|maximum|max)\s+)?(speed|pace|"
     r"velocity)\b", " faster \\3 speed "),
    (r"\b(lower|smaller|slower|less)\s+((top|peak|maximum|max)\s+)?(speed|pace|velocity)\b",
     " slower \\3 speed "),
    # a jump that gets more height, lift or air goes higher ("the jump gets more height";
    # more height alone is a range covered, below)
    *((rf"\b(jumps?|jumping|leaps?|leaping|hops?|hopping)\b(.*?)\b({size}) "
       r"(height|lift|air|elevation)\b", f" \\1\\2 {level} ")
      for size, level in (("more|greater|extra", "higher"), ("less|little", "lower"))),
    # a dimension said as a noun and a size ("the hand height is greater", "more width"): the
    # dimension's own word, so that "the height is lower" is not read as high-and-low
    *_dimension_said(),
    # keeping a bend or some flex is not extending fully
    (r"\b(keeps?|keeping|kept|retains?|leaves?|maintains?) (a |some |a slight |a little |"
     r"a small |slight )?(bend|flex|flexion|softness)\b", " not extend "),
    # "his vertical" is the height of his jump, not an upright body
    (r"\b(his|her|their|the|a|higher|bigger|better) vertical( jump| leap)?\b", " \\1 jump "),
    (r"\bpigeon[- ]toed\b", " toe turn inward "),
    (r"\b(from )?side to side\b|\bback and forth\b|\bto and fro\b", " sway "),
    # the thighs' horizontal is a squat's parallel ("the thighs get closer to horizontal");
    # before the next rule: a thigh "level with the floor" is a knee raised that high
    (r"\b(thighs?|femurs?)\b((?:\s+\w+){0,4}?)\s+horizontal\b", " \\1\\2 parallel "),
    # level with the floor is parallel to it ("the upper arms are level with the floor")
    (r"\blevel (with|to) (the )?(floor|ground)\b", " horizontal "),
    # a person who leans, tips or pitches leans the trunk ("she leans further forward")
    (r"\b(she|he|they|you|(?:the )?(?:person|athlete|lifter|client|player|man|woman))"
     r"((?:\s+(?:does|did|do|will|would|can|could) not|\s+never|\s+no longer)?)"
     r"((?:\s+\w+ly)?)\s+(leans?|leaning|leaned|leant|tips?|tipped|tipping|pitche?s?|pitched)\b"
     r"(?!\s+(?:his|her|their|the|its)\b)",  # "leans his hips over" names what leans
     " \\1\\2\\3 trunk \\4 "),
    # hips "too high" or above the shoulders are piked, "too low" sagging (not a squat's depth)
    (r"\b(hips?|butt|bum|backside|pelvis|glutes?)\b(.*?)\b((too|overly|excessively) (high|up)|"
     r"(higher than|above) (the |his |her |their )?(shoulders?|head))\b", " \\1\\2 pike "),
    (r"\b(hips?|butt|bum|backside|pelvis|glutes?)\b(.*?)\b(too|overly|excessively) (low|down)\b",
     " \\1\\2 sag "),
    # below or above the body's line, in a plank or a push-up, is a sag or a pike
    (r"\b(below|under|beneath|underneath) (the |his |her |their )?(body )?line\b", " sag "),
    (r"\b(above|over) (the |his |her |their )?(body )?line\b", " pike "),
    # stopping short of a position is not reaching it
    (r"\b(stops?|stopping|stopped|falls?|falling|fell|comes?|coming|came) short of\b", " not "),
    # a longer step is the step's size, not a longer time ("she takes longer steps")
    (r"\btakes? (much |a lot |a bit )?(longer|shorter|bigger|smaller|wider|narrower) "
     r"(steps?|strides?)\b", " \\3 \\2 "),
    # so is a longer or shorter anything else taken ("takes a shorter, more compact
    # backswing"): the size of the thing, not a time, unless the thing is time itself
    (r"\btakes? (a |an )?(much |a lot |a bit )?(longer|shorter|bigger|smaller|wider|narrower)"
     r"((,| and) (more |less )?\w+)? (?!(time|while|moment|seconds?|rest|pause|break|to|than|at|"
     r"on|in|for|with|from|over|during|when|and|the|his|her|their)\b)(\w+)", " \\8 \\3 "),
    # standing or staying on one leg is a balance, timed by the stage's duration
    (r"\b(stands?|standing|stood|stays?|staying|stayed|balances?|balancing|balanced|remains?|"
     r"holds?|holding|held) (up )?on (one|a single|the (left|right|other|standing)) (leg|foot)\b",
     " balance "),
    # a person who stays or stands upright: the posture, the trunk's line ("the jump is more
    # vertical" is not about the trunk)
    (r"\b(stays?|staying|stayed|stands?|standing|stood|remains?|remaining|sits?|sitting|is|"
     r"are|was|were) "
     r"((?:not |no |less |more |very |much |fairly |quite |so |as )*)(upright|tall|taller|erect)\b",
     " posture \\2 \\3 "),
    (r"\bfor (much |a lot |a bit )?more time\b", " longer "),
    (r"\bfor (much |a lot |a bit )?less time\b", " shorter "),
    (r"\btakes? (much |a lot |a bit )?more time\b", " take longer "),
    (r"\b(takes?|taking|took) (his|her|their|its) time\b", " take longer "),
    (r"\btakes? (much |a lot |a bit )?less time\b", " take shorter "),
    _contrast_said(),
    # bending, the verb, says how far a joint bends (its smallest angle: "the elbows bend
    # more"); "bent" or "straight", the state, says whether a joint that should straighten
    # does ("the arms stay bent", "keeps the arms dead straight": the elbow's largest angle)
    (r"\b(bend|bends|bending|flex|flexes|flexing)\b(?! (over|and|or)\b)", " \\1 flexverb "),
    (r"-", " "),
)


def _stem(word: str) -> str:
    """A crude suffix stripper, applied the same way to phrases and statements."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


@dataclass(frozen=True)
class Reading:
    """A statement as concepts: their signs (polar concepts), positions and the flips."""

    concepts: dict[str, int]
    positions: dict[str, int]
    flips: int
    off_body: bool = False
    mixed: frozenset[str] = frozenset()  # polar concepts said both ways ("up ... lower")


#: Names of a whole movement -- exercises and strokes, as nouns or as verbs. Said with a pace
#: word and no body part ("the squat is quicker", "he squats faster", "the jacks are
#: rushed"), before the pace word, they are the movement's own pace: :func:`read_words` adds
#: the concept ``motion``, whose phrases are the movement's time ("she moves more briskly
#: through the jacks" is said of her, not of the jacks). A body part named beside them keeps
#: the statement about that part ("the lunge is quicker at the hips" is not rewritten); an
#: action that has pace phrases of its own (a kick's foot speed, a jump) is not listed.
ACTION_WORDS = frozenset(_words(
    "squat squats squatting squatted lunge lunges lunging lunged jack jacks pushup pushups "
    "pullup pullups situp situps crunch crunches burpee burpees deadlift deadlifts deadlifting "
    "curl curls curling press presses pressing row rows rowing swing swings swinging "
    "lift lifts lifting exercise exercises drill drills routine routines cycle cycles "
    "stroke strokes serve serves serving throw throws throwing shot shots"))


def read_words(text: str) -> Reading:
    """The statement's concepts (first occurrence wins a polar sign) and its negations."""
    t = f" {text.lower()} "
    for pattern, repl in EXPRESSIONS:
        t = re.sub(pattern, repl, t)
    concepts: dict[str, int] = {}
    positions: dict[str, int] = {}
    flips = 0
    off_body = False
    mixed: set[str] = set()
    action: int | None = None
    for i, word in enumerate(re.findall(r"[a-z]+", t)):
        if word in FLIPS:
            flips += 1
            continue
        off_body = off_body or word in OFF_BODY
        if word in POLAR:
            concept, sign = POLAR[word]
        elif word in STOP:
            continue
        else:
            concept, sign = SYNONYMS.get(word) or SYNONYMS.get(_stem(word)) or _stem(word), 1
        if concept not in concepts:
            concepts[concept], positions[concept] = sign, i
        elif concepts[concept] != sign:
            mixed.add(concept)
        if word in ACTION_WORDS:
            action = i if action is None else action
    if action is not None and "FAST" in concepts and action < positions["FAST"] \
            and not BODY_PARTS.intersection(concepts) and "motion" not in concepts:
        concepts["motion"], positions["motion"] = 1, action
    return Reading(concepts, positions, flips, off_body, frozenset(mixed))


# --------------------------------------------------------------------------------------------
# Moments and sides
# --------------------------------------------------------------------------------------------

_MOMENTS: tuple[tuple[Moment, str], ...] = (
    ("descent", r"\bdescent\b|\bway down\b|\bgoing down\b|\blowering\b|\bas (he|she|they) "
                r"lowers?\b|\bcomes? down\b|\bbar comes down\b"),
    ("ascent", r"\bascent\b|\bway up\b|\bcoming up\b|\bstands? up\b|\bstanding up\b|"
               r"\bout of the (bottom|hole)\b|\bpush(es)? (back )?up\b|\bgrinds? .*\bup\b"),
    ("bottom", r"\bbottom\b|\bin the hole\b|\blowest point\b|\bdeepest point\b"),
    ("top", r"\btop\b|\bat lockout\b"),
    ("throughout", r"\bthroughout\b|\bthe whole (time|plank|set|rep|movement)\b|\ball the time\b"
                   r"|\bduring the (set|rotation|lift|hold|plank|balance)\b"),
)

#: The stage hint of each moment, as the offline engine's stage rule reads it
#: (:func:`viddiff.graphs.measured_answers.resolve_stage`); throughout is the whole clip.
STAGE_OF_MOMENT: dict[str, str | None] = {"bottom": "bottom", "top": "top", "descent": "descent",
                                          "ascent": "ascent", "throughout": None}


def moment_of(text: str) -> Moment | None:
    """The moment a statement names, or None."""
    t = text.lower()
    for moment, pattern in _MOMENTS:
        if re.search(pattern, t):
            return moment
    return None


#: "Right" that says when or where exactly, not which side: not after a word that makes it a
#: noun or an adjective ("the right", "his right", "on the right"), and before a word of time
#: or place ("right away", "right after the bottom", "right up to the bar"), or in "all right".
_ADVERB_RIGHT = re.compile(
    r"\ball right\b|(?<!\bthe )(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bits )(?<!\bmy )"
    r"(?<!\byour )(?<!\ba )\bright (?=(away|now|after|before|at|up|down|through|back|into|onto|"
    r"there|then|here|until|till|from|to|as|when|off|over|under|below|above|in|out)\b)")


def side_of(text: str) -> Literal["left", "right"] | None:
    """"left" or "right" when the statement names exactly one of them (not "than the right")."""
    t = text.lower()
    if re.search(r"\bthan the (left|right)\b|\binstead of the (left|right)\b|\b(to|towards) "
                 r"(the|his|her|their) (left|right)\b|\bweight\b", t):
        return None  # a comparison of the sides, or a direction: the metric's sign carries it
    # "right" as an adverb ("starts right away", "right at the bottom", "all right") is no side
    t = _ADVERB_RIGHT.sub(" ", t)
    sides = {s for s in ("left", "right") if re.search(rf"\b{s}\b", t)}
    return sides.pop() if len(sides) == 1 else None  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Phrases: the catalogue's, and those of properties not measured yet
# --------------------------------------------------------------------------------------------

#: Properties people name that the catalogue has no metric for yet: phrases (as in
#: ``MetricSpec.phrases``) and the reason given. A statement about them is refused, not
#: answered with a metric that only sounds close. The last ones issue 22 named (descent and
#: ascent time, hip sag and pike, knee extension at the top, chest depth) joined the catalogue;
#: a property named before it is measured goes here, with its closest metrics in
#: :data:`CLOSEST`.
NOT_YET_MEASURED: dict[str, tuple[str, tuple[str, ...]]] = {
    # the knees' travel forward over the toes: no signal reads the knee against the foot
    # along the direction the person faces
    "knee_forward": ("how far the knees travel forward over or past the toes is not measured",
                     ("knee forward floor", "knee forward toe", "knee over toe forward")),
}


#: Words that name a property without saying against what it is measured: a statement that
#: matches one of these phrases best is refused with the reason, its readings offered as the
#: suggestions (:data:`CLOSEST`). "The hips are higher" may be the hips against the floor at
#: the bottom of a squat (``hip_depth``) or against the shoulder-ankle line of a push-up
#: (``hip_pike``); answering either would answer the other statement wrongly.
UNCLEAR: dict[str, tuple[str, tuple[str, ...]]] = {
    "hip_height_unclear": ("'the hips are higher' alone does not say against what: the floor "
                           "at the bottom of a squat, or the line from the shoulders to the "
                           "ankles in a plank or push-up", ("hip high",)),
}


#: What an unclear property means when the action is known: the first of its concepts the
#: action's own words name (read by the same grammar: "a lunge with a balance hold" names
#: ``squat``), and the metric it is then. In a squat, a lunge or a jump the hips move up and
#: down against the floor, so "the hips go lower" is their depth; in a push-up or a plank it
#: would be the body line, where higher and lower are two metrics (pike and sag), so those
#: stay refused.
UNCLEAR_BY_ACTION: dict[str, tuple[tuple[str, str], ...]] = {
    "hip_height_unclear": (("squat", "hip_depth"), ("jump", "hip_depth")),
}


#: The measurable metrics closest to each not-yet-measured or unclear property, offered first
#: when a statement about it is refused.
CLOSEST: dict[str, tuple[str, ...]] = {
    "hip_height_unclear": ("hip_depth", "hip_pike", "hip_sag"),
    "knee_forward": ("knee_angle_min", "trunk_lean_max", "heel_lift_max"),
}


def _refused() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every refused property with its reason and phrases: not measured yet, or unclear."""
    return {**NOT_YET_MEASURED, **UNCLEAR}


@dataclass(frozen=True)
class _Phrase:
    metric: str
    text: str
    sign: int
    concepts: dict[str, int]
    flips: int


def _plain(sentence: str) -> str:
    """A catalogue sentence without its parenthetical ("the hips drop lower (deeper)")."""
    return re.sub(r"\([^)]*\)", " ", sentence).strip()


@lru_cache(maxsize=1)
def _phrases() -> tuple[tuple[tuple[_Phrase, ...], tuple[_Phrase, ...]], dict[str, float]]:
    """The phrases in two tiers -- the refused (:func:`_refused`) and the catalogue's
    ``phrases``, then the catalogue's ``more``/``less`` wording -- and each concept's weight
    (rarer: more)."""
    from viddiff.tools.kinematics.registry import METRICS  # the catalogue loads on first use

    # the refused first: on a tie, refusing is safer than a metric that sounds close
    sources = [(name, phrases) for name, (_, phrases) in _refused().items()]
    sources += [(spec.name, spec.phrases) for spec in METRICS.values() if spec.side is None]
    # then each metric's own "more"/"less" wording, read only when no phrase matches (they
    # share words across metrics: "the hands stay higher", "the hands reach higher")
    # (a sentence of polar words alone, "it is quicker", says too little to be read)
    wording = [(spec.name, tuple(s for s in (_plain(spec.more), "-" + _plain(spec.less))
                                 if any(c not in _POLAR_CONCEPTS for c in read_words(s).concepts)))
               for spec in METRICS.values() if spec.side is None]
    tiers: list[list[_Phrase]] = [[], []]
    for tier, group in enumerate((sources, wording)):
        for metric, phrases in group:
            for phrase in phrases:
                sign = -1 if phrase.startswith("-") else 1
                reading = read_words(phrase.lstrip("-"))
                tiers[tier].append(_Phrase(metric, phrase, sign, reading.concepts,
                                           reading.flips))
    df: dict[str, int] = {}
    for p in tiers[0] + tiers[1]:
        for c in p.concepts:
            df[c] = df.get(c, 0) + 1
    n = len(tiers[0]) + len(tiers[1])
    weights = {c: 1.0 + math.log(n / k) for c, k in df.items()}
    return (tuple(tiers[0]), tuple(tiers[1])), weights


# --------------------------------------------------------------------------------------------
# Understanding
# --------------------------------------------------------------------------------------------


class Understanding(BaseModel):
    """What a statement asks, or why it cannot be measured (with help)."""

    model_config = ConfigDict(frozen=True)

    text: str
    metric: str | None = Field(default=None, description="The catalogue metric, side included.")
    direction: Direction | None = Field(
        default=None, description="higher: the statement is truer of the video whose value "
                                  "is higher (value_a - value_b > 0 makes it truer of A).")
    moment: Moment | None = None
    side: Literal["left", "right"] | None = None
    phrase: str | None = Field(default=None, description="The catalogue phrase that matched.")
    refusal: str | None = Field(default=None, description="Why nothing is measured.")
    suggestions: tuple[str, ...] = Field(
        default=(), description="The closest statements that can be measured (on refusal).")
    read_by: str | None = Field(
        default=None, description="The language model that mapped the statement; None: the "
                                  "phrase reader here did.")
    model_reason: str | None = Field(
        default=None, description="The model's own one-line reason for its mapping.")
    model_note: str | None = Field(
        default=None, description="Why a model's mapping was not used, when the phrase "
                                  "reader answered in its place.")
    settled_by: str | None = Field(
        default=None, description="The action that settled what words alone leave unclear "
                                  "(\"the hips go lower\" in a lunge is their depth).")
    side_not_read: Literal["left", "right"] | None = Field(
        default=None, description="The side the statement names when the metric it maps to "
                                  "has no one-sided reading: the answer is about both sides.")

    @property
    def query(self) -> MetricQuery | None:
        """The metric query the offline engine and the measure tool read."""
        if self.metric is None or self.direction is None:
            return None
        stage = STAGE_OF_MOMENT[self.moment] if self.moment else None
        return MetricQuery(metric=self.metric, stage_hint=stage, direction=self.direction)

    @property
    def why(self) -> str:
        """One line for the result's ``rule``: which phrase matched or which model mapped it,
        or the refusal; and why a model's mapping was not used, when it was not."""
        if self.metric is None:
            return (self.refusal or "") + self._not_the_model()
        if self.read_by is not None:
            at = f" at the {self.moment}" if self.moment else ""
            why = f": {self.model_reason}" if self.model_reason else ""
            return f"understood by the model {self.read_by!r} as {self.metric} " \
                   f"({self.direction}){at}{why}"
        settled = f", as the action is {self.settled_by!r}" if self.settled_by else ""
        both = f"; it says the {self.side_not_read} side, but this is measured on both sides " \
               "together (it has no one-sided reading)" if self.side_not_read else ""
        return f"understood as {self.metric} ({self.direction}) from the phrase " \
               f"{self.phrase!r}{settled}{both}{self._not_the_model()}"

    def _not_the_model(self) -> str:
        """Why the phrase reader answered although a model was asked ("" when none was)."""
        return f" (the model's mapping was not used: {self.model_note})" if self.model_note \
            else ""

    def help_text(self) -> str:
        """The refusal and the suggestions, as one sentence for a reason."""
        tips = "; ".join(f"{s!r}" for s in self.suggestions)
        text = f"{self.refusal}; measurable statements close to it: {tips}" if tips \
            else (self.refusal or "")
        return text + self._not_the_model()


def _phase_object(reading: Reading, phrase: _Phrase, parts: frozenset[str] | set[str]) -> bool:
    """Whether the body parts named are what a phase's verb moves, not its subject: "she
    slowly lowers her chest" is the way down's time (the chest is lowered), "the hips rise
    faster" the hips' own speed (they are the subject)."""
    phases = [c for c in ("descent", "ascent") if c in phrase.concepts and c in reading.concepts]
    return bool(phases) and all(reading.positions[part] > reading.positions[phases[0]]
                                for part in parts)


def _best(reading: Reading, side: str | None, one_clause: bool = False) -> _Phrase | None:
    """The most specific matching phrase; with a side named, one whose metric has that side's
    variant first ("the left hand stays lower": the highest hand, which has sides).

    In ``one_clause`` (a reading of a single clause) the body part named first is the
    subject, and a phrase about it beats one about a body part named later, which is a level
    or a place ("she holds her hands up by her chest" is the hands' height, not the chest's).
    Across clauses each has its own subject, so there the most specific phrase decides."""
    from viddiff.tools.kinematics.registry import METRICS

    tiers, weights = _phrases()
    for phrases in tiers:
        best: tuple[tuple[bool, bool, float, int], _Phrase] | None = None
        parts = BODY_PARTS.intersection(reading.concepts)
        paced = "FAST" in reading.concepts
        subject = min(parts, key=lambda c: reading.positions[c]) if parts and one_clause else None
        for p in phrases:
            if not p.concepts or any(c not in reading.concepts for c in p.concepts):
                continue
            if parts and not parts.intersection(p.concepts) and "body" not in p.concepts \
                    and not _phase_object(reading, p, parts):
                continue
            if paced and p.metric in METRICS and METRICS[p.metric].kind not in PACE_KINDS:
                continue  # "the hips travel faster" is about speed, not how far they travel
            score = sum(weights.get(c, 1.0) for c in p.concepts)
            first = -min(reading.positions[c] for c in p.concepts)
            key = (side is not None and f"{p.metric}_{side}" in METRICS,
                   subject is None or subject in p.concepts, score, first)
            if best is None or key > best[0]:
                best = (key, p)
        if best is not None:
            return best[1]
    return None


#: Where a statement splits into clauses, each read on its own first ("she shoots with stiffer
#: legs and barely bends the knees": the negation belongs to the second clause only).
_CLAUSE = re.compile(r"[,;]|\bbut\b|\bwhile\b|\bwhereas\b|\band (?=(the|his|her|their|she|he|"
                     r"they|barely|hardly|only|never|does|doesn)\b)|\bas (?=(he|she|they)\b)")


def _clauses(text: str) -> list[str]:
    """The statement's clauses (:data:`_CLAUSE`), each a piece of the lower-cased text."""
    return [c for c in _CLAUSE.split(text.lower()) if c and c.strip() and not _CLAUSE.fullmatch(c)]


def _stray_direction(text: str, phrase: _Phrase) -> str | None:
    """A direction word's concept of ``phrase`` read from a clause that names none of the
    phrase's other concepts, or None.

    A reading pieced together across clauses takes each polar word from the first clause that
    has it: in "the hands stay low, the hips rise" a phrase "hip high" would take its direction
    from "low", which is said of the hands. When that clause names nothing else of the phrase,
    the direction belongs to something else and the reading is a guess, so it is refused. A
    statement and its opposite have the same clauses, so both are refused alike."""
    clauses = _clauses(text)
    anchors = [c for c in phrase.concepts if c not in _POLAR_CONCEPTS]
    if len(clauses) < 2 or not anchors:
        return None
    readings = [read_words(clause).concepts for clause in clauses]
    for concept in phrase.concepts:
        if concept not in _POLAR_CONCEPTS:
            continue
        first = next((r for r in readings if concept in r), None)
        if first is not None and not any(a in first for a in anchors):
            return concept
    return None


def _score(phrase: _Phrase) -> float:
    weights = _phrases()[1]
    return sum(weights.get(c, 1.0) for c in phrase.concepts)


def _best_in_clauses(text: str, side: str | None, metric: str) -> tuple[_Phrase, Reading] | None:
    """The best phrase of ``metric`` matched wholly inside one clause, with that clause's
    reading; None when the statement is one clause or no clause matches it on its own.

    Any clause that names the property on its own counts, not only the best-matching one: in
    "the lunge is shallow, the front knee hardly bends" the first clause reads best as the
    hips' depth, the second as the knee's bend the whole statement matched, and the
    direction is the second clause's ("hardly bends"), not the product of both clauses'
    signs (shallow times hardly-bends, a double negative)."""
    clauses = _clauses(text)
    if len(clauses) < 2:
        return None
    best: tuple[float, _Phrase, Reading] | None = None
    for clause in clauses:
        reading = read_words(clause)
        phrase = _best(reading, side, True)
        if phrase is None or phrase.metric != metric:
            continue
        score = _score(phrase)
        if best is None or score > best[0]:
            best = (score, phrase, reading)
    return (best[1], best[2]) if best is not None else None


def _whole_in_clause(text: str, side: str | None,
                     phrase: _Phrase) -> tuple[_Phrase, Reading] | None:
    """The best phrase one clause matches on its own about the body part of ``phrase``, when
    ``phrase`` is pieced together from words of several clauses; None otherwise.

    In "the hips sag as he pushes up" the words "hip push high" (the hips piking) are taken from
    two clauses, while the first clause says all of "hip sag" itself: what a clause says of its
    subject is the claim, and a word of a later clause ("pushes up", the moment) is not about
    it. Only a clause phrase naming the same body part counts, so "the knee, at the bottom,
    bends more" (no clause names the knee's bend alone) keeps its pieced reading, and only words
    borrowed from later clauses: an earlier clause sets the scene ("the curl stops short, the
    elbow stays open" is the curl's elbow)."""
    clauses = _clauses(text)
    if len(clauses) < 2:
        return None
    readings = [read_words(clause) for clause in clauses]
    if any(all(c in r.concepts for c in phrase.concepts) for r in readings):
        return None  # one clause says the whole phrase: not pieced
    parts = BODY_PARTS.intersection(phrase.concepts)
    best: tuple[float, _Phrase, Reading] | None = None
    for i, reading in enumerate(readings):
        found = _best(reading, side, True)
        if found is None or not parts.intersection(found.concepts):
            continue
        borrowed = [c for c in phrase.concepts if c not in reading.concepts]
        if parts.intersection(borrowed):
            continue  # two body parts of two clauses are compared ("the feet ..., the knees")
        if any(c in r.concepts for r in readings[:i] for c in borrowed):
            continue  # words of an earlier clause set the scene ("the curl stops short, ...")
        if best is None or _score(found) > best[0]:
            best = (_score(found), found, reading)
    return (best[1], best[2]) if best is not None else None


def _direction(phrase: _Phrase, reading: Reading) -> Direction:
    sign = phrase.sign * (-1) ** (reading.flips + phrase.flips)
    for concept, s in phrase.concepts.items():
        sign *= s * reading.concepts[concept]
    return "higher" if sign > 0 else "lower"


@lru_cache(maxsize=1)
def _suggestion_sources() -> tuple[tuple[str, frozenset[str]], ...]:
    """Each two-sided metric's ``more`` wording and the concepts of all its words, read once
    (reading them on every refusal made a refusal ten times slower than an answer)."""
    from viddiff.tools.kinematics.registry import METRICS

    sources = []
    for spec in METRICS.values():
        if spec.side is not None:
            continue
        words = " ".join((spec.more, spec.less, spec.label, *(p.lstrip("-") for p in spec.phrases)))
        sources.append((spec.more, frozenset(read_words(words).concepts)))
    return tuple(sources)


def suggestions_for(text: str, n: int = 3) -> tuple[str, ...]:
    """The ``n`` measurable statements (the catalogue's ``more`` wording) closest to ``text``:
    by shared concepts with the metric's phrases and wording, then by string similarity."""
    from rapidfuzz import fuzz

    reading = read_words(text)
    scored = []
    for more, concepts in _suggestion_sources():
        shared = len(concepts & set(reading.concepts))
        scored.append((shared, fuzz.token_set_ratio(text.lower(), more), more))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return tuple(s[2] for s in scored[:n])


def _with_first(first: str, text: str, n: int = 3) -> tuple[str, ...]:
    """``first`` (the statement a refusal hesitated on), then the closest others, ``n`` in all."""
    rest = [s for s in suggestions_for(text, n + 1) if s != first]
    return (first, *rest)[:n]


def _meant_in(unclear: str, action: str) -> str | None:
    """The metric an unclear property is in ``action`` (:data:`UNCLEAR_BY_ACTION`), or None."""
    if not action:
        return None
    named = read_words(action).concepts
    return next((metric for concept, metric in UNCLEAR_BY_ACTION.get(unclear, ())
                 if concept in named), None)


def understand(text: str, action: str = "") -> Understanding:
    """Map a free-text statement to a metric, direction, moment and side, or refuse with help.

    ``action`` (what both videos show, e.g. "a lunge") settles a property the words alone
    leave unclear (:data:`UNCLEAR_BY_ACTION`); nothing else depends on it."""
    from viddiff.tools.kinematics.registry import METRICS

    reading = read_words(text)
    moment = moment_of(text)
    side = side_of(text)
    if reading.off_body:
        return Understanding(text=text, moment=moment, side=side,
                             refusal="about something body pose does not see (gaze, grip, "
                                     "breathing, the face, fingers, equipment, the scene)",
                             suggestions=suggestions_for(text))
    phrase = _best(reading, side, len(_clauses(text)) == 1)
    whole = _whole_in_clause(text, side, phrase) if phrase is not None else None
    if whole is not None:
        phrase, reading = whole  # what one clause says of the subject, not words pieced together
    in_clause = _best_in_clauses(text, side, phrase.metric) if phrase is not None else None
    if in_clause is not None:
        phrase, reading = in_clause  # the same property, its direction read in its own clause
    elif phrase is not None and phrase.metric in METRICS:
        stray = _stray_direction(text, phrase)
        if stray is not None:
            return Understanding(
                text=text, moment=moment, side=side, phrase=phrase.text,
                refusal=f"the words fit {METRICS[phrase.metric].more!r}, but the word that "
                        f"says which way ({stray.lower()}) is in another part of the sentence "
                        "than what it would describe, so the direction is not clear",
                suggestions=_with_first(METRICS[phrase.metric].more, text))
    if phrase is None:
        return Understanding(text=text, moment=moment, side=side,
                             refusal="no measured property matches these words",
                             suggestions=suggestions_for(text))
    meant = _meant_in(phrase.metric, action)
    if meant is not None:
        phrase = _Phrase(meant, phrase.text, phrase.sign, phrase.concepts, phrase.flips)
    if phrase.metric in _refused():
        return Understanding(text=text, moment=moment, side=side, phrase=phrase.text,
                             refusal=_refused()[phrase.metric][0],
                             suggestions=tuple(METRICS[m].more for m in CLOSEST[phrase.metric]))
    said_both = sorted(reading.mixed.intersection(phrase.concepts))
    if said_both:
        return Understanding(text=text, moment=moment, side=side, phrase=phrase.text,
                             refusal=f"the words match {phrase.metric!r} but say "
                                     f"{' and '.join(c.lower() for c in said_both)} both ways, "
                                     "so the direction is not clear",
                             suggestions=suggestions_for(text))
    metric = phrase.metric
    if side is not None and metric + f"_{side}" in METRICS:
        metric = f"{metric}_{side}"
    sided = side is not None and metric.endswith(f"_{side}")
    return Understanding(text=text, metric=metric, direction=_direction(phrase, reading),
                         moment=moment, side=side if sided else None,
                         side_not_read=side if side is not None and not sided else None,
                         phrase=phrase.text, settled_by=action if meant is not None else None)
