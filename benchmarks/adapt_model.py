"""Adapt the acoustic model to crowd-recorded speech: one MLLR transform, reproducibly.

    .venv/bin/python benchmarks/adapt_model.py SRC [--skip DIR ...] [--out assistant/ears/adaptation]

SRC is a folder in the Speech Commands layout (`SRC/<word>/<speaker>_nohash_<take>.wav`, see
benchmarks/speech_commands_layout.py), such as the v0.02 test set. The transform is fitted on
half its speakers (`adaptation_half`: the SHA-1 of the speaker id is even), leaving out anyone
who also speaks in a `--skip` folder (../shared/speech, the v0.01 clips). It writes
`mllr_matrix` and `speakers.txt`, the speakers it was fitted on, which the benchmarks leave out
(`benchmarks.cues.ADAPTED_SPEAKERS`): every figure stays on voices the transform never heard.

SphinxTrain's Baum-Welch pass aligns each clip to its word with the model PocketSphinx ships;
`mllr_solve` then fits one affine transform of the Gaussian means per feature stream. That is a
few hundred numbers: it moves the model toward laptop and phone microphones in ordinary rooms,
and has too few degrees of freedom to learn any word. Features are computed from the whole clip,
without noise subtraction: on the other half's speakers that heard 414 of 674 cues, features cut
and scaled as the spotter decodes them 405.

Needs SphinxTrain and the older PocketSphinx tools (`apt-get install sphinxtrain sphinxbase-utils
pocketsphinx`); the assistant itself does not. Feature files go to a temporary folder that is
removed at the end. About a minute for the v0.02 test set.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.spotter import ADAPTATION_DIR  # noqa: E402
from benchmarks.speech_commands_layout import speaker_of  # noqa: E402

SPHINXTRAIN = Path("/usr/lib/sphinxtrain")
TOOLS = {
    "bw": SPHINXTRAIN / "bw",
    "mllr_solve": SPHINXTRAIN / "mllr_solve",
    "sphinx_fe": Path("/usr/bin/sphinx_fe"),
    "pocketsphinx_mdef_convert": Path("/usr/bin/pocketsphinx_mdef_convert"),
}
"""What the Debian packages sphinxtrain, sphinxbase-utils and pocketsphinx install."""
APT_PACKAGES = "sphinxtrain sphinxbase-utils pocketsphinx"


def adaptation_half(speaker: str) -> bool:
    """The half of a data set's speakers the transform may be fitted on (a fixed hash: the same
    speakers on every machine)."""
    return int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 2 == 0


def adaptation_clips(src: Path, skip: list[Path], known_words: set[str]) -> list[Path]:
    """The clips to fit on: the adaptation half's speakers, less anyone heard in a `skip` folder,
    of words the dictionary knows."""
    skipped = {speaker_of(p) for d in skip for p in d.rglob("*.wav")}
    return [
        p
        for p in sorted(src.glob("*/*.wav"))
        if p.parent.name in known_words and adaptation_half(speaker_of(p)) and speaker_of(p) not in skipped
    ]


def read_sendump(path: Path) -> np.ndarray:
    """PocketSphinx's quantised mixture weights (`sendump`) as SphinxTrain's float array
    (senone x stream x density). Weights are stored as 8-bit negative log values (base 1.0001,
    shifted by `mixw_shift`): per stream, per density, one byte per senone."""
    data = path.read_bytes()
    pos = 0
    fmt = "<I"

    def count() -> int:
        nonlocal pos, fmt
        (value,) = struct.unpack_from(fmt, data, pos)
        if value > 65536:  # written on a machine of the other byte order
            fmt = ">I"
            (value,) = struct.unpack_from(fmt, data, pos)
        pos += 4
        return int(value)

    def text() -> str | None:
        nonlocal pos
        n = count()
        if n == 0:
            return None
        s = data[pos : pos + n - 1].decode("ascii")
        pos += n
        return s

    text()  # the title
    header: dict[str, int] = {}
    while (line := text()) is not None:
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            header[key] = int(value)
    if header.get("cluster_count", 0) != 0:
        raise ValueError(f"{path}: clustered mixture weights are not supported")
    n_densities, n_senones = count(), count()
    n_streams, shift = header["feature_count"], header.get("mixw_shift", 10)
    raw = np.frombuffer(data, np.uint8, n_streams * n_densities * n_senones, pos)
    logs = raw.reshape(n_streams, n_densities, n_senones).astype(np.float64) * (1 << shift)
    return np.power(1.0001, -logs).transpose(2, 0, 1)


def write_s3_array(path: Path, array: np.ndarray) -> None:
    """A SphinxTrain binary parameter file: text header, byte-order mark, shape, float32 data."""
    head = b"s3\nversion 1.0\n"
    misalign = (len(head) + len(b"endhdr\n")) % 4
    head += b" " * ((4 - misalign) % 4) + b"endhdr\n"
    with open(path, "wb") as f:
        f.write(head + struct.pack("=i", 0x11223344))
        f.write(struct.pack("=" + "I" * (array.ndim + 1), *array.shape, array.size))
        f.write(array.astype("<f4").tobytes())


def run(tool: str, *args: str | Path) -> None:
    done = subprocess.run([str(TOOLS[tool]), *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tool} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def fit(src: Path, clips: list[Path], model: Path, work: Path, out: Path) -> None:
    """Features, alignment statistics and the transform of `model` (PocketSphinx's en-us folder),
    all under `work` but the transform."""
    hmm = work / "model"
    shutil.copytree(model / "en-us", hmm)
    # SphinxTrain reads the text form of the model definition and unquantised mixture weights.
    run("pocketsphinx_mdef_convert", "-text", hmm / "mdef", hmm / "mdef.txt")
    write_s3_array(hmm / "mixture_weights", read_sendump(hmm / "sendump"))

    utts = [f"{clip.parent.name}/{clip.stem}" for clip in clips]
    for word in {clip.parent.name for clip in clips}:
        (work / "feat" / word).mkdir(parents=True)
    (work / "clips.fileids").write_text("\n".join(utts) + "\n")
    # One word a clip, between silences; the utterance id is the file name without its folder.
    transcripts = [f"<s> {clip.parent.name} </s> ({clip.stem})\n" for clip in clips]
    (work / "clips.transcription").write_text("".join(transcripts))
    run(
        "sphinx_fe", "-argfile", hmm / "feat.params", "-samprate", "16000", "-c", work / "clips.fileids",
        "-di", src, "-do", work / "feat", "-ei", "wav", "-eo", "mfc", "-mswav", "yes",
        "-dither", "yes", "-seed", "1", "-remove_noise", "no",
    )  # fmt: skip
    (work / "acc").mkdir()
    run(
        "bw", "-hmmdir", hmm, "-moddeffn", hmm / "mdef.txt", "-ts2cbfn", ".ptm.", "-feat", "1s_c_d_dd",
        "-svspec", "0-12/13-25/26-38", "-cmn", "current", "-agc", "none",
        "-dictfn", model / "cmudict-en-us.dict", "-fdictfn", hmm / "noisedict",
        "-ctlfn", work / "clips.fileids", "-lsnfn", work / "clips.transcription",
        "-cepdir", work / "feat", "-cepext", "mfc", "-accumdir", work / "acc",
    )  # fmt: skip
    run(
        "mllr_solve", "-meanfn", hmm / "means", "-varfn", hmm / "variances",
        "-outmllrfn", out, "-accumdir", work / "acc",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("src", type=Path, help="Speech Commands layout: SRC/<word>/<speaker>_nohash_<take>.wav")
    ap.add_argument("--skip", type=Path, action="append", default=[], help="speakers heard here are not fitted on")
    ap.add_argument("--out", type=Path, default=ADAPTATION_DIR)
    args = ap.parse_args(argv)
    missing = [str(p) for p in TOOLS.values() if not p.exists()]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: apt-get install {APT_PACKAGES}")
    import pocketsphinx

    model = Path(pocketsphinx.get_model_path()) / "en-us"
    dictionary = (model / "cmudict-en-us.dict").read_text(encoding="utf-8")
    words = {line.split()[0] for line in dictionary.splitlines() if line}
    clips = adaptation_clips(args.src, args.skip, words)
    if not clips:
        raise SystemExit(f"{args.src}: no clips of the adaptation half in the Speech Commands layout")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="adapt-") as tmp:
        fit(args.src, clips, model, Path(tmp), args.out / "mllr_matrix")
    speakers = sorted({speaker_of(c) for c in clips})
    (args.out / "speakers.txt").write_text("\n".join(speakers) + "\n", encoding="ascii")
    print(f"fitted on {len(clips)} clips from {len(speakers)} speakers: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
