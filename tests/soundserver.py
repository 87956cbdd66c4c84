"""A private PulseAudio for end-to-end tests: a laptop's speaker and microphone, made of null sinks.

- `speaker`: a null sink, the default output; its monitor is what the laptop plays.
- `mic_feed`: a null sink the tests play recordings into; its monitor, remapped as the source
  `microphone`, is the default input. PortAudio reaches both through ALSA's pulse plugin, so the
  assistant opens "the microphone" and "the speaker" exactly as on a laptop.
- `echo()`: the speaker's monitor looped into the microphone at full level, as a laptop's
  microphone hears its own speakers.

Nothing system-wide changes: the daemon's runtime, state and config live in a temporary folder,
and `PULSE_RUNTIME_PATH` points clients (ours and the assistant's) at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO

SAMPLE_SPEC = "rate=16000 channels=1 format=s16le"


class SoundServerUnavailable(RuntimeError):
    pass


class PrivateSoundServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "PULSE_RUNTIME_PATH": str(folder / "run"),
            "PULSE_STATE_PATH": str(folder / "state"),
            "PULSE_CONFIG_PATH": str(folder / "config"),
        }
        self._daemon: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._echo_module: str | None = None
        self._mic_module: str | None = None

    def start(self) -> None:
        if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
            raise SoundServerUnavailable("pulseaudio is not installed (scripts/setup dev installs it)")
        for name in ("run", "state", "config"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        self._log = open(self.folder / "pulseaudio.log", "wb")  # noqa: SIM115 - closed in stop()
        self._daemon = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                "--disable-shm=yes", "--log-target=stderr",
                "--load=module-native-protocol-unix",
                f"--load=module-null-sink sink_name=speaker {SAMPLE_SPEC}",
                f"--load=module-null-sink sink_name=mic_feed {SAMPLE_SPEC}",
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

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check, timeout=15)

    def stop(self) -> None:
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
