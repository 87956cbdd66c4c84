"""What learning a partner's own take of a cue adds, measured with the code a session runs.

    .venv/bin/python benchmarks/enrolment.py DIR [--thresholds 7,8,8.75,9.5,10.5] [--conversation TALK] [--keys]
                                             [--unadapted]

DIR is a folder in the Speech Commands layout (`DIR/<word>/<speaker>_nohash_<take>.wav`, see
benchmarks/speech_commands_layout.py), such as the v0.02 test set. A session learns each
partner's "your turn"; these speakers never said it, so the measurement uses the cue words they did
say (yes, no, stop, go). For every speaker with two or more takes of such a word, the first take
is offered to the listener's learning mode (`CueListener.learn_next`), which keeps it only where
the grammar names the word's phrase. Speakers are paired in order, as couples: while a speaker's
other clips are heard, both partners' takes are loaded, as in a session. Every later take of a
learned word should be heard as its cue; the speaker's words that are no cue should not be heard
as any. Each clip is heard once with the largest threshold; a clip a take rescued carries its
distance, so each smaller threshold is counted from the same pass.

--conversation TALK hears the real talk files under TALK (as `benchmarks/cues.py --conversation`)
listening for the floor cues, with takes of "your turn" learned from two eSpeak NG voices standing
in for the couple. It prints the false cues with and without the takes, and how many segments of
the talk any take could rescue at all: rejected, but with a phrase of `done` named by the grammar.
The couple's own voices would lie nearer their own talk than these voices do, so the second
figure is the bound that holds for any voices.

--keys measures learning from the keyboard instead (`CueListener.cue_keyed`): speakers are paired
in order as couples, and each couple's cue takes are heard in order, the partners' alternating,
as in one session. After each take missed, the take's key is pressed. Nothing is learned
beforehand. It prints how many takes were heard by the model alone and with what the keys
taught, also counted over the takes said after a learned miss of the same word by the same
speaker, and how many of the couple's other words were then taken for a cue.

Prints one line per threshold, then one JSON object. About 14 minutes on one core for the v0.02
test set, 6 more for --conversation over 78 minutes of talk (it hears the talk three times);
--keys prints three lines and one JSON object in about 6 minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.commands import learn_take, padded, spot_samples  # noqa: E402
from assistant.ears.listener import KEYS_TEACH_NOT, CueListener  # noqa: E402
from assistant.ears.microphone import read_wav  # noqa: E402
from assistant.ears.spotter import LIKE_THE_TAKE, RESCUABLE, SphinxCueSpotter, SpotterConfig, Verdict  # noqa: E402
from assistant.ears.vad import FRAME, Segment  # noqa: E402
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE  # noqa: E402
from assistant.events import CueHeard, Event  # noqa: E402
from assistant.session import FLOOR_CUES  # noqa: E402
from benchmarks.cues import ADAPTED_SPEAKERS, conversation, espeak  # noqa: E402
from benchmarks.speech_commands_layout import speaker_of  # noqa: E402

CUE_WORDS = {"yes": "yes", "no": "no", "stop": "stop", "go": "next"}
"""Recorded word -> the cue it gives."""
COUPLE_VOICES = [("en-us", 160), ("en-gb+f3", 140)]
"""The eSpeak NG voices whose "your turn" stands in for the couple's in --conversation."""
ALL_CUES = sorted(CUE_PHRASES)


@dataclass
class Outcome:
    """What the listener made of one clip."""

    model: str | None = None
    """The cue the general model accepted, if any."""
    rescues: list[tuple[str, float]] = field(default_factory=list)
    """Cues a learned take made of a rejected segment, with the distance to the take."""

    def cue(self, threshold: float | None) -> str | None:
        """The cue acted on with takes rescuing below `threshold` (None: no takes)."""
        if self.model is not None or threshold is None:
            return self.model
        return next((cue for cue, d in self.rescues if d < threshold), None)


def hear(spotter: SphinxCueSpotter, samples: np.ndarray, cues: list[str]) -> Outcome:
    outcome = Outcome()

    def note(_segment: Segment, verdict: Verdict) -> None:
        det = verdict.detection
        if det is None:
            return
        if verdict.reason == LIKE_THE_TAKE and verdict.take_distance is not None:
            outcome.rescues.append((det.cue, verdict.take_distance))
        elif outcome.model is None:
            outcome.model = det.cue

    spot_samples(samples, cues, spotter, on_verdict=note)
    return outcome


@dataclass
class Counts:
    takes: int = 0
    """Later takes of a learned word."""
    other_words: int = 0
    """The same speakers' clips of words that are no cue."""
    heard: dict[str, int] = field(default_factory=dict)
    false: dict[str, int] = field(default_factory=dict)
    learned: int = 0
    offered: int = 0
    """First takes offered to learning, and how many were kept."""


def speech_commands(spotter: SphinxCueSpotter, folder: Path, thresholds: list[float]) -> Counts:
    takes = speakers_takes(folder)
    counts = Counts()
    speakers = sorted(takes)
    firsts: dict[str, dict[str, np.ndarray]] = {}
    for speaker in speakers:
        words = takes[speaker]
        firsts[speaker] = {w: read_wav(words[w][0]) for w in CUE_WORDS if len(words.get(w, [])) >= 2}
    levels: list[tuple[str, float | None]] = [("alone", None), *((f"{t:g}", t) for t in thresholds)]
    for level, _ in levels:
        counts.heard[level] = counts.false[level] = 0
    for n, speaker in enumerate(speakers):
        if not firsts[speaker]:
            continue
        partner = speakers[(n + 1) % len(speakers)]
        spotter.templates.clear()
        for who in (speaker, partner):
            for word, samples in firsts[who].items():
                kept = learn_take(spotter, samples, CUE_WORDS[word])
                if who == speaker:
                    counts.offered += 1
                    counts.learned += kept
        for word, paths in takes[speaker].items():
            if word in CUE_WORDS and word not in firsts[speaker]:
                continue  # a single take: nothing to learn from it
            # A take that was not learned stays in: that speaker is heard by the model alone.
            for path in paths[1:] if word in CUE_WORDS else paths:
                outcome = hear(spotter, read_wav(path), ALL_CUES)
                if word in CUE_WORDS:
                    counts.takes += 1
                else:
                    counts.other_words += 1
                for level, threshold in levels:
                    cue = outcome.cue(threshold)
                    if word in CUE_WORDS:
                        counts.heard[level] += cue == CUE_WORDS[word]
                    else:
                        counts.false[level] += cue is not None
    return counts


def speakers_takes(folder: Path) -> dict[str, dict[str, list[Path]]]:
    """Each speaker's clips by word, in take order; not the speakers the model was adapted to."""
    takes: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(folder.glob("*/*_nohash_*.wav")):
        speaker = speaker_of(path)
        if speaker not in ADAPTED_SPEAKERS:
            takes[speaker][path.parent.name].append(path)
    return takes


@dataclass
class KeyCounts:
    takes: int = 0
    heard_by_model: int = 0
    heard: int = 0
    """By the model, or by a take a key taught."""
    keyed_takes: int = 0
    """Misses a key turned into a take."""
    after_a_learned_miss: int = 0
    """Takes of a word said after a miss of the same word was learned..."""
    heard_by_model_after: int = 0
    heard_after: int = 0
    """...and how many of those were heard by the model alone, and in all."""
    other_words: int = 0
    false_by_model: int = 0
    false: int = 0


class KeyedSession:
    """One couple's clips heard one after another, a missed cue keyed at once. Each clip has a
    listener of its own, as `spot_samples` gives it: the clips come from many rooms, and one
    endpointer running through them all would carry one room's noise floor into the next. The
    takes (in the spotter) and the count of keyed takes go on from clip to clip."""

    def __init__(self, spotter: SphinxCueSpotter) -> None:
        self.spotter = spotter
        self.keyed_takes: dict[str, int] = {}
        spotter.templates.clear()
        spotter.listen_for(ALL_CUES)

    def hear(self, path: Path, key_if_missed: str | None = None) -> tuple[str | None, bool, bool]:
        """The first cue acted on in the clip, whether a learned take made it one, and whether
        the key of `key_if_missed`, pressed in the quiet after a clip that missed it, taught a take."""
        events: list[Event] = []
        reasons: list[str] = []
        listener = CueListener(
            self.spotter, events.append, keyed_takes=self.keyed_takes, on_verdict=lambda _s, v: reasons.append(v.reason)
        )
        *chunks, last = padded(read_wav(path))
        for chunk in (*chunks, last[:-FRAME]):
            listener.feed(chunk)
        cues = [e.cue for e in events if isinstance(e, CueHeard)]
        accepted = [r for r in reasons if r in ("accepted", LIKE_THE_TAKE)]
        cue, by_take = (cues[0], accepted[0] == LIKE_THE_TAKE) if cues else (None, False)
        learned_before = sum(self.keyed_takes.values())
        if key_if_missed is not None and cue != key_if_missed:
            listener.cue_keyed(key_if_missed)
        listener.feed(last[-FRAME:])  # the listening thread learns at its next chunk
        return cue, by_take, sum(self.keyed_takes.values()) > learned_before


def learning_from_keys(spotter: SphinxCueSpotter, folder: Path) -> KeyCounts:
    """Speakers paired in order as couples, one session each: their cue takes alternate, each
    missed take is keyed, and the couple's takes count together against `max_keyed_takes`."""
    counts = KeyCounts()
    takes = speakers_takes(folder)
    speakers = sorted(takes)
    for couple in (speakers[n : n + 2] for n in range(0, len(speakers), 2)):
        session = KeyedSession(spotter)
        turns = [
            sorted(
                ((speaker, path, word) for word in CUE_WORDS for path in takes[speaker].get(word, [])),
                key=lambda take: (take[1].stem.partition("_nohash_")[2], take[2]),
            )
            for speaker in couple
        ]
        learned: set[tuple[str, str]] = set()
        for speaker, path, word in (take for pair in itertools.zip_longest(*turns) for take in pair if take):
            expected = CUE_WORDS[word]
            cue, by_take, taught = session.hear(path, key_if_missed=expected)
            counts.takes += 1
            counts.heard += cue == expected
            counts.heard_by_model += cue == expected and not by_take
            if (speaker, word) in learned:
                counts.after_a_learned_miss += 1
                counts.heard_after += cue == expected
                counts.heard_by_model_after += cue == expected and not by_take
            if taught:
                counts.keyed_takes += 1
                learned.add((speaker, word))
        for speaker in couple:
            for word, paths in takes[speaker].items():
                if word in CUE_WORDS:
                    continue
                for path in paths:
                    cue, by_take, _ = session.hear(path)
                    counts.other_words += 1
                    counts.false += cue is not None
                    counts.false_by_model += cue is not None and not by_take
    return counts


@dataclass
class TalkFigures:
    minutes: float
    takes_learned: int
    false_cues_alone: list[str]
    false_cues_with_takes: list[str]
    rescuable_segments: int
    """Rejected segments with a phrase of `done`: the most any takes could turn into false cues."""
    rescuable_by_cue: dict[str, int]
    """The same for each floor cue a key may teach (`listener.KEYS_TEACH_NOT` are never taught)."""
    nearest_distances: list[float]
    """The stand-in takes' distances to the nearest of those segments."""


def talk(spotter: SphinxCueSpotter, folder: Path) -> TalkFigures:
    """False floor cues in real talk without and with the stand-in couple's takes of "your turn"."""
    spotter.templates.clear()
    kept = sum(learn_take(spotter, espeak("your turn", voice, speed), "done") for voice, speed in COUPLE_VOICES)
    with_takes = conversation(spotter, folder)
    # Per floor cue a take may be learned for, the take distance of each segment it could rescue.
    rescuable: dict[str, list[float | None]] = {cue: [] for cue in sorted(FLOOR_CUES - KEYS_TEACH_NOT)}

    def note(_segment: Segment, verdict: Verdict) -> None:
        model_rejected = verdict.reason in RESCUABLE or verdict.reason == LIKE_THE_TAKE
        cue = PHRASE_TO_CUE.get(verdict.phrase or "")
        if model_rejected and cue in rescuable:
            rescuable[cue].append(verdict.take_distance)

    for path in sorted(folder.rglob("*.wav")):
        spot_samples(read_wav(path), sorted(FLOOR_CUES), spotter, on_verdict=note)
    spotter.templates.clear()
    alone = conversation(spotter, folder)
    distances = sorted(d for d in rescuable["done"] if d is not None)
    return TalkFigures(
        round(alone.minutes, 1),
        kept,
        alone.heard,
        with_takes.heard,
        len(rescuable["done"]),
        {cue: len(segments) for cue, segments in rescuable.items()},
        [round(d, 1) for d in distances[:5]],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--thresholds", default="7,8,8.75,9.5,10.5", help="take distances to count (comma-separated)")
    parser.add_argument("--conversation", type=Path, metavar="TALK", help="a folder of real talk (WAV files)")
    parser.add_argument("--keys", action="store_true", help="measure learning from keys pressed after misses")
    parser.add_argument("--unadapted", action="store_true", help="without the acoustic model's MLLR transform")
    args = parser.parse_args(argv)
    adaptation = {"mllr": None} if args.unadapted else {}
    thresholds = sorted(float(t) for t in args.thresholds.split(","))
    if not any(args.folder.glob("*/*_nohash_*.wav")):
        print(f"no clips in the Speech Commands layout under {args.folder}", file=sys.stderr)
        return 2
    started = time.process_time()
    if args.keys:
        return keys_report(args.folder, started, SpotterConfig(**adaptation))
    spotter = SphinxCueSpotter(SpotterConfig(template_distance=max(thresholds), **adaptation))
    counts = speech_commands(spotter, args.folder, thresholds)
    print(f"first takes learned: {counts.learned} of {counts.offered}")
    for level in counts.heard:
        rule = "the model alone" if level == "alone" else f"takes below {level}"
        print(
            f"{rule}: later takes heard {counts.heard[level]} of {counts.takes}; "
            f"other words taken for a cue {counts.false[level]} of {counts.other_words}"
        )
    summary: dict[str, object] = {
        "takes": counts.takes,
        "other_words": counts.other_words,
        "learned": [counts.learned, counts.offered],
        "heard": counts.heard,
        "false": counts.false,
    }
    if args.conversation is not None:
        spotter.config = SpotterConfig(**adaptation)  # the shipped threshold
        found = talk(spotter, args.conversation)
        summary["conversation"] = dataclasses.asdict(found)
        print(
            f"real talk, {found.minutes} min, floor cues: {len(found.false_cues_alone)} false alone, "
            f'{len(found.false_cues_with_takes)} with {found.takes_learned} stand-in takes of "your turn"; '
            f"{found.rescuable_segments} segments any take could rescue (nearest {found.nearest_distances}); "
            f"by cue a key may teach: {found.rescuable_by_cue}"
        )
    summary["cpu_minutes"] = round((time.process_time() - started) / 60, 1)
    print(json.dumps(summary))
    spotter.close()
    return 0


def keys_report(folder: Path, started: float, config: SpotterConfig) -> int:
    spotter = SphinxCueSpotter(config)
    keyed = learning_from_keys(spotter, folder)
    spotter.close()
    print(
        f"cue takes heard {keyed.heard} of {keyed.takes} ({keyed.heard_by_model} by the model alone); "
        f"{keyed.keyed_takes} misses learned from keys"
    )
    print(
        f"takes after a learned miss of the same word: heard {keyed.heard_after} of "
        f"{keyed.after_a_learned_miss} ({keyed.heard_by_model_after} by the model alone)"
    )
    print(
        f"other words taken for a cue: {keyed.false} of {keyed.other_words} ({keyed.false_by_model} by the model alone)"
    )
    summary = {**dataclasses.asdict(keyed), "cpu_minutes": round((time.process_time() - started) / 60, 1)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
