"""Every installed package is pinned, with hashes, in the requirements files."""

import re
from importlib import metadata
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for each requirement in a compiled file."""
    found: dict[str, tuple[str, int]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        match = PIN.match(line)
        if match:
            current = normal(match.group(1))
            found[current] = (match.group(2).rstrip(" \\"), 0)
        elif line.startswith("--hash=sha256:") and current:
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
        elif line and not line.startswith("#"):
            assert line.startswith("--hash"), f"{path.name}: unexpected line {line!r}"
    return found


@pytest.mark.parametrize(
    "name", ["requirements", "requirements-dev", "requirements-bench", "requirements-node"]
)
def test_each_compiled_file_pins_every_package_with_hashes_and_keeps_the_versions_asked_for(name):
    compiled = pinned(BASE_DIR / f"{name}.txt")
    assert compiled
    assert [package for package, (_, hashes) in compiled.items() if hashes == 0] == []
    for line in (BASE_DIR / f"{name}.in").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            package = normal(match.group(1).split("[")[0])
            assert compiled[package][0] == match.group(2), f"{name}.txt has another {package}"


def test_the_runtime_and_test_files_agree_and_cover_everything_installed():
    runtime = pinned(BASE_DIR / "requirements.txt")
    dev = pinned(BASE_DIR / "requirements-dev.txt")
    assert {name: dev[name][0] for name in runtime} == {
        name: version for name, (version, _) in runtime.items()
    }
    installed = {normal(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    # Everything `make test` installed came from the file, at its version (pip itself excepted:
    # the venv brings it; the bench's and Node's extras live in their own files).
    extras = set(pinned(BASE_DIR / "requirements-bench.txt")) | set(
        pinned(BASE_DIR / "requirements-node.txt")
    )
    for name, version in installed.items():
        if name in {"pip", "setuptools", "wheel"} or (name in extras and name not in dev):
            continue
        assert name in dev, f"{name} is installed but not pinned in requirements-dev.txt"
        assert dev[name][0] == version, (
            f"{name} {version} is installed; requirements-dev.txt pins {dev[name][0]}"
        )
