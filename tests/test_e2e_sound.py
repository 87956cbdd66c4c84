"""End to end through a real sound server: the assistant opens "the microphone" and "the speaker"
of a private PulseAudio, a virtual couple talks into the microphone, and we listen to the speaker.

Skipped where PulseAudio or eSpeak NG is missing (scripts/setup dev installs both).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.journal import Journal
from assistant.session import Place
from tests.conftest import SHARED, needs_espeak
from tests.soundserver import PrivateSoundServer, SoundServerUnavailable

ROOT = Path(__file__).resolve().parents[1]
COUPLE_VOICE = ["-v", "en-gb+f4", "-s", "140"]  # unlike the assistant's en-us male voice

pytestmark = needs_espeak

PROGRAMME = """
title: Sound test
partners: [Ann, Ben]
welcome: Welcome. Say next when you are ready.
closing: Goodbye.
steps:
  - title: Turns
    intro: One step.
    exercises:
      - {title: Each in turn, format: turns, prompt: Take turns., turn_prompt: "{speaker}, speak.", speak_seconds: 120}
"""


@pytest.fixture(scope="module")
def sound_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateSoundServer]:
    server = PrivateSoundServer(tmp_path_factory.mktemp("pulse"))
    try:
        server.start()
    except SoundServerUnavailable as error:
        pytest.skip(str(error))
    server.room_noise()
    yield server
    server.stop()


def spoken(tmp_path: Path, text: str, voice: list[str] = COUPLE_VOICE) -> Path:
    """A partner's phrase in a voice unlike the assistant's, with a little room around it."""
    name = f"{text}-{'-'.join(voice)}".replace(" ", "_").replace("'", "")
    raw, padded = tmp_path / f"{name}-raw.wav", tmp_path / f"{name}.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(raw), text], check=True)
    _pad(raw, padded)
    return padded


PARTNER_VOICES = [COUPLE_VOICE, ["-v", "en-us+m3", "-s", "130"], ["-v", "en+f2", "-s", "160"]]


def phrasings(tmp_path: Path, *texts: str) -> list[Path]:
    """Each phrase in each partner voice: the couple says it again, differently, if not heard."""
    return [spoken(tmp_path, text, voice) for text in texts for voice in PARTNER_VOICES]


def real_clips(word: str, tmp_path: Path) -> list[Path]:
    """Real recordings of `word` from ../shared (padded), or eSpeak NG where they are absent."""
    folder = SHARED / "speech" / "words" / word
    if not folder.is_dir():
        return [spoken(tmp_path, word)]
    clips = []
    for clip in sorted(folder.glob("*.wav")):
        clips.append(tmp_path / f"{word}-{clip.name}")
        _pad(clip, clips[-1])
    return clips


def _pad(source: Path, target: Path, seconds: float = 0.4) -> None:
    with wave.open(str(source)) as wav:
        rate, width, frames = wav.getframerate(), wav.getsampwidth(), wav.readframes(wav.getnframes())
    silence = b"\0" * int(rate * seconds) * width
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(silence + frames + silence)


class Assistant:
    """`assistant run` as a process on the private sound server, its log read line by line."""

    def __init__(self, server: PrivateSoundServer, *args: str) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "run", "--verbose", *args],
            cwd=ROOT,
            env={**server.env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            self.seen.append(line)
            if text in line:
                return True
        return False

    def wait_until_quiet(self, timeout: float = 60) -> None:
        """Until the assistant's voice has finished what it is saying."""
        assert self.wait_for("VoiceFinished", timeout), "".join(self.seen[-20:])

    def wait_until_silent(self, gap: float = 2.0) -> None:
        """Until the voice has finished and `gap` seconds pass without it starting again."""
        while self.wait_for("VoiceStarted", timeout=gap):
            self.wait_until_quiet()

    def finish(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Kill the process if it still runs, and collect what is left of its log."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        if self.process.stdin:
            self.process.stdin.close()
        self._reader.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())

    @property
    def log(self) -> str:
        return "".join(self.seen)


def say_until_heard(server: PrivateSoundServer, assistant: Assistant, clips: list[Path], cue: str) -> None:
    """Play clips into the microphone, one after another, until the assistant hears `cue`."""
    for clip in clips:
        server.play_into_microphone(clip)
        if assistant.wait_for(f"CueHeard {cue} by voice", timeout=3):
            return
    pytest.fail(f"the assistant never heard {cue!r} from {[c.name for c in clips]}\n{assistant.log[-3000:]}")


def loudness(path: Path) -> float:
    """Seconds of sound (not silence) in a recording."""
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        rate = wav.getframerate()
    frame = rate // 50
    blocks = np.abs(samples[: len(samples) // frame * frame].reshape(-1, frame)).max(axis=1)
    return float((blocks > 300).sum()) / 50


def test_a_whole_session_driven_only_by_spoken_cues(sound_server: PrivateSoundServer, tmp_path: Path) -> None:
    programme = tmp_path / "p.yaml"
    programme.write_text(PROGRAMME)
    go = real_clips("go", tmp_path) + phrasings(tmp_path, "next step", "let's begin")
    im_done = phrasings(tmp_path, "I'm done", "I'm finished", "your turn")
    speaker = tmp_path / "speaker.wav"
    recording = sound_server.record_speaker(speaker)
    time.sleep(1)  # parecord takes a moment to connect
    assistant = Assistant(sound_server, "--programme", str(programme), "--data-dir", str(tmp_path / "data"))
    try:
        assistant.wait_until_quiet()
        say_until_heard(sound_server, assistant, go, "next")  # after the welcome
        say_until_heard(sound_server, assistant, go, "next")  # after step 1's introduction
        for cue, clips in [("next", go), ("done", im_done), ("done", im_done)]:
            assistant.wait_until_quiet()
            say_until_heard(sound_server, assistant, clips, cue)
        assert assistant.finish() == 0, assistant.log[-3000:]
    finally:
        recording.send_signal(signal.SIGINT)
        recording.wait(timeout=10)
        assistant.close()
    assert "No sound output device" not in assistant.log and "Not listening" not in assistant.log
    assert "Step 1: Turns" in assistant.log and "Goodbye." in assistant.log
    # The assistant's voice was heard on the speaker all along: the welcome, the step, the
    # exercise, two turn prompts, the summary and the closing take well over ten seconds.
    assert loudness(speaker) > 10


def test_the_assistant_never_acts_on_its_own_voice(sound_server: PrivateSoundServer, tmp_path: Path) -> None:
    """With the speaker looped into the microphone, a whole rehearsal hears no cue by voice."""
    sound_server.echo(True)
    try:
        assistant = Assistant(
            sound_server, "--auto", "--fast", "20", "--programme", str(_builtin_short(tmp_path)),
            "--data-dir", str(tmp_path / "data"),
        )  # fmt: skip
        code = assistant.finish(timeout=600)
    finally:
        sound_server.echo(False)
    assert code == 0, assistant.log[-3000:]
    assert "by voice" not in assistant.log, [line for line in assistant.seen if "by voice" in line]
    assert assistant.log.count("VoiceStarted") >= 5  # it did speak, and heard itself all along


def _builtin_short(tmp_path: Path) -> Path:
    """The built-in programme's words (full of cue words: "say next", "I'm done", "time out"),
    cut to its first two steps with short rounds, so a rehearsal with echo takes a few minutes."""
    import yaml

    data = yaml.safe_load((ROOT / "assistant" / "programme" / "rebuilding_trust.yaml").read_text())
    data["steps"] = data["steps"][:2]
    for step in data["steps"]:
        step["exercises"] = step["exercises"][:1]
        for exercise in step["exercises"]:
            exercise["speak_seconds"] = 20
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_stop_cuts_the_assistant_off_mid_sentence(sound_server: PrivateSoundServer, tmp_path: Path) -> None:
    stop = real_clips("stop", tmp_path) + phrasings(tmp_path, "stop", "end session")
    assistant = Assistant(sound_server, "--data-dir", str(tmp_path / "data"))
    try:
        assert assistant.wait_for("VoiceStarted in welcome", timeout=60)  # the long safety note
        time.sleep(1.0)
        say_until_heard(sound_server, assistant, stop, "stop")
        assert assistant.finish(timeout=60) == 0, assistant.log[-3000:]
    finally:
        assistant.close()
    assert "VoiceFinished" in assistant.log.split("CueHeard stop by voice")[1]
    journal = Journal(tmp_path / "data", "Rebuilding trust together")
    assert journal.saved_place() == Place(0, 0)
    journal.close()


def test_a_lost_microphone_leaves_the_keyboard(sound_server: PrivateSoundServer, tmp_path: Path) -> None:
    assistant = Assistant(sound_server, "--data-dir", str(tmp_path / "data"))
    try:
        assert assistant.wait_for("VoiceStarted in welcome", timeout=60)
        sound_server.unplug_microphone()
        assert assistant.wait_for("DeviceLost", timeout=30), assistant.log[-3000:]
        assert assistant.process.stdin is not None
        assistant.process.stdin.write("n\nq\n")
        assistant.process.stdin.flush()
        assert assistant.finish(timeout=60) == 0, assistant.log[-3000:]
    finally:
        sound_server.plug_in_microphone_again()
        assistant.close()
    assert "CueHeard stop by key" in assistant.log
    journal = Journal(tmp_path / "data", "Rebuilding trust together")
    assert journal.saved_place() == Place(0, 0)
    journal.close()


def test_no_sound_server_at_all_means_text_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(tmp_path / "nowhere"), "PULSE_SERVER": "unix:/nonexistent"}
    process = subprocess.run(
        [sys.executable, "-m", "assistant", "run", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT, env=env, input="n\nq\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "Continuing in text mode" in process.stdout
    assert "Not listening" in process.stdout
    assert "Stopping here." in process.stdout
