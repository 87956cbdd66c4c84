"""Ears parts that need no recognizer: vocabulary, endpointer, WAV reading, devices, gating."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.ears.listener import CueListener, Heard
from assistant.ears.microphone import PyAudioMicrophone, WavFileMicrophone, read_wav, resample
from assistant.ears.spotter import Detection, SpotterConfig, Verdict, WhisperCueSpotter, phrase_confidence
from assistant.ears.vad import (
    FRAME,
    RATE,
    EnergyVad,
    Segment,
    VadConfig,
    frame_db,
    frame_levels,
    segments,
)
from assistant.ears.vocabulary import (
    CUE_PHRASES,
    MISSING_CUES,
    PHRASE_TO_CUE,
    candidates,
    collapse_repeats,
    cue_of,
    is_echo,
    match,
)
from assistant.ears.whisper_recognizer import Transcript
from assistant.errors import DeviceError
from assistant.events import CUES, CueHeard, CueUnclear, Event, SpeechStarted, SpeechStopped
from tests.signals import noise, tone


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


# ---- vocabulary ---------------------------------------------------------------------------


def test_every_session_cue_has_phrases() -> None:
    assert MISSING_CUES == frozenset()
    assert set(CUE_PHRASES) >= set(CUES)


def test_issue_phrases_are_in_the_table() -> None:
    for phrase, cue in [
        ("i'm done", "done"),
        ("time out", "timeout"),
        ("hold on", "pause"),
        ("go ahead", "next"),
        ("not yet", "no"),
        ("what can i say", "help"),
    ]:
        assert PHRASE_TO_CUE[phrase] == cue


def test_natural_ways_of_saying_the_cues_are_in_the_table() -> None:
    for said, cue in [
        ("Okay, your turn.", "done"),
        ("I think I'm done.", "done"),
        ("That's all.", "done"),
        ("Go on.", "next"),
        ("Let's continue.", "next"),
        ("Can we pause?", "pause"),
        ("I need a time out.", "timeout"),
        ("Stop, please.", "stop"),
        ("I'm finished now.", "done"),
    ]:
        phrase = match(said)
        assert phrase is not None and PHRASE_TO_CUE[phrase] == cue, said


def test_a_phrase_repeated_by_the_decoder_is_the_phrase() -> None:
    assert collapse_repeats("yes yes yes yes".split()) == ["yes"]
    assert collapse_repeats("your turn your turn your".split()) == ["your", "turn"]
    assert collapse_repeats("no not yet".split()) == ["no", "not", "yet"]
    assert candidates("Yes. Yes. Yes.") == ["yes"]
    assert match("Stop, stop, stop,") == "stop"


def test_a_cue_must_be_the_whole_segment() -> None:
    assert match("I am done with it") is None
    assert match("stop doing that") is None
    assert match("okay") == "okay"  # a filler alone is what it says
    assert match("Your turn", cues={"pause"}) is None


def test_own_voice_is_told_by_the_line_being_said() -> None:
    line = 'When you are ready, say "next". To end, say "stop".'
    assert is_echo("Say next.", line) and is_echo("stop", line)
    assert not is_echo("pause", line) and not is_echo("", line)


def test_cue_of_normalises_text() -> None:
    assert cue_of("I\u2019m DONE!") == "done"
    assert cue_of("banana") is None


# ---- endpointer ---------------------------------------------------------------------------


def run_vad(samples: np.ndarray, vad: EnergyVad | None = None) -> list[Segment]:
    return list(segments(samples, vad))


def test_vad_finds_a_burst_and_ends_it_quickly() -> None:
    x = np.concatenate([noise(1.0, 20), tone(0.5, 3000) + noise(0.5, 20, 1), noise(1.0, 20, 2)])
    segs = run_vad(x)
    assert len(segs) == 1
    seg = segs[0]
    assert seg.speech_start_s == pytest.approx(1.0, abs=0.05)
    assert seg.speech_end_s == pytest.approx(1.5, abs=0.05)
    # The decision point follows the end of speech by the hangover only.
    assert 0.1 <= seg.end_s - seg.speech_end_s <= 0.2


def test_vad_offers_the_segment_early_with_the_same_audio() -> None:
    x = np.concatenate([noise(1.0, 20), tone(0.5, 3000) + noise(0.5, 20, 1), noise(1.0, 20, 2)])
    vad = EnergyVad()
    tentative = []
    for i in range(0, len(x) - FRAME + 1, FRAME):
        closed = vad.process(x[i : i + FRAME])
        if vad.tentative is not None:
            tentative.append(vad.tentative)
        if closed is not None:
            break
    assert closed is not None and len(tentative) == 1
    early = tentative[0]
    assert np.array_equal(early.pcm, closed.pcm)
    assert (early.start_s, early.speech_end_s) == (closed.start_s, closed.speech_end_s)
    cfg = vad.config
    assert closed.end_s - early.end_s == pytest.approx((cfg.hangover_frames - cfg.tail_frames) * FRAME / RATE)


def test_vad_keeps_a_segment_open_longer_when_asked() -> None:
    """A 150 ms pause ends a segment (hangover 100 ms) unless the segment was asked to wait
    longer, and the longer wait does not carry over to the next segment."""
    burst = tone(0.3, 3000) + noise(0.3, 20, 1)
    pair = [burst, noise(0.15, 20, 3), burst]
    x = np.concatenate([noise(1.0, 20), *pair, noise(1.0, 20, 2), *pair, noise(1.0, 20, 4)])
    assert len(run_vad(x)) == 4
    vad = EnergyVad()
    closed = []
    for i in range(0, len(x) - FRAME + 1, FRAME):
        seg = vad.process(x[i : i + FRAME])
        if vad.tentative is not None and not closed:
            vad.wait_longer(10)  # only while the first segment is open
        if seg is not None:
            closed.append(seg)
    assert len(closed) == 3
    assert closed[0].speech_seconds == pytest.approx(0.75, abs=0.05)
    assert closed[0].end_s - closed[0].speech_end_s == pytest.approx(0.2, abs=0.015)
    assert closed[1].end_s - closed[1].speech_end_s == pytest.approx(0.1, abs=0.015)


def test_vad_forgets_a_wait_once_speech_resumes() -> None:
    """Asked to wait in the first pause only, the segment takes in the words after it, then ends
    after the plain hangover: the wait was for that pause, not for the joined segment's end."""
    burst = tone(0.3, 3000) + noise(0.3, 20, 1)
    x = np.concatenate([noise(1.0, 20), burst, noise(0.15, 20, 3), burst, noise(1.0, 20, 4)])
    vad = EnergyVad()
    closed, asked = [], False
    for i in range(0, len(x) - FRAME + 1, FRAME):
        seg = vad.process(x[i : i + FRAME])
        if vad.tentative is not None and not asked:
            vad.wait_longer(10)
            asked = True
        if seg is not None:
            closed.append(seg)
    [joined] = closed
    assert joined.speech_seconds == pytest.approx(0.75, abs=0.05)
    assert joined.end_s - joined.speech_end_s == pytest.approx(0.1, abs=0.015)


def test_vad_hears_a_very_quiet_talker_in_a_quieter_room() -> None:
    # Peak well under 1% of full scale, as some of the real recordings are.
    x = np.concatenate([noise(1.0, 2), tone(0.4, 200) + noise(0.4, 2, 1), noise(1.0, 2, 2)])
    assert len(run_vad(x)) == 1


def test_vad_ignores_steady_noise_and_digital_silence() -> None:
    assert run_vad(noise(3.0, 400)) == []
    assert run_vad(np.zeros(3 * RATE, np.int16)) == []


def test_vad_cuts_endless_speech_and_marks_it_truncated() -> None:
    x = np.concatenate([noise(0.5, 20), tone(7.0, 3000)])
    segs = run_vad(x)
    assert segs and segs[0].truncated


# ---- WAV files and devices ----------------------------------------------------------------


def test_read_wav_resamples_and_mixes_down(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    stereo = np.repeat((8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 2)
    write_wav(tmp_path / "a.wav", stereo, 44100, channels=2)
    x = read_wav(tmp_path / "a.wav")
    assert len(x) == pytest.approx(16000, abs=2)
    spectrum = np.abs(np.fft.rfft(x.astype(float)))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)


def test_resample_removes_what_the_new_rate_cannot_carry() -> None:
    t = np.arange(48000) / 48000
    high = 8000 * np.sin(2 * np.pi * 12000 * t)  # above 8 kHz: must not alias down
    assert np.abs(resample(high, 48000)[100:-100]).max() < 800  # edges aside


def test_unreadable_wav_is_a_device_error(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(DeviceError, match="bad.wav"):
        read_wav(tmp_path / "bad.wav")


def riff(tag: int, channels: int, rate: int, bits: int, data: bytes, before_data: bytes = b"") -> bytes:
    """A WAV file's bytes, header written by hand; tag 0xFFFE gets the extensible header for PCM."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    if tag == 0xFFFE:  # cbSize, valid bits, channel mask, then the sub-format GUID (PCM's)
        fmt += struct.pack("<HHI", 22, bits, 3) + struct.pack("<H", 1) + bytes(14)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + before_data + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_read_wav_takes_float_and_24_bit_extensible_files_as_recorders_write_them(tmp_path: Path) -> None:
    t = np.arange(48000) / 48000
    wave_ = 0.25 * np.sin(2 * np.pi * 440 * t)
    (tmp_path / "float.wav").write_bytes(riff(3, 1, 48000, 32, wave_.astype("<f4").tobytes()))
    as_int = np.round(wave_ * 2**23).astype(np.int32)
    stereo = np.repeat(as_int, 2).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    odd_chunk = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\0"  # an odd size is padded to even
    (tmp_path / "24bit.wav").write_bytes(riff(0xFFFE, 2, 48000, 24, stereo, before_data=odd_chunk))
    for name in ("float.wav", "24bit.wav"):
        x = read_wav(tmp_path / name)
        assert len(x) == pytest.approx(16000, abs=2)
        assert np.abs(x).max() == pytest.approx(0.25 * 32768, rel=0.02)
        assert np.argmax(np.abs(np.fft.rfft(x.astype(float)))) == pytest.approx(440, abs=2)


def test_read_wav_decodes_telephone_a_law_and_mu_law(tmp_path: Path) -> None:
    # G.711's own table values: A-law 0xD5/0x55 are +8/-8 and 0xAA/0x2A the extremes;
    # mu-law 0xFF is 0, 0x80/0x00 the extremes.
    (tmp_path / "alaw.wav").write_bytes(riff(6, 1, 16000, 8, bytes([0xD5, 0x55, 0xAA, 0x2A])))
    (tmp_path / "mulaw.wav").write_bytes(riff(7, 1, 16000, 8, bytes([0xFF, 0x80, 0x00])))
    assert read_wav(tmp_path / "alaw.wav").tolist() == [8, -8, 32256, -32256]
    assert read_wav(tmp_path / "mulaw.wav").tolist() == [0, 32124, -32124]


def test_a_wav_encoding_it_cannot_read_says_how_to_convert_it(tmp_path: Path) -> None:
    (tmp_path / "adpcm.wav").write_bytes(riff(2, 1, 16000, 4, bytes(100)))  # Microsoft ADPCM
    with pytest.raises(DeviceError, match=r"adpcm.wav: 4-bit format 2 samples are not supported.*sox"):
        read_wav(tmp_path / "adpcm.wav")


def test_wav_microphone_reads_to_the_end(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", tone(0.3, 1000), 16000)
    mic = WavFileMicrophone(tmp_path / "a.wav", realtime=False, tail_s=0.2)
    total = 0
    while (chunk := mic.read(timeout=0.1)) is not None:
        total += len(chunk)
    assert total == int(0.5 * RATE)


def test_missing_microphone_is_a_clear_device_error() -> None:
    # This machine has no sound card; PyAudio must not crash, and the message says what to do.
    try:
        mic = PyAudioMicrophone()
    except DeviceError as exc:
        assert "microphone" in str(exc) or "install" in str(exc)
    else:  # pragma: no cover - only on machines with a microphone
        mic.close()


# ---- listener gating (with a scripted spotter) ----------------------------------------------


class ScriptedSpotter:
    """Says the same thing about every segment."""

    def __init__(self, cue: str | None) -> None:
        self.cue = cue
        self.judged = 0

        self.own_lines: list[str | None] = []

    def listen_for(self, cues: frozenset[str]) -> None:
        pass

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.judged += 1
        self.own_lines.append(own_line)
        if self.cue is None:
            return Verdict(None, "scripted")
        det = Detection(self.cue, self.cue, 0.9, segment.speech_end_s)
        return Verdict(det, "cue", self.cue, 0.9)


def burst_stream() -> np.ndarray:
    return np.concatenate([noise(1.0, 20), tone(0.4, 3000) + noise(0.4, 20, 1), noise(1.0, 20, 2)])


def listen(spotter: ScriptedSpotter, voice_playing: bool, barge_in: bool = False) -> list[Event]:
    events: list[Event] = []
    listener = CueListener(spotter, events.append, barge_in=barge_in)  # type: ignore[arg-type]
    listener.set_voice_playing(voice_playing)
    listener.feed(burst_stream())
    listener.finish()
    return events


def test_listener_posts_speech_and_cue_events() -> None:
    events = listen(ScriptedSpotter("done"), voice_playing=False)
    assert isinstance(events[0], SpeechStarted)
    assert isinstance(events[1], SpeechStopped) and events[1].seconds == pytest.approx(0.4, abs=0.1)
    assert events[2] == CueHeard("done", source="voice", phrase="done", confidence=0.9)


class TalkRecordingSpotter(ScriptedSpotter):
    """Rejects every segment, noting the talk each one follows (`Segment.talk_before_s`)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.talk_before: list[float] = []

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.talk_before.append(round(segment.talk_before_s, 2))
        return super().judge(segment, own_line)


def bursts(*parts: float) -> np.ndarray:
    """Alternating "speech" and pause lengths (speech first), in a quiet room."""
    pieces = [noise(1.0, 20)]
    for n, seconds in enumerate(parts):
        quiet = noise(seconds, 20, n + 1)
        pieces.append(quiet + tone(seconds, 3000) if n % 2 == 0 else quiet)
    return np.concatenate([*pieces, noise(1.0, 20, 99)])


def two_bursts(pause_s: float) -> np.ndarray:
    """0.8 s of "talk", a pause, then a 0.3 s "phrase"."""
    return bursts(0.8, pause_s, 0.3)


def talk_before(stream: np.ndarray, voice_until_s: float = 0.0) -> list[float]:
    """What the spotter was told about the segments it judged (early verdicts included), with
    our own voice playing for the first `voice_until_s` (its echo dying at once)."""
    spotter = TalkRecordingSpotter()
    listener = CueListener(spotter, lambda event: None, barge_in=False, echo_hangover_s=0.0)  # type: ignore[arg-type]
    if voice_until_s:
        listener.set_voice_playing(True)
        listener.feed(stream[: round(voice_until_s * RATE)])
        listener.set_voice_playing(False)
        stream = stream[round(voice_until_s * RATE) :]
    listener.feed(stream)
    listener.finish()
    return sorted(set(spotter.talk_before))


def test_a_phrase_right_after_other_talk_is_told_it_follows_that_talk() -> None:
    # 150 ms after 0.8 s of speech: part of the same talk; after 600 ms: a phrase of its own.
    assert talk_before(two_bursts(0.15)) == [0.0, pytest.approx(0.8, abs=0.05)]
    assert talk_before(two_bursts(0.6)) == [0.0]


def test_short_pauses_keep_one_run_of_talk_going() -> None:
    # 0.5 s, a breath, 0.4 s, a breath, then the phrase: it follows all of it (0.5+0.15+0.4).
    told = talk_before(bursts(0.5, 0.15, 0.4, 0.15, 0.3))
    assert told == [0.0, pytest.approx(0.5, abs=0.05), pytest.approx(1.05, abs=0.05)]


def test_a_click_before_a_phrase_does_not_join_it_to_the_talk_before() -> None:
    # 0.8 s of talk, 0.25 s, a 60 ms click, 0.25 s, the phrase: the click follows the talk (told
    # 0.8 s), but the phrase comes 0.56 s after the talk, a pause of its own (told 0, where a
    # click taken for talk would have made it 1.1 s).
    told = talk_before(bursts(0.8, 0.25, 0.06, 0.25, 0.3))
    assert told == [0.0, pytest.approx(0.8, abs=0.05)]


def test_our_own_voice_is_not_talk_a_phrase_follows() -> None:
    # The first burst is our voice's echo (never judged); an answer 250 ms after it is the
    # couple's first word, not the middle of their talk.
    assert talk_before(two_bursts(0.25), voice_until_s=1.85) == [0.0]


class NearMissSpotter(ScriptedSpotter):
    """Finds "next" in every segment and rejects it, just (`near`) or clearly."""

    def __init__(self, near: bool) -> None:
        super().__init__(None)
        self.near = near

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.judged += 1
        return Verdict(None, "below threshold", "next", 0.4, near=self.near)


def test_a_near_miss_is_posted_as_unclear_and_other_rejections_are_not() -> None:
    events = listen(NearMissSpotter(near=True), voice_playing=False)
    assert [e for e in events if isinstance(e, CueUnclear)] == [CueUnclear()]
    events = listen(NearMissSpotter(near=False), voice_playing=False)
    assert not any(isinstance(e, CueUnclear) for e in events)
    assert listen(NearMissSpotter(near=True), voice_playing=True) == []


def test_without_barge_in_own_voice_is_not_judged_at_all() -> None:
    spotter = ScriptedSpotter("next")
    assert listen(spotter, voice_playing=True) == []
    assert spotter.judged == 0


class SlowSpotter(ScriptedSpotter):
    """Takes `seconds` of a hand-advanced clock to judge a segment."""

    def __init__(self, cue: str, seconds: float) -> None:
        super().__init__(cue)
        self.seconds = seconds
        self.now = 0.0
        self.lengths: list[int] = []

    def clock(self) -> float:
        return self.now

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.now += self.seconds
        self.lengths.append(len(segment.pcm))
        return super().judge(segment, own_line)


def heard_after(spotter: SlowSpotter, stream: np.ndarray) -> list[Heard]:
    listener = CueListener(spotter, lambda event: None, clock=spotter.clock)  # type: ignore[arg-type]
    listener.feed(stream)
    listener.finish()
    return listener.heard


def test_the_recognizer_decides_during_the_hangover() -> None:
    """Judged once, on the segment as it stood after `tail_frames` of quiet; a quick verdict is
    ready when the hangover closes the segment, a slow one some time after the tentative close."""
    cfg = VadConfig()
    window = (cfg.hangover_frames - cfg.tail_frames) * FRAME / RATE
    quick = SlowSpotter("done", window / 2)
    [heard] = heard_after(quick, burst_stream())
    assert quick.judged == 1
    speech_end = 1.4
    assert heard.decided_s == pytest.approx(speech_end + cfg.hangover_frames * FRAME / RATE, abs=0.03)
    slow = SlowSpotter("done", 0.2)
    [heard] = heard_after(slow, burst_stream())
    assert slow.judged == 1 and heard.compute_s == pytest.approx(0.2)
    assert heard.decided_s == pytest.approx(speech_end + cfg.tail_frames * FRAME / RATE + 0.2, abs=0.03)


def test_an_early_verdict_is_dropped_when_speech_resumes() -> None:
    """A pause longer than the tail but shorter than the hangover: the first verdict is wasted and
    the whole segment (both bursts) is judged again when it really closes."""
    cfg = VadConfig()
    pause = (cfg.tail_frames + 2) * FRAME / RATE
    burst = tone(0.3, 3000) + noise(0.3, 20, 1)
    stream = np.concatenate([noise(1.0, 20), burst, noise(pause, 20, 3), burst, noise(1.0, 20, 2)])
    spotter = SlowSpotter("done", 0.01)
    heard = heard_after(spotter, stream)
    assert len(heard) == 1 and spotter.judged == 2
    assert spotter.lengths[1] > spotter.lengths[0] + 0.3 * RATE


def test_an_early_verdict_is_dropped_when_the_listening_set_changes() -> None:
    spotter = SlowSpotter("done", 0.01)
    listener = CueListener(spotter, lambda event: None, clock=spotter.clock)  # type: ignore[arg-type]
    stream = burst_stream()
    split = int(1.47 * RATE)  # after the tentative close (1.45 s), before the real one (1.5 s)
    listener.feed(stream[:split])
    assert spotter.judged == 1
    listener.listen_for(frozenset({"next"}))
    listener.feed(stream[split:])
    assert spotter.judged == 2 and len(listener.heard) == 1


class PhraseAloneSpotter(ScriptedSpotter):
    """Hears "done" with `confidence` in speech up to 0.5 s long; longer speech is a sentence."""

    def __init__(self, confidence: float) -> None:
        super().__init__("done")
        self.confidence = confidence

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.judged += 1
        if segment.speech_seconds > 0.5:
            return Verdict(None, "scripted")
        det = Detection("done", "done", self.confidence, segment.speech_end_s)
        return Verdict(det, "cue", "done", self.confidence)


class SureOnceWholeSpotter(PhraseAloneSpotter):
    """A close call on speech under 0.4 s ("stop" cut at its closure), sure of the whole word."""

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        self.confidence = 0.6 if segment.speech_seconds < 0.4 else 0.9
        return super().judge(segment, own_line)


CLOSE_CALL_BELOW = 0.66
"""A close-call limit for the tests of the mechanism (`CueListener.close_call_below`)."""


def heard_in(
    confidence: float, *parts: float, close_call_below: float = CLOSE_CALL_BELOW, whole: bool = False
) -> list[Heard]:
    """What a listener hears in `bursts(*parts)`; `whole`: with `SureOnceWholeSpotter`."""
    spotter = SureOnceWholeSpotter(confidence) if whole else PhraseAloneSpotter(confidence)
    listener = CueListener(spotter, lambda event: None, close_call_below=close_call_below)  # type: ignore[arg-type]
    listener.feed(bursts(*parts))
    listener.finish()
    return listener.heard


def test_a_close_call_waits_for_the_words_that_follow_it() -> None:
    """A phrase 150 ms before more speech: heard if sure, joined to the sentence if a close call."""
    close, sure = 0.6, 0.9
    assert close < CLOSE_CALL_BELOW < sure
    assert len(heard_in(sure, 0.3, 0.15, 0.6)) == 1
    assert heard_in(close, 0.3, 0.15, 0.6) == []


def test_a_close_call_said_alone_is_heard_a_little_later() -> None:
    [sure] = heard_in(0.9, 0.3)
    [close] = heard_in(0.6, 0.3)
    assert close.detection.confidence == 0.6
    assert close.decided_s - sure.decided_s == pytest.approx(CueListener.close_call_wait_s, abs=0.015)
    [unheld] = heard_in(0.6, 0.3, close_call_below=0.0)
    assert unheld.decided_s == pytest.approx(sure.decided_s)


def test_a_close_call_made_whole_by_the_speech_after_it_is_heard_without_the_wait() -> None:
    """The word's release, 120 ms after its closure, joins the waiting segment; judged again
    whole and sure, it is decided as soon as a sure word of that length said in one go."""
    [joined] = heard_in(0.0, 0.3, 0.12, 0.05, whole=True)
    [in_one_go] = heard_in(0.9, 0.47)
    assert joined.detection.confidence == 0.9
    assert joined.decided_s == pytest.approx(in_one_go.decided_s, abs=0.015)


def barge_in(spotter: ScriptedSpotter, echo: bool, line: str = "Welcome.") -> list[Event]:
    """Our voice says `line` for 3 s (heard by the microphone when `echo`), then a partner speaks over it."""
    events: list[Event] = []
    listener = CueListener(spotter, events.append)  # type: ignore[arg-type]
    listener.feed(noise(1.0, 20))
    listener.set_voice_playing(True, line)
    room = tone(3.0, 3000) if echo else noise(3.0, 20, 7)
    listener.feed(room)
    listener.feed(burst_stream())
    listener.finish()
    return events


def test_barge_in_lets_only_pause_and_stop_through() -> None:
    assert barge_in(ScriptedSpotter("next"), echo=False) == []
    spotter = ScriptedSpotter("stop")
    events = barge_in(spotter, echo=False)
    assert [e for e in events if isinstance(e, CueHeard)][0].cue == "stop"
    assert spotter.own_lines == ["Welcome."]  # the spotter knows the line it was said over


def test_speech_over_our_voice_is_judged_knowing_the_line() -> None:
    """A segment of our voice's echo reaches the spotter with the line, so it can tell it is ours."""
    spotter = ScriptedSpotter(None)
    barge_in(spotter, echo=True, line="Say stop to end.")
    assert spotter.own_lines and set(spotter.own_lines) == {"Say stop to end."}


def after_a_short_line(cue: str, echo_hangover_s: float, quiet_s: float) -> tuple[CueListener, list[Event]]:
    """A listener that heard 0.8 s of room, 0.1 s of our voice (ending at 0.9 s), then `quiet_s`."""
    events: list[Event] = []
    listener = CueListener(ScriptedSpotter(cue), events.append, echo_hangover_s=echo_hangover_s)  # type: ignore[arg-type]
    listener.feed(noise(0.8, 20))
    listener.set_voice_playing(True)
    listener.feed(noise(0.1, 20, 3))
    listener.set_voice_playing(False)
    listener.feed(noise(quiet_s, 20, 4))
    return listener, events


def test_echo_hangover_after_the_voice_stops() -> None:
    listener, events = after_a_short_line("done", echo_hangover_s=0.5, quiet_s=0.3)  # echo to 1.4 s
    listener.feed(tone(0.3, 3000))  # starts at 1.2 s: inside the hangover
    listener.feed(noise(1.0, 20, 5))
    listener.feed(tone(0.3, 3000))  # well after: heard
    listener.feed(noise(1.0, 20, 6))
    listener.finish()
    assert [e.cue for e in events if isinstance(e, CueHeard)] == ["done"]


def test_an_answer_straight_after_the_echo_hangover_is_heard() -> None:
    """Its pre-roll reaches back into the hangover; its speech does not."""
    listener, events = after_a_short_line("yes", echo_hangover_s=0.35, quiet_s=0.45)  # echo to 1.25 s
    listener.feed(tone(0.3, 3000))  # starts at 1.35 s, just after the hangover
    listener.feed(noise(1.0, 20, 5))
    listener.finish()
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["SpeechStarted", "SpeechStopped", "CueHeard"]


class BrokenSpotter(ScriptedSpotter):
    """A recognizer that fails on every segment."""

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        raise RuntimeError("the recognizer's process keeps failing")


def test_a_failing_recognizer_does_not_stop_listening(caplog: pytest.LogCaptureFixture) -> None:
    events: list[Event] = []
    listener = CueListener(BrokenSpotter(None), events.append)  # type: ignore[arg-type]
    listener.feed(burst_stream())
    listener.feed(burst_stream())
    listener.finish()
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped] * 2
    assert "recognizer failed" in caplog.text


def test_frame_levels_are_each_frames_level_at_once() -> None:
    samples = np.concatenate([noise(0.2, 30.0, 4), tone(0.2, 8000.0) + 1000, np.zeros(170)]).astype(np.int16)
    expected = [frame_db(samples[i : i + FRAME]) for i in range(0, len(samples) - FRAME + 1, FRAME)]
    assert frame_levels(samples) == pytest.approx(expected, abs=1e-9)


# ---- the spotter's rule (with a scripted recognizer) ------------------------------------------


class ScriptedRecognizer:
    """Transcribes every segment as `text`, each token as sure as `probability`."""

    def __init__(self, text: str, probability: float = 0.9) -> None:
        self.text = text
        self.probability = probability
        self.heard: list[tuple[int, str | None]] = []

    def transcribe(self, samples: np.ndarray, before: str | None = None) -> Transcript:
        self.heard.append((len(samples), before))
        pieces = tuple((f" {word}", self.probability) for word in self.text.split())
        return Transcript(self.text, pieces, no_speech=0.1)


def a_segment(speech_s: float = 0.5, talk_before_s: float = 0.0) -> Segment:
    pcm = tone(speech_s + 0.3, 3000)
    return Segment(pcm, 1.0, 1.25, 1.25 + speech_s, 1.35 + speech_s, talk_before_s=talk_before_s)


def test_the_spotter_hears_a_whole_transcript_that_is_a_phrase_listened_for() -> None:
    recognizer = ScriptedRecognizer("Okay, your turn. Okay")
    spotter = WhisperCueSpotter(recognizer=recognizer)
    spotter.listen_for({"done", "stop"})
    verdict = spotter.judge(a_segment())
    assert verdict.detection is not None and (verdict.detection.cue, verdict.phrase) == ("done", "your turn")
    # The recognizer was told which phrases to expect: those listened for, and no others.
    [(_, before)] = recognizer.heard
    assert before is not None and "Your turn." in before and "Stop." in before and "Next." not in before
    spotter.listen_for({"stop"})
    assert spotter.judge(a_segment()) == Verdict(None, "not listened for", "your turn")


def test_the_spotter_never_transcribes_talk() -> None:
    recognizer = ScriptedRecognizer("stop")
    spotter = WhisperCueSpotter(recognizer=recognizer)
    assert spotter.judge(a_segment(speech_s=2.5)).reason == "too long"
    assert spotter.judge(a_segment(talk_before_s=3.0)).reason == "follows talk"
    assert recognizer.heard == []  # neither was transcribed
    assert spotter.judge(a_segment()).detection is not None


def test_the_spotter_says_when_a_phrase_was_heard_without_enough_confidence() -> None:
    config = SpotterConfig()
    unsure = WhisperCueSpotter(config, ScriptedRecognizer("pause", (config.near_from + config.accept_at) / 2))
    verdict = unsure.judge(a_segment())
    assert (verdict.detection, verdict.reason, verdict.near) == (None, "below threshold", True)
    guess = WhisperCueSpotter(config, ScriptedRecognizer("pause", config.near_from / 2))
    assert guess.judge(a_segment()).near is False


def test_the_spotter_takes_its_own_line_for_echo_but_lets_other_words_through() -> None:
    spotter = WhisperCueSpotter(recognizer=ScriptedRecognizer("stop"))
    assert spotter.judge(a_segment(), own_line="To end, say stop.").reason == "own voice"
    assert spotter.judge(a_segment(), own_line="Take a slow breath.").detection is not None
    assert WhisperCueSpotter(recognizer=ScriptedRecognizer("")).judge(a_segment()).reason == "no speech"


def test_confidence_is_the_phrase_s_own_not_its_repetitions() -> None:
    pieces = ((" Stop", 0.9), (".", 1.0), (" Stop", 0.1), (".", 1.0))
    transcript = Transcript("Stop. Stop.", pieces, 0.1)
    assert phrase_confidence(transcript, "stop", {"stop"}) == pytest.approx(0.9)
    assert transcript.confidence() == pytest.approx(0.3)
