"""CI runs exactly the commands the README gives a new user (set-up, test set-up, tests)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("set-up", "test set-up", "the tests")


def _readme_commands() -> dict[str, str]:
    """The README's commands tagged `# <role>` in its set-up block, by role."""
    found = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.fullmatch(r"(python -m [^#]+?)\s+# (set-up|test set-up|the tests)\b.*", line.strip())
        if match:
            found.setdefault(match.group(2), match.group(1))
    return found


def test_readme_names_a_set_up_a_test_set_up_and_a_test_command():
    assert set(_readme_commands()) == set(ROLES)


def test_ci_runs_each_readme_command_verbatim_in_a_fresh_virtual_environment():
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.split("#")[0].strip() for line in ci.splitlines()]
    for role, command in _readme_commands().items():
        assert command in lines, f"README's {role} command {command!r} is not a line of .ci/run"
    assert "-m venv" in ci and "mktemp -d" in ci
    venv_at = next(i for i, line in enumerate(lines) if "-m venv" in line)
    assert all(lines.index(command) > venv_at for command in _readme_commands().values())
