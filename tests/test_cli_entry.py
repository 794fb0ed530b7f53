"""The `hrm-bench` console command: its programs, --version and its errors."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.cli import PROGRAMS, main, version


def test_version_and_usage(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"hrm-bench {version()}"
    assert main([]) == 2
    usage = capsys.readouterr().out
    assert all(f"  {name} " in usage for name in PROGRAMS)


def test_an_unknown_program_is_one_error(capsys):
    assert main(["train"]) == 2
    assert "unknown program 'train'" in capsys.readouterr().err


def test_a_program_gets_the_remaining_arguments(tmp_path, capsys):
    assert main(["tasks", "maze", "build", "--set", "height=4", "--set", "width=4", "--set", "train_count=3",
                 "--set", "test_count=2", "--set", "min_path_length=2", "--split", "test", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "test" / "dataset.json").is_file()


def test_help_and_version_do_not_import_torch():
    code = ("import sys; from benchmarks.cli import main; main(['--version']); "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_installed_console_script_runs():
    from pathlib import Path

    script = Path(sys.executable).parent / "hrm-bench"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("hrm-bench ")
