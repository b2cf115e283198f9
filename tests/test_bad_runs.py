"""Run-level bad inputs: a quarter outside the data, an output folder that cannot be written, a full disk.

Each case runs ``okr-report run`` against the small good workspace of the bad-input corpus after one good run
has published its quarter into the same output folder, and checks the exact problem line, exit code 2, no
traceback, and that the published quarter folder is byte for byte what it was.

The output folder is a real 4 MiB tmpfs (mounted here as root), so "read-only" and "disk full" are the kernel's
own errors, not mocks. The quarter case runs the installed console script in a subprocess (it starts its own
local Prefect server); the others run the same command in-process under one Prefect test server, to stay fast.
Without permission to mount (not root, or no CAP_SYS_ADMIN) the tmpfs cases are skipped, saying so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

HERE = Path(__file__).resolve().parent
GOOD = HERE / "bad_inputs" / "good"
ROOT = HERE.parent
QUARTER, SLUG = "2024-Q2", "2024-Q2"


def _mount(target: Path, options: str, remount: bool = False) -> subprocess.CompletedProcess:
    cmd = ["mount", "-o", options, target.as_posix()] if remount else \
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", target.as_posix()]
    return subprocess.run(cmd, capture_output=True, text=True)


class Disk:
    def __init__(self, path: Path, mounted: bool, why: str = ""):
        self.path, self.mounted, self.why = path, mounted, why

    def need_mount(self) -> None:
        if not self.mounted:
            pytest.skip(f"cannot mount a tmpfs here ({self.why}): this case needs a real small disk")


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    """A small tmpfs of our own for the output folder (a plain folder when mounting is not allowed)."""
    where = tmp_path_factory.mktemp("tmpfs")
    p = _mount(where, "size=4m,mode=0755") if shutil.which("mount") else None
    if p is None or p.returncode != 0:
        yield Disk(where, False, "no mount command" if p is None else p.stderr.strip())
        return
    yield Disk(where, True)
    subprocess.run(["umount", "-l", where.as_posix()], capture_output=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("bad_runs") / "ws"
    shutil.copytree(GOOD, dest)
    return dest


@pytest.fixture(scope="module")
def prefect_server():
    """One local Prefect test server for the in-process runs of this module."""
    from flows.settings import apply_defaults

    apply_defaults()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def run(*args: str) -> tuple[int, str]:
    """``okr-report run`` in-process: (exit code, everything it printed)."""
    from flows import cli

    result = CliRunner().invoke(cli.app, ["run", *args])
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    return result.exit_code, result.stdout + result.stderr


def problem_lines(text: str) -> list[str]:
    return [line[4:] for line in text.splitlines() if line.startswith("  - ")]


def snapshot(out: Path) -> dict[str, str]:
    """Every file of the published quarter folder by path, with its SHA-256, and where the quarter link points."""
    folder = out / SLUG
    files = {"->": os.readlink(folder) if folder.is_symlink() else "(folder)"}
    for path in sorted(folder.resolve().rglob("*")):
        if path.is_file():
            files[path.relative_to(folder.resolve()).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def leftovers(out: Path) -> list[str]:
    runs = out / ".runs" / SLUG
    return sorted(p.name for p in runs.iterdir() if p.name.startswith(".tmp-")) + \
        sorted(p.name for p in out.glob(f".{SLUG}.link-*"))


@pytest.fixture(scope="module")
def published(disk, workspace, prefect_server) -> tuple[Path, dict[str, str]]:
    out = disk.path / "out"
    code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out))
    assert code == 0, printed
    before = snapshot(out)
    assert {"index.html", "manifest.json", "kr_values.csv", "kr_values.xlsx"} <= set(before)
    assert sum(name.endswith(".pdf") for name in before) == 9
    return out, before


def test_quarter_outside_the_data(published, workspace):
    out, before = published
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    p = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--workspace", str(workspace), "--quarter",
                        "2019-Q1", "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert problem_lines(p.stderr) == [
        "--quarter: value '2019 Q1': expected a quarter within the data, which runs from 2024-01-20 to 2024-06-27"]
    assert snapshot(out) == before and leftovers(out) == []


def test_output_folder_below_a_file(prefect_server, workspace, tmp_path):
    # chmod does not stop root; a path through a regular file fails for everyone
    (tmp_path / "file.txt").write_text("not a folder\n")
    out = tmp_path / "file.txt" / "sub"
    code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out))
    assert code == 2, printed
    assert "Traceback" not in printed
    assert problem_lines(printed) == [f"{out}: the output folder cannot be written (Not a directory): expected a "
                                      "writable folder for --out or 'output:'"]


def test_read_only_output_folder(published, workspace, disk, capfd):
    disk.need_mount()
    out, before = published
    assert _mount(disk.path, "remount,ro", remount=True).returncode == 0
    try:
        # --force: a run that has to write (an unchanged one would only read the published version)
        code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out), "--force")
    finally:
        assert _mount(disk.path, "remount,rw", remount=True).returncode == 0
    assert code == 2, printed
    assert "Traceback" not in printed + "".join(capfd.readouterr())
    assert problem_lines(printed) == [f"{out}: the output folder cannot be written (Read-only file system): "
                                      "expected a writable folder for --out or 'output:'"]
    assert snapshot(out) == before and leftovers(out) == []


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = disk / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        except OSError:
            pass
        try:
            fh.close()
        except OSError:
            pass
    with pytest.raises(OSError):
        (disk / "probe").write_bytes(b"x" * 8192)
    return filler


def test_full_disk(published, workspace, disk, capfd):
    disk.need_mount()
    out, before = published
    filler = fill(disk.path)
    try:
        code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out), "--force")
    finally:
        filler.unlink()
        (disk.path / "probe").unlink(missing_ok=True)
    assert code == 2, printed
    assert "Traceback" not in printed + "".join(capfd.readouterr())
    assert problem_lines(printed) == [f"{out}: the outputs could not be written (No space left on device); the "
                                      "published scorecards were left as they were"]
    assert snapshot(out) == before and leftovers(out) == []


def test_the_next_good_run_publishes_again(published, workspace):
    out, before = published
    code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out))
    assert code == 0, printed
    assert "nothing changed since the published run" in printed
    assert snapshot(out) == before and leftovers(out) == []  # the failed runs left the published version whole
    code, printed = run("--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out), "--force")
    assert code == 0, printed
    after = snapshot(out)
    assert after["->"] != before["->"]          # a new version was swapped in
    assert leftovers(out) == []
    assert sorted(after) == sorted(before)


def test_run_reports_what_validate_reports(prefect_server, tmp_path):
    # several defects at once: `run` stops before computing and prints the very report `validate` prints
    from flows import cli

    ws = tmp_path / "ws"
    shutil.copytree(GOOD, ws)
    text = (ws / "exports" / "deals.csv").read_text(encoding="utf-8")
    (ws / "exports" / "deals.csv").write_text(text.replace("3200", "-3200").replace("2024-05-21", "someday"),
                                              encoding="utf-8")
    (ws / "exports" / "teams.csv").unlink()
    import openpyxl

    wb = openpyxl.load_workbook(ws / "exports" / "people.xlsx")
    wb.worksheets[0]["A4"] = '="P"&"03"'   # a formula with no saved result: found by the reader, told by staging
    wb.save(ws / "exports" / "people.xlsx")
    checked = CliRunner().invoke(cli.app, ["validate", "--workspace", str(ws)])
    code, printed = run("--workspace", str(ws), "--quarter", QUARTER, "--out", str(tmp_path / "out"))
    assert checked.exit_code == code == 2
    assert "Traceback" not in printed
    assert problem_lines(printed) == problem_lines(checked.stderr)
    assert len(problem_lines(printed)) == 4
    assert "a formula without a cached value" in problem_lines(printed)[1]
    assert not (tmp_path / "out").exists()
