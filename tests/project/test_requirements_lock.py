"""requirements.lock pins, with hashes, what pyproject.toml's ranges allow.

`make install` installs the lock, not the ranges: a dependency added to
pyproject.toml (an extra's too) or a floor raised above its pin without
`make lock` would otherwise go unnoticed until someone's install differed.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [*project["dependencies"]]
    for extra in ("test", "dev"):
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


def locked() -> dict[str, tuple[Version, int]]:
    """Each pinned package's version and how many hashes it has."""
    pins: dict[str, tuple[Version, int]] = {}
    name = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pin = PIN.match(line)
        if pin:
            name = canonicalize_name(pin.group(1))
            pins[name] = (Version(pin.group(2)), 0)
        elif name and HASH.search(line):
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def test_every_requirement_is_pinned_within_its_range():
    pins = locked()
    wrong = []
    for requirement in project_requirements():
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            wrong.append(f"{requirement}: not in the lock")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            wrong.append(f"{requirement}: locked at {pins[name][0]}")
    assert not wrong, "re-lock with `make lock`: " + "; ".join(wrong)


def test_every_pin_has_a_hash():
    assert [name for name, (_, hashes) in locked().items() if not hashes] == []


def test_lock_names_no_index_or_local_path():
    """Sources come from pip's own configuration, so the lock works on any machine."""
    options = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.startswith(("-i", "--index-url", "--extra-index-url", "-f", "--find-links"))
    ]
    assert options == []
