"""A private PulseAudio for end-to-end tests: a laptop's speaker and microphone, made of null sinks.

- `speaker`: a null sink, the default output; its monitor is what the laptop plays.
- `mic_feed`: a null sink the tests play recordings into; its monitor, remapped as the source
  `microphone`, is the default input. PortAudio reaches both through ALSA's pulse plugin, so the
  assistant opens "the microphone" and "the speaker" exactly as on a laptop.
- `echo()`: the speaker's monitor looped into the microphone at full level, as a laptop's
  microphone hears its own speakers.
- `PrivateSoundServer(folder, tap=True)`: the same two devices, built as the two channels of one
  stereo null sink `tap` (`mic_feed` its left, `speaker` its right), so `record_tap()` hears what
  goes into the microphone and what comes out of the speaker on one sample clock (for latency).

Nothing system-wide changes: the daemon's runtime, state and config live in a temporary folder,
and `PULSE_RUNTIME_PATH` points clients (ours and the assistant's) at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import numpy as np

RATE = 16000
SAMPLE_SPEC = f"rate={RATE} channels=1 format=s16le"
TAP_CHANNELS = {"mic_feed": "front-left", "speaker": "front-right"}
"""With `tap=True`: which channel of the stereo sink `tap` each device is."""


class SoundServerUnavailable(RuntimeError):
    pass


class PrivateSoundServer:
    def __init__(self, folder: Path, tap: bool = False) -> None:
        self.folder = folder
        self.tap = tap
        self.env = {
            **os.environ,
            "PULSE_RUNTIME_PATH": str(folder / "run"),
            "PULSE_STATE_PATH": str(folder / "state"),
            "PULSE_CONFIG_PATH": str(folder / "config"),
        }
        self._daemon: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._echo_module: str | None = None
        self._room: subprocess.Popen[bytes] | None = None
        self._room_feeder: threading.Thread | None = None
        self._mic_module: str | None = None

    def start(self) -> None:
        if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
            raise SoundServerUnavailable("pulseaudio is not installed (scripts/setup dev installs it)")
        for name in ("run", "state", "config"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        self._log = open(self.folder / "pulseaudio.log", "wb")  # noqa: SIM115 - closed in stop()
        if self.tap:
            devices = [f"--load=module-null-sink sink_name=tap rate={RATE} channels=2 format=s16le"] + [
                f"--load=module-remap-sink sink_name={name} master=tap {SAMPLE_SPEC} channel_map=mono "
                f"master_channel_map={channel} remix=no"
                for name, channel in TAP_CHANNELS.items()
            ]
        else:
            devices = [f"--load=module-null-sink sink_name={name} {SAMPLE_SPEC}" for name in ("speaker", "mic_feed")]
        self._daemon = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                "--disable-shm=yes", "--log-target=stderr",
                "--load=module-native-protocol-unix",
                *devices,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while self.pactl("info", check=False).returncode != 0:
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "pulseaudio.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise SoundServerUnavailable(f"pulseaudio did not start:\n{log}")
            time.sleep(0.1)
        self.plug_in_microphone()
        self.pactl("set-default-sink", "speaker")

    def plug_in_microphone(self) -> None:
        self._mic_module = self.pactl(
            "load-module", "module-remap-source", "source_name=microphone", "master=mic_feed.monitor", SAMPLE_SPEC
        ).stdout.strip()
        self.pactl("set-default-source", "microphone")

    def unplug_microphone(self) -> None:
        """The microphone goes dead, as when a USB headset is pulled out.

        Unloading the source would not do: PulseAudio quietly moves a recording to another
        source. A suspended source delivers nothing, which is what a vanished device looks like
        to PortAudio (its callbacks simply stop)."""
        self.pactl("suspend-source", "microphone", "1")

    def plug_in_microphone_again(self) -> None:
        self.pactl("suspend-source", "microphone", "0")

    def echo(self, on: bool = True) -> None:
        """Loop what the speaker plays into the microphone."""
        if on and self._echo_module is None:
            self._echo_module = self.pactl(
                "load-module", "module-loopback", "source=speaker.monitor", "sink=mic_feed", "latency_msec=20"
            ).stdout.strip()
        elif not on and self._echo_module:
            self.pactl("unload-module", self._echo_module)
            self._echo_module = None

    def play_into_microphone(self, wav: Path) -> None:
        """Play a WAV into the microphone; returns when it has been played."""
        subprocess.run(["paplay", "--device=mic_feed", str(wav)], env=self.env, check=True, timeout=60)

    def record_speaker(self, wav: Path) -> subprocess.Popen[bytes]:
        """Start recording what the speaker plays; stop it with `.terminate()`."""
        return subprocess.Popen(
            ["parecord", "--device=speaker.monitor", "--file-format=wav", "--rate=16000", "--channels=1", str(wav)],
            env=self.env,
        )

    def record_tap(self, latency_msec: int = 10) -> TapRecording:
        """Start recording the stereo `tap` (needs `tap=True`): left what the microphone hears,
        right what the speaker plays, sample for sample on the sink's one clock."""
        if not self.tap:
            raise RuntimeError("record_tap() needs PrivateSoundServer(folder, tap=True)")
        return TapRecording(self, latency_msec)

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check, timeout=15)

    def room_noise(self, rms: float = 16.0) -> None:
        """Quiet, steady noise in the microphone from now on (RMS 16 is -66 dBFS), as a laptop's
        microphone hears its room: never the digital silence a null sink gives between cues,
        against which a recording's own background hiss would sound like speech."""
        self._room = subprocess.Popen(
            ["pacat", "--playback", "--device=mic_feed", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1"],
            env=self.env, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._room_feeder = threading.Thread(target=self._feed_room, args=(self._room, rms), name="room-noise")
        self._room_feeder.start()

    @staticmethod
    def _feed_room(player: subprocess.Popen[bytes], rms: float) -> None:
        rng = np.random.default_rng(0)
        assert player.stdin is not None
        try:
            while player.poll() is None:  # pacat's buffer paces the writes
                player.stdin.write(np.round(rng.standard_normal(RATE // 10) * rms).astype(np.int16).tobytes())
        except (BrokenPipeError, ValueError, OSError):
            pass  # the player was stopped

    def stop(self) -> None:
        if self._room is not None:
            self._room.terminate()
            self._room.wait(timeout=10)
            if self._room_feeder is not None:
                self._room_feeder.join(timeout=10)
            assert self._room.stdin is not None
            try:
                self._room.stdin.close()
            except BrokenPipeError:
                pass  # pacat has gone; the pipe is closed all the same
            self._room = None
        if self._daemon and self._daemon.poll() is None:
            self._daemon.terminate()
            try:
                self._daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait(timeout=10)
        self._daemon = None
        if self._log is not None:
            self._log.close()
            self._log = None


class TapRecording:
    """`parec` of the tap's monitor, read as it arrives, each read stamped with `time.monotonic()`.

    A null sink renders only while something plays into it, so a stream of silence keeps the
    tap's clock running for the whole recording. The stamps place the recording on the monotonic
    clock (shared with other processes' logs): a frame can arrive late but never before it was
    rendered, so the earliest arrival relative to its position, among the reads within a few
    seconds, gives the offset (to within a few milliseconds at `latency_msec`).
    """

    WINDOW_S = 1.0
    """Reads within this of a frame place it in time (robust to a slowly drifting offset)."""

    def __init__(self, server: PrivateSoundServer, latency_msec: int) -> None:
        self._data = bytearray()
        self._lock = threading.Lock()
        self._stamps: list[tuple[int, float]] = []
        """(frames received so far, time.monotonic() on arrival), one a read."""
        self._zeros = open("/dev/zero", "rb")  # noqa: SIM115 - closed in stop()
        self._silence = subprocess.Popen(
            ["pacat", "--playback", "--device=tap", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=2"],
            env=server.env, stdin=self._zeros,
        )  # fmt: skip
        self._process = subprocess.Popen(
            ["parec", "--device=tap.monitor", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=2",
             f"--latency-msec={latency_msec}"],
            env=server.env, stdout=subprocess.PIPE,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, name="tap-recording", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        with self._process.stdout:
            while chunk := self._process.stdout.read1(4096):
                arrived = time.monotonic()
                with self._lock:
                    self._data += chunk
                    self._stamps.append((len(self._data) // 4, arrived))

    def wait_until_running(self, timeout: float = 15) -> None:
        """Until the recording has begun (parec takes a moment to connect)."""
        deadline = time.monotonic() + timeout
        while self.frames < RATE // 2:
            if time.monotonic() > deadline:
                raise SoundServerUnavailable("the tap recording did not start")
            time.sleep(0.05)

    @property
    def frames(self) -> int:
        """Stereo frames recorded so far."""
        with self._lock:
            return len(self._data) // 4

    def samples(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frames [start, stop) as an int16 array of shape (n, 2): microphone, speaker."""
        with self._lock:
            end = len(self._data) // 4 if stop is None else min(stop, len(self._data) // 4)
            data = bytes(self._data[4 * max(0, start) : 4 * max(start, end)])
        return np.frombuffer(data, np.int16).reshape(-1, 2)

    def _offset(self, near: float) -> float:
        """time.monotonic() of frame 0, judged from the reads around `near` (seconds into the recording)."""
        with self._lock:
            stamps = np.array(self._stamps, dtype=np.float64).reshape(-1, 2)
        if not len(stamps):
            raise RuntimeError("nothing recorded yet")
        offsets = stamps[:, 1] - stamps[:, 0] / RATE
        close = np.abs(stamps[:, 0] / RATE - near) <= self.WINDOW_S
        return float(offsets[close].min() if close.any() else offsets.min())

    def monotonic_at(self, frame: float) -> float:
        """`time.monotonic()` at which `frame` was rendered."""
        return self._offset(frame / RATE) + frame / RATE

    def frame_at(self, monotonic: float) -> int:
        """The frame rendered at `time.monotonic()` == `monotonic`."""
        with self._lock:
            first = self._stamps[0] if self._stamps else (0, monotonic)
        rough = (monotonic - first[1]) + first[0] / RATE
        return round((monotonic - self._offset(rough)) * RATE)

    def stop(self) -> None:
        for process in (self._process, self._silence):
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=10)
        self._zeros.close()
        self._reader.join(timeout=10)
