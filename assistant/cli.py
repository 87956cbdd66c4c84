"""The command line: parses arguments, picks real or fake devices, turns errors into one line.

The work itself lives in the library; each command here is a few lines of wiring.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from assistant.errors import AssistantError, DeviceError

if TYPE_CHECKING:  # the CLI imports the heavy parts only for the command that needs them
    from assistant.devices import Clock, Ears, Voice
    from assistant.journal import PastSession
    from assistant.programme import Programme
    from assistant.runner import Runner
    from assistant.web.server import PageServer

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="An offline, voice-guided exercise assistant for couples rebuilding trust.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run a guided session",
        description="Run a guided session: the assistant speaks, keeps time and listens for your cues; "
        "the keys shown on screen do the same. It picks up where you left off last time.",
    )
    run.add_argument(
        "--programme", metavar="PATH", help="Use a programme file of your own instead of the built-in one."
    )
    run.add_argument("--text", action="store_true", help="Show what the assistant would say instead of speaking it.")
    run.add_argument(
        "--auto", action="store_true", help="Rehearse: a simulated couple answers every prompt, so nobody need speak."
    )
    run.add_argument(
        "--fast",
        type=_positive_float,
        default=1.0,
        metavar="N",
        help="Run the session's clock N times faster, so rounds and pauses pass quicker (for trying it out).",
    )
    run.add_argument("--data-dir", metavar="DIR", help="Keep your progress in DIR instead of your user data folder.")
    run.add_argument("--restart", action="store_true", help="Start from the first step instead of resuming.")
    run.add_argument(
        "--partners", metavar="NAME,NAME", help="Call you by your two names instead of Partner A and Partner B."
    )
    run.add_argument(
        "--country", metavar="XX", help="Offer the helplines of country XX (e.g. GB) instead of your locale's."
    )
    run.add_argument("--no-mic", action="store_true", help="Do not listen: you give every cue with the keyboard.")
    _voice_options(run)
    run.add_argument("--verbose", action="store_true", help="Log each event's name (never what was said) to stderr.")
    run.add_argument(
        "--record-to",
        metavar="FILE.wav",
        help="Also write everything the assistant says and chimes to FILE.wav (made even with no speaker).",
    )
    run.add_argument("--web", action="store_true", help="Also show the session on a page in your browser.")
    run.add_argument("--no-browser", action="store_true", help="With --web: print the page's address, open no browser.")
    run.add_argument(
        "--port", type=_port, metavar="PORT", help="With --web: serve the page on this port (default: any free one)."
    )

    programme = commands.add_parser("programme", help="work with programme files")
    programme_commands = programme.add_subparsers(dest="programme_command", metavar="ACTION", required=True)
    check = programme_commands.add_parser("check", help="validate a programme file", description="Validate a file.")
    check.add_argument("path", metavar="PATH")

    cues = commands.add_parser("cues", help="run the cue recognizer on WAV files", description="Spot cues in WAVs.")
    cues.add_argument("files", nargs="+", metavar="FILE")
    cues.add_argument("--only", metavar="CUE,CUE", help="listen only for these cues")
    cues.add_argument("--continuous", action="store_true", help="treat each file as a stretch of live listening")

    calibrate = commands.add_parser("calibrate", help="measure the room's noise", description="Measure room noise.")
    calibrate.add_argument(
        "--seconds", type=_positive_float, default=3.0, help="Listen this long to the room (default: 3)."
    )

    history = commands.add_parser("history", help="show past sessions", description="Show past sessions.")
    history.add_argument("--data-dir", metavar="DIR", help="where progress is kept")
    history.add_argument(
        "--web", action="store_true", help="show them on a page in your browser, with the weekly chart, until closed"
    )
    history.add_argument("--no-browser", action="store_true", help="with --web: print the page's address only")
    history.add_argument("--port", type=_port, metavar="PORT", help="with --web: serve the page on this port")
    export = commands.add_parser("export", help="write everything kept to a JSON file", description="Export.")
    export.add_argument("file", metavar="FILE.json")
    export.add_argument("--data-dir", metavar="DIR", help="where progress is kept")
    forget = commands.add_parser("forget", help="delete everything kept", description="Delete all progress.")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.add_argument("--data-dir", metavar="DIR", help="where progress is kept")

    commands.add_parser("voices", help="list every engine's voices (ENGINE:VOICE)", description="List voices.")

    demo = commands.add_parser(
        "demo",
        help="play a short session with a simulated couple into a WAV file and a transcript",
        description="Play a whole short session with a simulated couple, through the real recognizer, "
        "into one WAV file and a transcript. Needs no sound device.",
    )
    demo.add_argument("--wav", default="demo.wav", metavar="FILE.wav", help="the recording (default: demo.wav)")
    demo.add_argument("--transcript", default="demo.txt", metavar="FILE.txt", help="who said what (default: demo.txt)")
    demo.add_argument("--programme", metavar="PATH", help="a programme file (default: a short demo programme)")
    demo.add_argument("--partners", metavar="NAME,NAME", help="the simulated partners' names")
    demo.add_argument(
        "--fast", type=_positive_float, default=10.0, metavar="N", help="waits pass N times faster (default: 10)"
    )

    say = commands.add_parser("say", help="speak one line, to try voice settings", description="Speak one line.")
    say.add_argument("text", help="The line to speak, in quotes.")
    _voice_options(say)
    say.add_argument("--record-to", metavar="FILE.wav", help="Also write the line to FILE.wav.")
    return parser


def _version() -> str:
    """The installed package's version, from its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("couples-trust-assistant")
    except PackageNotFoundError:  # run from a folder that was never installed
        return "(not installed)"


def _voice_options(parser: argparse.ArgumentParser) -> None:
    """--voice, --rate and --volume, the same for `run` and `say`."""
    parser.add_argument(
        "--voice",
        metavar="ENGINE:VOICE",
        help="Speak with this voice instead of hibari:heart (piper:joe, espeak:en-us+f3, ...): `assistant voices`.",
    )
    parser.add_argument("--rate", type=int, help="Speak at this many words per minute (80 to 450), with any voice.")
    parser.add_argument("--volume", type=float, help="Speak at this volume, from 0.0 (silent) to 1.0 (full).")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return run_command(args)
        if args.command == "programme":
            return programme_check_command(args.path, sys.stdout)
        if args.command in ("history", "export", "forget"):
            return journal_command(args, sys.stdout)
        if args.command == "cues":
            from assistant.ears.commands import cues_command

            only = [c.strip() for c in args.only.split(",") if c.strip()] if args.only else None
            return cues_command(args.files, only=only, continuous=args.continuous, out=sys.stdout)
        if args.command == "calibrate":
            from assistant.ears.commands import calibrate_command

            return calibrate_command(sys.stdout, seconds=args.seconds)
        if args.command == "voices":
            from assistant.voice.commands import voices_command

            return voices_command(sys.stdout)
        if args.command == "demo":
            from assistant.demo import demo_command, demo_programme
            from assistant.programme import load_programme

            programme = load_programme(args.programme) if args.programme else demo_programme()
            if args.partners:
                programme = dataclasses.replace(programme, partners=_two_names(args.partners))
            return demo_command(args.wav, args.transcript, programme, fast=args.fast, out=sys.stdout)
        if args.command == "say":
            from assistant.voice.commands import say_command

            return say_command(
                args.text, sys.stdout, voice=args.voice, rate=args.rate, volume=args.volume, record_to=args.record_to
            )
    except AssistantError as error:
        print(f"assistant: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `assistant voices | head`: the reader has all it wanted
        # As the Python docs advise: point stdout at /dev/null so the final flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    raise AssertionError(f"unhandled command {args.command}")  # argparse only lets known commands through


def programme_check_command(path: str, out: TextIO) -> int:
    from assistant.programme import load_programme

    programme = load_programme(path)
    exercises = sum(len(step.exercises) for step in programme.steps)
    print(f"{path}: OK: {programme.title!r}, {len(programme.steps)} steps, {exercises} exercises", file=out)
    return EXIT_OK


def journal_command(args: argparse.Namespace, out: TextIO) -> int:
    """`history`, `export` and `forget`: what the journal keeps, shown, written out, or deleted."""
    import json
    import time

    from assistant.journal import (
        FILE_NAME,
        Journal,
        default_data_dir,
        export,
        forget,
        past_sessions,
        set_aside_notice,
        unreadable_notice,
    )
    from assistant.programme import load_builtin
    from assistant.ui import history_lines

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.command == "forget":
        _tell(unreadable_notice(data_dir))  # before asking: what is about to be deleted could not be read
        if not args.yes:
            print(f"Delete all progress kept in {data_dir}? Type yes to confirm: ", end="", file=out, flush=True)
            if sys.stdin.readline().strip().lower() != "yes":
                print("Nothing was deleted.", file=out)
                return EXIT_OK
        deleted = forget(data_dir)
        print(
            f"Deleted {len(deleted)} file(s) from {data_dir}." if deleted else "There was nothing to delete.", file=out
        )
        return EXIT_OK
    if not (data_dir / FILE_NAME).exists():
        _tell(set_aside_notice(data_dir))
        print(f"No sessions yet (nothing in {data_dir}).", file=out)
        return EXIT_OK
    journal = Journal(data_dir, load_builtin().title)
    _tell(journal.notice)  # it was unreadable and set aside just now
    _tell(set_aside_notice(data_dir, besides=journal.kept))  # neither shown nor exported
    try:
        if args.command == "history" and (args.web or args.no_browser or args.port):
            return _history_page(args, past_sessions(journal), time.time())
        if args.command == "history":
            for line in history_lines(past_sessions(journal), time.time()):
                print(line, file=out)
        else:
            target = Path(args.file)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private, like the journal
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(export(journal), file, indent=2)
            print(f"Wrote {target}.", file=out)
    finally:
        journal.close()
    return EXIT_OK


def _history_page(args: argparse.Namespace, sessions: list[PastSession], now: float) -> int:
    """`history --web`: the sessions and the weekly chart on a page, until its Close button or Ctrl-C."""
    from assistant.web.history import history_page
    from assistant.web.server import HistoryServer, open_in_browser

    page = HistoryServer(history_page(sessions, now), port=args.port or 0)
    try:
        url = page.start()
        print(f"Open {url} to see your sessions on a page (it works on this computer only).", flush=True)
        if not args.no_browser and not open_in_browser(url):
            _tell("no browser could be opened here: open the address above in one.")
        print("Press Close on the page, or Ctrl-C here, to stop.", flush=True)
        page.wait()
    except KeyboardInterrupt:
        pass  # the way to stop, as the line above says
    finally:
        page.close()
    return EXIT_OK


def run_command(args: argparse.Namespace) -> int:
    from assistant.journal import Journal, default_data_dir
    from assistant.keys import KeyboardReader
    from assistant.programme import load_builtin, load_programme
    from assistant.programme.resources import load_help_resources
    from assistant.rehearsal import RehearsalCouple
    from assistant.runner import Runner
    from assistant.session import Session
    from assistant.timers import MonotonicClock
    from assistant.ui import ViewGroup, make_view

    if args.verbose:  # our own log only: libraries' debug output may quote what they were given
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(relativeCreated)8.0f ms %(message)s"))
        logging.getLogger("assistant").addHandler(handler)
        logging.getLogger("assistant").setLevel(logging.DEBUG)
        logging.getLogger("assistant").propagate = False
    programme = load_programme(args.programme) if args.programme else load_builtin()
    if args.partners:
        programme = dataclasses.replace(programme, partners=_two_names(args.partners))
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    journal = Journal(data_dir, programme.title)
    _tell(journal.notice)
    if args.restart:
        journal.forget_place()
    clock = MonotonicClock(speed=args.fast)
    view = make_view(clock, programme.title)
    page = _page_server(args, clock, programme)
    if page:
        view = ViewGroup(view, page.view)
    session = Session(
        programme,
        saved_place=journal.saved_place(),
        help_resources=load_help_resources(args.country, data_dir),
        first_session=not journal.has_sessions(),
    )
    runner = Runner(
        session,
        clock=clock,
        view=view,
        journal=journal,
        couple=RehearsalCouple() if args.auto else None,
    )
    runner.voice = _open_voice(args, runner)
    if not args.auto and not args.no_mic:
        runner.ears = _open_ears(runner)
        session.hears_speech = runner.ears is not None
    if page:
        _open_page(page, runner, open_browser=not args.no_browser)
    keyboard = None
    if sys.stdin is not None and not sys.stdin.closed and not args.auto:
        # With no microphone, the keyboard is the only way in: its end means the couple has gone.
        keyboard = KeyboardReader(runner.post, quit_at_end=runner.ears is None)
        keyboard.start()
    try:
        outcome = runner.run()
    finally:
        if keyboard:
            keyboard.close()
        if runner.ears:
            runner.ears.close()
        runner.voice.close()
        view.close()
        if page:
            page.close()  # the page's server stops with the session
        journal.close()
    if outcome.quick_exit:
        return EXIT_OK
    if outcome.interrupted:
        print("Stopped. Your progress is saved; `assistant run` offers to pick up where you left off.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _tell(notice: str | None) -> None:
    """A notice about the journal, on stderr, so that what a command prints on stdout stays its answer."""
    if notice:
        print(f"assistant: {notice}", file=sys.stderr)


def _two_names(text: str) -> tuple[str, str]:
    names = [name.strip() for name in text.split(",")]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise AssistantError(f"--partners wants two different names with a comma between them, not {text!r}")
    return names[0], names[1]


def _page_server(args: argparse.Namespace, clock: Clock, programme: Programme) -> PageServer | None:
    """With --web (or --no-browser, --port): the page's server, its port taken but not yet serving."""
    if not (args.web or args.no_browser or args.port):
        return None
    from assistant.web.page import PageView
    from assistant.web.server import PageServer

    return PageServer(PageView(clock, programme), port=args.port or 0)


def _open_page(page: PageServer, runner: Runner, open_browser: bool) -> None:
    from assistant.web.server import open_in_browser

    url = page.start(runner.post)
    print(f"Open {url} to see the session on a page (it works on this computer only).", flush=True)
    if open_browser and not open_in_browser(url):
        runner.view.notice("No browser could be opened here: open the address above in one.")


def _open_voice(args: argparse.Namespace, runner: Runner) -> Voice:
    """The real voice, or text mode with one plain message when it cannot speak here.

    With no speaker, a `--record-to` recording is still made: rendered, not played.
    """
    from assistant.runner import TextVoice

    play = not args.text
    if not play and not args.record_to:
        return TextVoice(runner.post)
    from assistant.voice.commands import once, open_voice

    settings = {"voice": args.voice, "rate": args.rate, "volume": args.volume, "record_to": args.record_to}
    notice = once(runner.view.notice)  # a voice that falls back to eSpeak NG says so once
    try:
        return open_voice(runner.post, clock=runner.clock, play=play, notice=notice, **settings)
    except DeviceError as error:
        runner.view.notice(f"{error} Continuing in text mode: the lines are shown instead of spoken.")
        said = str(error)
    if args.record_to:  # a recording needs no speaker: try without one, and never fail to record in silence
        try:
            if play:
                return open_voice(runner.post, clock=runner.clock, play=False, notice=notice, **settings)
        except DeviceError as error:
            if str(error) != said:
                runner.view.notice(str(error))
        runner.view.notice(f"Nothing is recorded to {args.record_to}.")
    return TextVoice(runner.post)


def _open_ears(runner: Runner) -> Ears | None:
    """The microphone, or None (keyboard only) with one plain message when there is none."""
    try:
        from assistant.ears.commands import open_ears

        return open_ears(runner.post)
    except DeviceError as error:
        # The device's reason reads as a sentence here: "No microphone found: ... (...)."
        reason = str(error).rstrip(".")
        runner.view.notice(f"{reason[:1].upper()}{reason[1:]}. Not listening: use the keys shown instead.")
        return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
