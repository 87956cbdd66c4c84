"""Benchmark of the cue spotter: real speech, synthetic voices, noise, continuous conversation.

    .venv/bin/python benchmarks/cues.py [--quick] [--unseen DIR]... [--noise WAV] [--conversation DIR]... [--in-context]

Real speech comes from ../shared/speech (never copied here). `--unseen DIR` (repeatable) adds real
clips the recognizer was never tuned on, in Speech Commands' layout (DIR/<word>/*.wav); clips that
are also in ../shared are left out by their source path. `--noise WAV` mixes a real noise
recording into those sets at 10 dB SNR as a row of its own (the goal's "real kitchen noise";
pink noise, the other noisy rows, is steadier and kinder). `--conversation DIR` adds real
continuous speech (every DIR/**/*.wav, read or conversational, with no cue in it) heard while a
partner holds the floor: the false cues per hour. Repeated, each folder gets its line and all of
them one more (benchmarks/sets/conversation*.csv list the two sets measured so far).
`--in-context` says the real cue clips after the end of the first folder's talk, with pauses of
0.25 to 1 s: what the rule "a cue follows a pause" costs.
Synthetic speech is made with espeak-ng into .work/cues-bench (gitignored) and mixed with pink
noise from sox. The rows "session's worker process" hear the cue clips once more as a session
does, the recognizer in a process of its own: their latency is the session's (the other rows
decide one pass after another, in this process). `BASELINE` keeps the last PocketSphinx figures.
Prints a table; the last line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.ears.calibrate import noise_floor_db  # noqa: E402
from assistant.ears.commands import spot_samples  # noqa: E402
from assistant.ears.listener import CueListener  # noqa: E402
from assistant.ears.microphone import read_wav  # noqa: E402
from assistant.ears.spotter import CueSpotter, WhisperCueSpotter  # noqa: E402
from assistant.ears.vad import FRAME, RATE, frame_levels  # noqa: E402
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE  # noqa: E402
from assistant.ears.worker import SpotterProcess  # noqa: E402
from assistant.events import CueUnclear, Event  # noqa: E402
from assistant.session import FLOOR_CUES  # noqa: E402
from benchmarks.speech_commands_layout import speaker_of  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech"
CACHE = ROOT / ".work" / "cues-bench"
REAL_CUES = {"yes": "yes", "no": "no", "stop": "stop", "go": "next"}
BASELINE = (
    "PocketSphinx baseline (the spotter until 2026-12-05, benchmarks/HISTORY.md): real speech 12/20, "
    "v0.01 unseen 15/20, v0.02 test set (117 speakers) 447/726 = 62% with 19/1,251 = 1.5% false accepts; "
    "real + 10 dB noise 5/20; 1 false floor cue in 117.7 min of real talk"
)
ALL = sorted(CUE_PHRASES)

# Ordinary words and couple-talk for the synthetic distractors and the continuous stream.
# Several embed cue words inside longer utterances on purpose: those must not trigger.
# fmt: off
DISTRACTOR_WORDS = (
    "bed bird cat dog down eight five four happy house left marvin nine off on one right "
    "seven sheila six three tree two up wow zero"
).split() + [
    "hello", "maybe", "really", "sorry", "thank you", "listen", "trust", "feel", "honest",
    "together", "because", "tomorrow", "dinner", "know", "yesterday", "goal", "dope",
    "stopwatch", "gnome", "nope",
]
# fmt: on
SENTENCES = [
    "I felt hurt when you did not call me back that night.",
    "I am done with waiting for you to change without talking about it.",
    "Can we stop pretending that everything is fine between us?",
    "I need you to hear me out before you answer.",
    "When you go quiet like that I start to worry about us.",
    "Yesterday I wanted to tell you how much I missed our walks.",
    "It is hard for me to say this but I still trust you a little.",
    "We could try cooking dinner together on Sundays again.",
    "I know I made a mistake and I am sorry for what it did to you.",
    "Please do not wait for me to bring it up every time.",
    "Your turn to choose the film was last week, remember?",
    "I guess I am finished pretending that it does not matter to me.",
    "Sometimes I think we hold on to old stories about each other.",
    "Let us take a break from the phone in the evenings.",
    "It helps me when you ask how my day went and really listen.",
    "I want us to be honest with each other, even when it is hard.",
    "The time out we took last month actually helped me calm down.",
    "No one has ever listened to me the way you did when we met.",
    "I would like to start again, slowly, at our own pace.",
    "Okay so what I mean is that I need more time with you.",
]
PROMPTS = [
    "When you are ready, say next.",
    "Take a moment. If you need a break, say time out.",
    "Now it is your turn to speak. Say I'm done when you have finished.",
    "You can say repeat to hear this again, or stop to end the session.",
    "Listen without interrupting. When the speaker says over to you, swap roles.",
]
VOICES = [("en-us", 160), ("en-gb+f3", 140), ("en-us+m3", 190), ("en-gb-scotland+f2", 170)]


# ---- audio helpers ---------------------------------------------------------------------------


def _loud_frames(x: np.ndarray) -> np.ndarray:
    """Indices of the frames within 30 dB of the peak and well above the floor: the spoken part."""
    lv = frame_levels(x)
    floor = float(np.percentile(lv, 10))
    thr = max(floor + 12.0, float(lv.max()) - 30.0)
    return np.where(lv >= min(thr, float(lv.max()) - 1.0))[0]


def speech_end_s(x: np.ndarray) -> float:
    """Reference end of the spoken word (the end of its last loud frame)."""
    return float(_loud_frames(x)[-1] + 1) * FRAME / RATE


def speech_start_s(x: np.ndarray) -> float:
    """Reference start of the spoken word (its first loud frame)."""
    return float(_loud_frames(x)[0]) * FRAME / RATE


def espeak(text: str, voice: str, speed: int) -> np.ndarray:
    """Synthesize text to 16 kHz int16, cached under .work/."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = "".join(c if c.isalnum() else "_" for c in f"{voice}_{speed}_{text}")[:150]
    path = CACHE / f"{key}.wav"
    if not path.exists():
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
            check=True,
            capture_output=True,
        )
    return read_wav(path)


def recorded_noise(path: Path) -> np.ndarray:
    """A noise recording (any WAV, e.g. Speech Commands' `_background_noise_/doing_the_dishes.wav`)
    as float samples of unit RMS."""
    n = read_wav(path).astype(np.float64)
    return n / np.sqrt(np.mean(n**2))


def pink_noise(seconds: float) -> np.ndarray:
    """Pink noise from sox (float, unit RMS), cached. sox's repeatable mode (-R) draws the same
    noise on every machine, so the noisy rows do not move between runs by the draw alone (they
    moved by up to 3 of 156 cues before)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "pink-repeatable.wav"
    if not path.exists():
        synth = ["synth", "120", "pinknoise", "vol", "0.3"]
        subprocess.run(
            ["sox", "-R", "-n", "-r", "16000", "-b", "16", "-c", "1", str(path), *synth],
            check=True,
            capture_output=True,
        )
    n = recorded_noise(path)
    reps = int(math.ceil(seconds * RATE / len(n))) + 1
    return np.tile(n, reps)


def mix(x: np.ndarray, snr_db: float, offset: int, noise: np.ndarray | None = None) -> np.ndarray:
    """Add noise at this SNR relative to the speech's active level; lead and tail get noise too.
    Pink noise unless a recording (`recorded_noise`) is given: each clip then gets its own stretch
    of it, starting at `offset` samples (wrapping round), since a kitchen is loud in some seconds
    and quiet in others."""
    lv = frame_levels(x)
    active = lv >= lv.max() - 25.0
    frames = x[: len(lv) * FRAME].reshape(-1, FRAME).astype(np.float64)
    speech_rms = math.sqrt(float(np.mean(frames[active] ** 2)))
    lead = np.zeros(int(0.4 * RATE))
    y = np.concatenate([lead, x.astype(np.float64), lead])
    if noise is None:
        noise = pink_noise(len(y) / RATE + 1)[offset % RATE : offset % RATE + len(y)]
    else:
        noise = np.take(noise, np.arange(offset, offset + len(y)), mode="wrap")
    y = y + noise * speech_rms / 10 ** (snr_db / 20)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


# ---- evaluation ------------------------------------------------------------------------------


@dataclass
class Item:
    """One test utterance."""

    name: str
    samples: np.ndarray
    expected: str | None
    """Cue it should give, None for a distractor."""
    speaker: str = ""
    end_s: float = 0.0


@dataclass
class Result:
    """Figures of one condition."""

    name: str
    n_cue: int = 0
    correct: int = 0
    n_other: int = 0
    false: int = 0
    latencies: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    accepts: list[str] = field(default_factory=list)

    @property
    def correct_pct(self) -> float:
        return 100.0 * self.correct / self.n_cue if self.n_cue else float("nan")

    @property
    def false_pct(self) -> float:
        return 100.0 * self.false / self.n_other if self.n_other else float("nan")

    def add(self, other: Result, tag: str = "") -> None:
        """Count another run's figures in (`tag` marks its names in the lists)."""
        self.n_cue += other.n_cue
        self.correct += other.correct
        self.n_other += other.n_other
        self.false += other.false
        self.latencies += other.latencies
        self.misses += [m + tag for m in other.misses]
        self.accepts += [a + tag for a in other.accepts]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(values, q))


def evaluate(name: str, items: list[Item], spotter: CueSpotter, cues: list[str]) -> Result:
    """Each item as a file would be run by `assistant cues`: first cue heard counts."""
    res = Result(name)
    for it in items:
        heard = spot_samples(it.samples, cues, spotter)
        got = heard[0] if heard else None
        if it.expected is None:
            res.n_other += 1
            if got is not None:
                res.false += 1
                res.accepts.append(f"{it.name}->{got.detection.phrase}")
        else:
            res.n_cue += 1
            if got is not None and got.detection.cue == it.expected:
                res.correct += 1
                res.latencies.append(got.decided_s - it.end_s)
            else:
                res.misses.append(it.name)
    return res


STATE_FOR_CUE = {"next": "STEP_INTRO", "yes": "CHECKING", "no": "CHECKING", "stop": "SPEAKING"}
"""Where in a session each real cue word is typically said (the floor cues while a partner talks)."""


def session_listen_sets() -> dict[str, frozenset[str]]:
    """What the session listens for in the states of `STATE_FOR_CUE` (built-in programme)."""
    from assistant.programme import load_builtin
    from assistant.session import S, Session

    session = Session(load_builtin())
    sets = {}
    for name in sorted(set(STATE_FOR_CUE.values())):
        session.machine.set_state(S[name])
        sets[name] = session.listen_cues()
    return sets


def evaluate_as_session(items: list[Item], spotter: CueSpotter) -> Result:
    """Each cue clip heard in the state where it is said; each other clip in every such state."""
    res = Result("real speech, session's cue sets")
    sets = session_listen_sets()
    for it in items:
        states = [STATE_FOR_CUE[it.expected]] if it.expected else sorted(sets)
        for state in states:
            res.add(evaluate(res.name, [it], spotter, sorted(sets[state])), f" in {state}")
    return res


FRAME_OFFSETS = (0, 37, 83, 121, 151)
"""Samples cut from the start of each real clip. A live microphone's 10 ms frames fall anywhere
in a word, and the verdict on a clip can flip with that alignment alone, so each clip is also
heard with these five alignments: a steadier figure than one pass over 20 cue clips."""


def evaluate_at_offsets(items: list[Item], spotter: CueSpotter, name: str = "real speech") -> Result:
    res = Result(f"{name}, {len(FRAME_OFFSETS)} frame offsets")
    for cut in FRAME_OFFSETS:
        shifted = [replace(it, samples=it.samples[cut:], end_s=it.end_s - cut / RATE) for it in items]
        res.add(evaluate(res.name, shifted, spotter, ALL), f"+{cut}")
    return res


def real_items() -> list[Item]:
    """The 150 real clips with their speakers."""
    items = []
    with open(SPEECH / "words.csv", newline="") as f:
        for row in csv.DictReader(f):
            x = read_wav(SPEECH / row["file"])
            items.append(Item(row["file"], x, REAL_CUES.get(row["label"]), row["speaker"], speech_end_s(x)))
    return items


def unseen_items(folder: Path) -> list[Item]:
    """Speech Commands clips in `folder`/<word>/*.wav that ../shared/speech does not hold."""
    return speech_commands_items(folder, lambda speaker: True)


def speech_commands_items(folder: Path, keep: Callable[[str], bool]) -> list[Item]:
    """Clips in `folder`/<word>/*.wav of the speakers `keep` says, less the tuning clips (where
    ../shared/speech is here to say which those are)."""
    known: set[str] = set()
    if (SPEECH / "words.csv").is_file():
        with open(SPEECH / "words.csv", newline="") as f:
            known = {"/".join(Path(row["path"]).parts[-2:]) for row in csv.DictReader(f)}
    items = []
    for path in sorted(folder.glob("*/*.wav")):
        word = path.parent.name
        speaker = speaker_of(path)
        if f"{word}/{path.name}" in known or word.startswith("_") or not keep(speaker):
            continue  # a tuning clip, Speech Commands' background-noise folder, or a voice not wanted
        x = read_wav(path)
        items.append(Item(f"{word}/{path.name}", x, REAL_CUES.get(word), speaker, speech_end_s(x)))
    return items


def synth_items(quick: bool) -> list[Item]:
    """Cue phrases and distractor words in several espeak-ng voices and speeds."""
    voices = VOICES[:2] if quick else VOICES
    phrases = list(PHRASE_TO_CUE)
    words = DISTRACTOR_WORDS
    if quick:
        phrases, words = phrases[::3], words[::3]
    items = []
    for voice, speed in voices:
        for p in phrases:
            x = espeak(p, voice, speed)
            items.append(Item(f"{voice}/{speed}/{p}", x, PHRASE_TO_CUE[p], voice, speech_end_s(x)))
        for w in words:
            x = espeak(w, voice, speed)
            items.append(Item(f"{voice}/{speed}/{w}", x, None, voice, speech_end_s(x)))
    return items


def noisy(items: list[Item], snr: float, noise: np.ndarray | None = None) -> list[Item]:
    """`items` with noise mixed in (pink, or the `recorded_noise` given)."""
    out = []
    for i, it in enumerate(items):
        # A recording's stretches are spread over the whole of it, not its first second.
        y = mix(it.samples, snr, offset=i * (7919 if noise is None else 102_931), noise=noise)
        out.append(replace(it, name=f"{it.name}@{snr:g}dB", samples=y, end_s=it.end_s + 0.4))
    return out


def near_miss_hints(items: list[Item], spotter: CueSpotter) -> dict[str, list[int]]:
    """How often the "not sure that was a cue" hint would show, as the session listens: for each
    missed and each heard cue clip in its state, and each other word in the states that await an
    answer (not SPEAKING, where the hint is never shown). Counts are [hinted, of]."""
    sets = session_listen_sets()
    counts = {"missed cues": [0, 0], "heard cues": [0, 0], "other words": [0, 0]}
    for it in items:
        states = [STATE_FOR_CUE[it.expected]] if it.expected else [s for s in sorted(sets) if s != "SPEAKING"]
        for state in states:
            events: list[Event] = []
            heard = [h.detection.cue for h in spot_samples(it.samples, sorted(sets[state]), spotter, events.append)]
            if it.expected is None:
                kind = None if heard else "other words"
            else:
                kind = "heard cues" if it.expected in heard else "missed cues"
            if kind is not None:
                counts[kind][0] += any(isinstance(e, CueUnclear) for e in events)
                counts[kind][1] += 1
    return counts


@dataclass
class FalseCues:
    """Cues heard in a stretch of non-cue speech (every one a false cue), and the CPU it took."""

    seconds: float
    heard: list[str]
    cpu_s: float
    files: int = 0
    cues: frozenset[str] = FLOOR_CUES
    """What was listened for."""

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def per_hour(self) -> float:
        return len(self.heard) / (self.seconds / 3600) if self.seconds else float("nan")

    @property
    def per_hour_interval(self) -> tuple[float, float]:
        """95% confidence interval of the rate per hour: a handful of events over an hour of
        talk says little on its own (5 in 78 minutes is anything from 1.2 to 9 an hour)."""
        if not self.seconds:
            return float("nan"), float("nan")
        low, high = poisson_interval(len(self.heard))
        hours = self.seconds / 3600
        return low / hours, high / hours

    @property
    def rtf(self) -> float:
        return self.cpu_s / self.seconds if self.seconds else float("nan")

    def line(self, label: str) -> str:
        low, high = self.per_hour_interval
        return (
            f"{label}, listening for {', '.join(sorted(self.cues))}: "
            f"{len(self.heard)} false cues in {self.minutes:.1f} min = {self.per_hour:.1f}/hour "
            f"(95% interval {low:.1f}-{high:.1f}) {self.heard}; CPU real-time factor while speech {self.rtf:.3f}"
        )


def continuous(spotter: CueSpotter, real: list[Item], quick: bool) -> FalseCues:
    """Long stretches of non-cue speech, listening for the floor cues only."""
    parts: list[np.ndarray] = []
    others = [it for it in real if it.expected is None]
    sentences = SENTENCES[::2] if quick else SENTENCES
    voices = VOICES[:2] if quick else VOICES
    rng = np.random.default_rng(1)
    for it in others:
        parts.append(it.samples)
    for voice, speed in voices:
        for s in sentences:
            parts.append(espeak(s, voice, speed))
            gap = int(rng.uniform(0.3, 1.2) * RATE)
            parts.append(np.round(rng.standard_normal(gap) * 3).astype(np.int16))
    stream = np.concatenate(parts)
    spotter.listen_for(FLOOR_CUES)
    listener = CueListener(spotter, lambda e: None)
    started = time.process_time()
    for i in range(0, len(stream), 1600):
        listener.feed(stream[i : i + 1600])
    listener.finish()
    heard = [f"{h.detection.phrase}@{h.decided_s:.1f}s" for h in listener.heard]
    return FalseCues(len(stream) / RATE, heard, time.process_time() - started)


def silence_rtf(spotter: CueSpotter) -> float:
    """CPU per second of audio while the room is quiet (the usual case while listening)."""
    rng = np.random.default_rng(2)
    stream = np.round(rng.standard_normal(60 * RATE) * 30).astype(np.int16)
    listener = CueListener(spotter, lambda e: None)
    started = time.process_time()
    for i in range(0, len(stream), 1600):
        listener.feed(stream[i : i + 1600])
    return (time.process_time() - started) / 60.0


def conversation(spotter: CueSpotter, folder: Path, cues: frozenset[str] = FLOOR_CUES) -> FalseCues:
    """Real continuous speech, each file a stretch of live listening for `cues` (by default the
    floor's): every cue heard is a false one (the files are chosen to hold no cue said as one)."""
    files = sorted(folder.rglob("*.wav"))
    seconds = 0.0
    heard: list[str] = []
    started = time.process_time()
    for path in files:
        x = read_wav(path)
        seconds += len(x) / RATE
        for h in spot_samples(x, sorted(cues), spotter):
            heard.append(f"{path.relative_to(folder)}@{h.detection.end_s:.1f}s:{h.detection.phrase}")
    return FalseCues(seconds, heard, time.process_time() - started, len(files), cues)


WAITING_STATES = sorted(set(STATE_FOR_CUE.values()) - {"SPEAKING"})
"""States where the assistant waits for an answer (more cues listened for than on the floor): a
couple may still chat there, so their talk is heard with those cue sets too."""


def combined(parts: dict[str, FalseCues]) -> FalseCues:
    """Several folders' `conversation` (by folder name, listening for the same cues) as one
    stretch of talk; with more than one, each false cue is named with its folder."""
    named = len(parts) > 1
    return FalseCues(
        sum(part.seconds for part in parts.values()),
        [f"{name}/{heard}" if named else heard for name, part in parts.items() for heard in part.heard],
        sum(part.cpu_s for part in parts.values()),
        sum(part.files for part in parts.values()),
        next(iter(parts.values())).cues,
    )


def all_talk(spotter: CueSpotter, folders: list[Path], cues: frozenset[str] = FLOOR_CUES) -> FalseCues:
    """`conversation` over several folders, as one stretch of talk."""
    return combined({folder.name: conversation(spotter, folder, cues) for folder in folders})


def conversation_while_waiting(spotter: CueSpotter, folders: list[Path]) -> dict[str, FalseCues]:
    """`all_talk` with the cue set of each waiting state."""
    sets = session_listen_sets()
    return {state: all_talk(spotter, folders, sets[state]) for state in WAITING_STATES}


def false_take_backs(spotter: CueSpotter, folder: Path) -> tuple[list[str], int]:
    """Each real talk file's start as the next partner's first words after a spoken "I'm done",
    while the speaker may still say "carry on" (`Session.take_back_turn`): which files would give
    the floor back wrongly, and of how many."""
    from assistant.session import TAKE_BACK_S

    files = sorted(folder.rglob("*.wav"))
    wrong = []
    for path in files:
        window = read_wav(path)[: round(TAKE_BACK_S * RATE)]
        for h in spot_samples(window, sorted(FLOOR_CUES | {"resume"}), spotter):
            if h.detection.cue == "resume":
                wrong.append(f"{path.relative_to(folder)}@{h.detection.end_s:.1f}s:{h.detection.phrase}")
                break
    return wrong, len(files)


def cue_after_talk(talk: np.ndarray, clip: np.ndarray, pause_s: float, seed: int) -> tuple[np.ndarray, int]:
    """A real cue clip said `pause_s` after real talk (from the talk's last loud frame to the
    word's first), as one partner would say it: the talk is scaled to the clip's loudness, and
    the clip's room noise runs under the talk, through the pause and for a second after the clip.
    Returns the audio and where the clip starts in it."""
    talk = talk[: round(speech_end_s(talk) * RATE)]
    onset = round(speech_start_s(clip) * RATE)
    want = round(pause_s * RATE)
    if onset > want:
        clip = clip[onset - want :]  # the clip's own quiet lead is longer than the pause
        onset = want
    gain = 10 ** ((np.percentile(frame_levels(clip), 98) - np.percentile(frame_levels(talk), 98)) / 20)
    # The room noise is the one the clip alone is padded with (`padded`), so the endpointer
    # hears the cue against the same floor as in the clip-alone figures.
    rms = math.sqrt(max(10 ** (noise_floor_db(clip) / 10) - 1.0, 0.0))
    room = np.random.default_rng(seed).standard_normal(len(talk) + want - onset + len(clip) + RATE) * rms
    start = len(talk) + want - onset
    room[: len(talk)] += talk * gain
    room[start : start + len(clip)] = clip
    return np.clip(np.round(room), -32768, 32767).astype(np.int16), start


CONTEXT_PAUSES = (0.25, 0.4, 0.6, 1.0)
CONTEXT_TALK_S = 3.0
CONTEXT_CLIPS = 400
"""At most this many cue clips are said after talk (evenly chosen): each is heard five times."""


@dataclass
class InContext:
    """Figures of `in_context`."""

    clips: int = 0
    alone: int = 0
    """Cue clips heard on their own (as in the session's-cue-sets row)."""
    after_pause: dict[float, int] = field(default_factory=lambda: dict.fromkeys(CONTEXT_PAUSES, 0))
    """Cue clips heard after talk, by the pause before them (seconds)."""
    false_in_talk: dict[tuple[str, str], str] = field(default_factory=dict)
    """(talk file, phrase) -> where it was first heard. The same talk is heard once per pause, and
    the endpointer can place one false cue 0.1 s apart in two of them: it is one false cue."""
    end_errors_s: list[float] = field(default_factory=list)
    """How far each heard cue's end lies from the word's end (either way)."""

    def line(self) -> str:
        after = ", ".join(f"{pause:g} s {k}/{self.clips}" for pause, k in self.after_pause.items())
        return (
            f"real cues said after real talk (session's cue sets): alone {self.alone}/{self.clips}; "
            f"after a pause of {after}; cue end within {1000 * pct(self.end_errors_s, 50):.0f} ms (median), "
            f"{1000 * pct(self.end_errors_s, 95):.0f} ms (p95) of the word's end; "
            f"cues heard inside the talk: {sorted(self.false_in_talk.values()) or 'none'}"
        )

    def summary(self) -> dict[str, object]:
        """The JSON figures."""
        return {
            "clips": self.clips,
            "alone": self.alone,
            "after_pause": {f"{pause:g}": k for pause, k in self.after_pause.items()},
            "false_in_talk": sorted(self.false_in_talk.values()),
            "end_error_median_ms": round(1000 * pct(self.end_errors_s, 50)),
            "end_error_p95_ms": round(1000 * pct(self.end_errors_s, 95)),
        }


def in_context(spotter: CueSpotter, cue_items: list[Item], folder: Path) -> InContext:
    """Real cue clips said after real talk (the end of a `--conversation` file) with pauses of
    `CONTEXT_PAUSES`, each heard with its state's cue set as a session would: how many are still
    heard, against the same clips alone, and how far the heard cue's end is from the word's."""
    files = sorted(folder.rglob("*.wav"))
    clips = cue_items[:: max(1, math.ceil(len(cue_items) / CONTEXT_CLIPS))]
    sets = session_listen_sets()
    res = InContext(clips=len(clips))
    for n, it in enumerate(clips):
        cues = sorted(sets[STATE_FOR_CUE[str(it.expected)]])
        res.alone += any(h.detection.cue == it.expected for h in spot_samples(it.samples, cues, spotter))
        talk_file = files[n % len(files)]
        x = read_wav(talk_file)
        talk = x[max(0, round((speech_end_s(x) - CONTEXT_TALK_S) * RATE)) :]
        for pause in CONTEXT_PAUSES:
            audio, start = cue_after_talk(talk, it.samples, pause, seed=n)
            for h in spot_samples(audio, cues, spotter):
                if h.detection.end_s < start / RATE:  # inside the talk, before the cue
                    where = f"{talk_file.name}@{h.detection.end_s:.1f}s:{h.detection.phrase}"
                    res.false_in_talk.setdefault((talk_file.name, h.detection.phrase), where)
                elif h.detection.cue == it.expected:
                    res.after_pause[pause] += 1
                    word_end = start / RATE + speech_end_s(audio[start:])
                    res.end_errors_s.append(abs(h.detection.end_s - word_end))
                    break
    return res


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of a rate k/n, in percent (Wilson score interval)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # Clamped: at k = 0 or k = n the bound is 0 or 100 up to rounding, which printed as -0.0.
    return max(0.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


def poisson_interval(k: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson mean from k events: the means under which
    at least k events (the low end) or at most k (the high end) have chance alpha/2."""

    def at_most(n: int, mean: float) -> float:
        term = total = math.exp(-mean)
        for i in range(1, n + 1):
            term *= mean / i
            total += term
        return total

    def mean_where(n: int, chance: float) -> float:
        # at_most(n, mean) falls as the mean grows: bisect for the mean where it equals `chance`.
        lo, hi = 0.0, n + 50.0 + 10.0 * math.sqrt(n)
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if at_most(n, mid) > chance else (lo, mid)
        return (lo + hi) / 2

    low = 0.0 if k == 0 else mean_where(k - 1, 1 - alpha / 2)
    return low, mean_where(k, alpha / 2)


OFFSETS_UP_TO = 500
"""Sets with more clips than this are steady enough without the five frame offsets (which would
take five times as long)."""


def through_worker(sets: dict[str, list[Item]]) -> dict[str, Result]:
    """The cue clips of each set judged as the session judges them: by the worker process
    (`assistant/ears/worker.py`). The verdicts are the same as in this process; the latency is
    the point."""
    worker = SpotterProcess()
    try:
        rows = {}
        for name, items in sets.items():
            cues = [it for it in items if it.expected]
            rows[name] = evaluate(f"{name}: cues, session's worker process", cues, worker, ALL)
        if worker.pid is not None:
            from benchmarks.soak import rss_mb  # soak.py imports this module

            WORKER_MEMORY_MB.append(rss_mb(worker.pid))
        return rows
    finally:
        worker.close()


WORKER_MEMORY_MB: list[float] = []
"""The worker's resident memory after judging (`through_worker`), for the summary."""


def full_context(items: list[Item]) -> Result:
    """The reference: each clip transcribed whole with Whisper's full 30 s window, through
    SpeechRecognition's `recognize_faster_whisper` on the same bundled model (it loads the model
    for every clip: slow, so only for the small real set), the transcript matched as the spotter
    matches it. What cutting the input to the segment's length costs in accuracy."""
    import speech_recognition

    from assistant.ears.vocabulary import match
    from assistant.ears.whisper_recognizer import bundled_model_folder

    recognizer = speech_recognition.Recognizer()
    model = str(bundled_model_folder())
    res = Result("real speech, full 30 s context (reference)")
    for it in items:
        audio = speech_recognition.AudioData(it.samples.astype("<i2").tobytes(), RATE, 2)
        text = recognizer.recognize_faster_whisper(
            audio, model=model, init_options={"device": "cpu", "compute_type": "int8"}, language="en", beam_size=1
        )
        phrase = match(str(text))
        cue = PHRASE_TO_CUE[phrase] if phrase else None
        if it.expected is None:
            res.n_other += 1
            res.false += cue is not None
        else:
            res.n_cue += 1
            res.correct += cue == it.expected
    return res


def unseen_rows_for(
    folder_name: str, items: list[Item], spotter: CueSpotter, recorded: tuple[str, np.ndarray] | None = None
) -> dict[str, Result]:
    """One pass with every cue, the session's cue sets, pink noise at 10 dB SNR, the `recorded`
    noise (name, samples) at 10 dB if given, and for a small set the frame offsets; keyed by
    their prefix in the JSON summary."""
    name = f"unseen {folder_name}"
    rows = {"": evaluate(name, items, spotter, ALL)}
    rows["session_sets_"] = evaluate_as_session(items, spotter)
    rows["session_sets_"].name = f"{name}, session's cue sets"
    rows["noise10_"] = evaluate(f"{name}, 10 dB noise", noisy(items, 10.0), spotter, ALL)
    if recorded is not None:
        noise_name, noise = recorded
        rows["recorded_noise10_"] = evaluate(f"{name}, 10 dB {noise_name}", noisy(items, 10.0, noise), spotter, ALL)
    if len(items) <= OFFSETS_UP_TO:
        rows["offsets_"] = evaluate_at_offsets(items, spotter, name)
    return rows


def unseen_summary(rows: dict[str, Result]) -> dict[str, float]:
    """The JSON figures of one `unseen_rows_for` set."""
    summary: dict[str, float] = {"cue_clips": rows[""].n_cue, "other_clips": rows[""].n_other}
    for key, row in rows.items():
        summary[f"{key}correct_pct"] = round(row.correct_pct, 1)
        summary[f"{key}false_accept_pct"] = round(row.false_pct, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer voices, phrases and sentences")
    parser.add_argument(
        "--unseen",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also real clips never tuned on (DIR/<word>/*.wav); may be repeated",
    )
    parser.add_argument(
        "--conversation",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also real continuous non-cue speech (DIR/**/*.wav); may be repeated (a line each, and one for all)",
    )
    parser.add_argument(
        "--noise",
        type=Path,
        metavar="WAV",
        help="also a real noise recording (a kitchen's) mixed into the --unseen sets at 10 dB SNR",
    )
    parser.add_argument(
        "--in-context",
        action="store_true",
        help="also say the real cue clips after talk from --conversation, with short pauses",
    )
    args = parser.parse_args(argv)
    for option, folders in (("--unseen", args.unseen), ("--conversation", args.conversation)):
        names = [folder.name for folder in folders]
        if len(set(names)) < len(names):
            parser.error(f"two {option} folders have the same name: their rows would be mixed up")
    if args.noise and not args.unseen:
        parser.error("--noise needs --unseen DIR: the clips the noise is mixed into")
    if args.in_context and not args.conversation:
        parser.error("--in-context needs --conversation DIR: the talk the cues are said after")
    if not (SPEECH / "words.csv").exists():
        print(f"real speech not found at {SPEECH}", file=sys.stderr)
        return 2
    have_synth = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
    spotter = WhisperCueSpotter()
    real = real_items()
    rows: list[Result] = [evaluate("real speech", real, spotter, ALL)]
    rows.append(evaluate_as_session(real, spotter))
    rows.append(evaluate_at_offsets(real, spotter))
    for snr in (20.0, 10.0, 5.0):
        rows.append(evaluate(f"real speech, {snr:g} dB noise", noisy(real, snr), spotter, ALL))
    reference = full_context(real)
    unseen = {folder.name: unseen_items(folder) for folder in args.unseen}  # read once, heard three ways
    recorded = (args.noise.stem, recorded_noise(args.noise)) if args.noise else None
    unseen_rows = {name: unseen_rows_for(name, items, spotter, recorded) for name, items in unseen.items()}
    if have_synth:
        synth = synth_items(args.quick)
        rows.append(evaluate("espeak-ng clean", synth, spotter, ALL))
        for snr in (20.0, 10.0, 5.0):
            rows.append(evaluate(f"espeak-ng {snr:g} dB SNR", noisy(synth, snr), spotter, ALL))
    hints = near_miss_hints(real, spotter)
    cont = continuous(spotter, real, args.quick) if have_synth else None
    talks = {folder.name: conversation(spotter, folder) for folder in args.conversation}
    talk = combined(talks) if talks else None
    waiting = conversation_while_waiting(spotter, args.conversation) if args.conversation else {}
    take_backs = {folder.name: false_take_backs(spotter, folder) for folder in args.conversation}
    taken_back = [f"{name}/{wrong}" for name, (wrongs, _) in take_backs.items() for wrong in wrongs]
    talk_files = sum(files for _, files in take_backs.values())
    context = None
    if args.in_context:
        cue_items = [it for it in real if it.expected] + [
            it for items in unseen.values() for it in items if it.expected
        ]
        context = in_context(spotter, cue_items, args.conversation[0])
    quiet_rtf = silence_rtf(spotter)
    worker_sets = {"real speech": real, **({"espeak-ng clean": synth} if have_synth else {})}
    worker_sets.update({f"unseen {name}": items for name, items in unseen.items()})
    worker_rows = through_worker(worker_sets)

    print(f"{'condition':44s} {'correct (95% CI)':>24s} {'false acc. (95% CI)':>26s} {'lat. med':>9s} {'p95':>6s}")
    unseen_flat = [r for folder_rows in unseen_rows.values() for r in folder_rows.values()]
    for r in rows + unseen_flat + list(worker_rows.values()):
        c_lo, c_hi = wilson(r.correct, r.n_cue)
        f_lo, f_hi = wilson(r.false, r.n_other)
        false = f"{r.false:5d}/{r.n_other:<5d}{r.false_pct:4.1f}% ({f_lo:3.1f}-{f_hi:3.1f})" if r.n_other else "-"
        print(
            f"{r.name:44s} {r.correct:5d}/{r.n_cue:<5d}{r.correct_pct:4.0f}% ({c_lo:2.0f}-{c_hi:3.0f}) "
            f"{false:>26s} {1000 * pct(r.latencies, 50):7.0f}ms {1000 * pct(r.latencies, 95):4.0f}ms"
        )
    print(
        f"{reference.name}: correct {reference.correct}/{reference.n_cue}, "
        f"false accepts {reference.false}/{reference.n_other}"
    )
    print(f"missed on real speech: {', '.join(rows[0].misses) or 'none'}")
    print(f"false accepts on real speech: {', '.join(rows[0].accepts) or 'none'}")
    for folder_name, folder_rows in unseen_rows.items():
        if "offsets_" in folder_rows:  # a small set: a long list would help nobody
            print(f"missed on {folder_name}: {', '.join(folder_rows[''].misses) or 'none'}")
            print(f"false accepts on {folder_name}: {', '.join(folder_rows[''].accepts) or 'none'}")
    if cont is not None:
        print(cont.line("continuous non-cue speech"))
    if len(talks) > 1:
        for name, part in talks.items():
            print(part.line(f"real continuous speech, {name} ({part.files} files)"))
    if talk is not None:
        print(talk.line(f"real continuous speech ({talk.files} files)"))
    for state, heard in waiting.items():
        print(heard.line(f"the same speech, waiting in {state}"))
    if talk is not None:
        print(
            f"the same files' first seconds after a spoken handover: {len(taken_back)}/{talk_files} "
            f'would give the floor back ("carry on" heard) {taken_back}'
        )
    if context is not None:
        print(context.line())
    print(f"CPU real-time factor in a quiet room: {quiet_rtf:.4f}")
    if WORKER_MEMORY_MB:
        print(f"the worker process's resident memory: {WORKER_MEMORY_MB[-1]:.0f} MB")
    hinted = ", ".join(f"{kind} {a}/{b}" for kind, (a, b) in hints.items())
    print(f"near-miss hints (real speech, the session's states): {hinted}")
    print(BASELINE)
    synth_clean = rows[6] if have_synth else None
    lat = rows[0].latencies + (synth_clean.latencies if synth_clean else [])
    worker_lat = worker_rows["real speech"].latencies + (worker_rows["espeak-ng clean"].latencies if have_synth else [])
    headline = {
        "real_correct_pct": round(rows[0].correct_pct, 1),
        "real_false_accept_pct": round(rows[0].false_pct, 1),
        "full_context_reference": [reference.correct, reference.n_cue, reference.false, reference.n_other],
        "false_cues_per_hour": round(cont.per_hour, 1) if cont else None,
        "continuous_minutes": round(cont.minutes, 1) if cont else None,
        "latency_median_ms": round(1000 * pct(lat, 50)),
        "latency_p95_ms": round(1000 * pct(lat, 95)),
        "worker_latency_median_ms": round(1000 * pct(worker_lat, 50)),
        "worker_latency_p95_ms": round(1000 * pct(worker_lat, 95)),
        "rtf_speech": round(cont.rtf, 3) if cont else None,
        "rtf_quiet": round(quiet_rtf, 4),
        "worker_memory_mb": round(WORKER_MEMORY_MB[-1]) if WORKER_MEMORY_MB else None,
        "session_sets_correct_pct": round(rows[1].correct_pct, 1),
        "session_sets_false_accept_pct": round(rows[1].false_pct, 1),
        "offsets_correct_pct": round(rows[2].correct_pct, 1),
        "offsets_false_accept_pct": round(rows[2].false_pct, 1),
        "hinted_missed_cues": hints["missed cues"],
        "hinted_other_words": hints["other words"],
        "unseen": {folder_name: unseen_summary(folder_rows) for folder_name, folder_rows in unseen_rows.items()},
        "conversation_minutes": round(talk.minutes, 1) if talk else None,
        "conversation_false_cues": len(talk.heard) if talk else None,
        "conversation_false_cues_per_hour": round(talk.per_hour, 1) if talk else None,
        "conversation_false_cues_per_hour_interval": [round(v, 1) for v in talk.per_hour_interval] if talk else None,
        "conversation_false_take_backs": [len(taken_back), talk_files] if talk else None,
        "conversation_sets": {
            name: {"minutes": round(t.minutes, 1), "false_cues": len(t.heard)} for name, t in talks.items()
        },
        "conversation_waiting": {
            state: {"false_cues": len(h.heard), "per_hour": round(h.per_hour, 1)} for state, h in waiting.items()
        },
        "in_context": context.summary() if context else None,
        "synthetic_correct_pct": round(synth_clean.correct_pct, 1) if synth_clean else None,
        "synthetic_false_accept_pct": round(synth_clean.false_pct, 1) if synth_clean else None,
    }
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
