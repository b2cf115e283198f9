"""`make bench`: the real CLI on a benchmark workspace, side by side with reference tools.

    python benchmarks/run.py --size 2k

Runs cold (fresh output folder), warm (nothing changed) and single-team, measures each stage against
its reference in the same run, prints one table and writes it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks import reference  # noqa: E402
from benchmarks.generate import generate  # noqa: E402

QUARTER = "FY2017-18-Q4"
TARGETS = {
    "extract": 1.3, "transform": 1.5, "render": 1.15, "speedup": 1.7, "warm": 0.10, "team": 0.15,
    "orchestration": 0.10,
}


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/statm", encoding="utf-8") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
    return total


def run_cli(args: list[str]) -> dict:
    """One CLI run: wall seconds, peak RSS of the process tree, the manifest of the result."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"okr-report {' '.join(args)} failed ({proc.returncode}):\n{stderr}")
    took = re.search(r"took [\d.]+ s \(([^)]*)\)", stdout)
    stages = {k: float(v) for k, v in (p.split() for p in took.group(1).split(", "))} if took else {}
    return {"wall": wall, "peak_rss": peak[0], "stdout": stdout, "stages": stages}


def manifest(out: Path) -> dict:
    return json.loads((out / QUARTER / "manifest.json").read_text(encoding="utf-8"))


def last_run(out: Path) -> dict:
    """The newest entry of the quarter's run history (a run that changed nothing keeps the manifest)."""
    lines = (out / ".runs" / QUARTER / "history.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[-1])


def compare_values(out: Path, expected: dict[str, pd.Series]) -> int:
    """Assert the product's KR values equal DuckDB's; returns how many values were compared."""
    kr = pd.read_csv(out / QUARTER / "kr_values.csv", dtype={"owner_id": str})
    compared = 0
    for kr_id, ref in expected.items():
        got = kr[kr["kr_id"] == kr_id].set_index("owner_id")["actual"]
        ref = ref[ref.index.isin(got.index)]
        assert len(ref) > 0, kr_id
        diff = (got.reindex(ref.index) - ref).abs() / ref.abs().clip(lower=1e-12)
        bad = diff[diff > 1e-9]
        assert bad.empty, f"{kr_id}: product and DuckDB differ for {list(bad.index[:5])}"
        compared += len(ref)
    return compared


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default=os.environ.get("SIZE", "2k"))
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--sample", type=int, default=200, help="scorecards in the render comparisons")
    ap.add_argument("--cold-only", action="store_true",
                    help="one cold run: time, stages and peak memory (for sizes where the full comparison is long)")
    args = ap.parse_args()
    ws = generate(args.size)
    work = Path(tempfile.mkdtemp(prefix="okr-bench-"))
    out = work / "out"
    common = ["run", "--workspace", str(ws), "--quarter", QUARTER, "--out", str(out),
              "--processes", str(args.processes)]
    print(f"bench-{args.size}: {ws}", flush=True)

    cold = run_cli(common)
    m_cold = manifest(out)
    print(f"  cold run {cold['wall']:.1f} s", flush=True)
    if args.cold_only:
        record(args.size, cold_only_table(args.size, cold, m_cold))
        shutil.rmtree(work, ignore_errors=True)
        return
    warm = run_cli(common)
    m_warm = last_run(out)
    print(f"  warm run {warm['wall']:.1f} s", flush=True)
    team = sorted({c["owner_id"] for c in m_cold["cards"] if c["tier"] == "team"})[0]
    one = run_cli([*common, "--team", team])
    m_team = last_run(out)
    print(f"  one-team run {one['wall']:.1f} s", flush=True)

    plain_extract, _ = reference.read_plain(ws)
    raw = reference.read_text(ws)
    duck_seconds, duck_values = reference.duckdb_krs(raw)
    compared = compare_values(out, duck_values)
    from flows.config_io import load_workspace

    duck_all, duck_problems = reference.duckdb_same_work(raw, load_workspace(ws)[0])
    assert not any(duck_problems.values()), duck_problems  # the bench exports are clean, as the product says
    del raw

    folder = (out / QUARTER).resolve()
    html = sorted(folder.glob("people/*.html"))[: args.sample]
    plain_render = reference.plain_weasyprint(html, work / "plain", args.processes)
    from flows.render import render_pdfs

    jobs = [(f.read_text(encoding="utf-8"), str(work / "ours" / f"{i}.pdf")) for i, f in enumerate(html)]
    (work / "ours").mkdir()
    t = time.perf_counter()
    render_pdfs(jobs, processes=args.processes)
    ours_render = time.perf_counter() - t
    t = time.perf_counter()
    render_pdfs(jobs, processes=1)
    ours_render_1 = time.perf_counter() - t

    s = {**m_cold["seconds"], **cold["stages"]}
    stages = sum(s.get(k, 0.0) for k in STAGES)
    rows = [
        ("extract", f"{s['extract']:.1f} s", f"{plain_extract:.1f} s (pandas pyarrow / calamine)",
         s["extract"] / plain_extract, TARGETS["extract"], "ratio"),
        ("transform", f"{s['transform']:.1f} s", f"{duck_seconds:.1f} s (DuckDB SQL, {len(duck_values)} KRs, "
         f"{compared} values equal)", s["transform"] / duck_seconds, TARGETS["transform"], "ratio"),
        ("transform, like for like", f"{s['transform']:.1f} s", f"{duck_all:.1f} s (DuckDB: every CSV column "
         "cast and checked, KRs for the quarter and its months)", s["transform"] / duck_all, None, "ratio"),
        ("render", f"{ours_render:.1f} s ({len(jobs)} cards)", f"{plain_render:.1f} s (plain WeasyPrint, "
         f"{args.processes} processes)", ours_render / plain_render, TARGETS["render"], "ratio"),
        ("render 1 -> 2 processes", f"{ours_render_1:.1f} s -> {ours_render:.1f} s", "",
         ours_render_1 / ours_render, TARGETS["speedup"], "min"),
        ("warm re-run / cold", f"{warm['wall']:.1f} s / {cold['wall']:.1f} s",
         f"reused {m_warm['reused']} of {m_warm['reused'] + m_warm['rendered']}",
         warm["wall"] / cold["wall"], TARGETS["warm"], "ratio"),
        ("one-team re-run / cold", f"{one['wall']:.1f} s / {cold['wall']:.1f} s",
         f"team {team}: rendered {m_team['rendered']}", one["wall"] / cold["wall"], TARGETS["team"], "ratio"),
        ("email dry run (deliver)", f"{s.get('deliver', 0.0):.1f} s", f"{m_cold['counts']['person']} people",
         s.get("deliver", 0.0) / cold["wall"], None, "ratio"),
        ("orchestration share", f"{cold['wall'] - stages:.1f} s of {cold['wall']:.1f} s", "",
         (cold["wall"] - stages) / cold["wall"], TARGETS["orchestration"], "ratio"),
        ("peak memory (RSS)", f"{cold['peak_rss'] / 2**30:.2f} GiB", "", cold["peak_rss"] / 2**30,
         4.0 if args.size != "20k" else 16.0, "ratio"),
    ]
    lines = header(args.size, m_cold, s)
    for name, ours, ref, value, target, kind in rows:
        lines.append(row(name, ours, ref, value, target, kind))
    record(args.size, lines)
    shutil.rmtree(work, ignore_errors=True)


STAGES = ("extract", "transform", "render", "write", "deliver")


def header(size: str, m: dict, s: dict) -> list[str]:
    return [
        f"## bench-{size} ({m['counts']['person']} people, {m['counts']['team']} teams, "
        f"{sum(i['rows'] for i in m['inputs']):,} input rows)",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"cold run stages: " + ", ".join(f"{k} {s[k]:.1f} s" for k in STAGES if k in s),
        "",
        "| measure | okr-report | reference | value | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]


def row(name: str, ours: str, ref: str, value: float, target: float | None, kind: str) -> str:
    met = "" if target is None else ("yes" if (value >= target if kind == "min" else value <= target) else "NO")
    percent = "share" in name or "re-run" in name or "deliver" in name
    unit = "x" if kind in ("ratio", "min") and "memory" not in name else ""
    shown = f"{value:.1%}" if percent else f"{value:.2f}{unit}"
    if target is None:
        tgt = ""
    elif kind == "min":
        tgt = f">= {target}x"
    else:
        tgt = f"<= {target:.0%}" if target < 1 and "memory" not in name else f"<= {target}"
    return f"| {name} | {ours} | {ref} | {shown} | {tgt} | {met} |"


def cold_only_table(size: str, cold: dict, m: dict) -> list[str]:
    s = {**m["seconds"], **cold["stages"]}
    stages = sum(s.get(k, 0.0) for k in STAGES)
    limit = 16.0 if size == "20k" else 4.0
    return header(size, m, s) + [
        f"| cold run | {cold['wall']:.1f} s | {m['rendered']} scorecards rendered |  |  |  |",
        row("orchestration share", f"{cold['wall'] - stages:.1f} s of {cold['wall']:.1f} s", "",
            (cold["wall"] - stages) / cold["wall"], TARGETS["orchestration"], "ratio"),
        row("peak memory (RSS)", f"{cold['peak_rss'] / 2**30:.2f} GiB", "", cold["peak_rss"] / 2**30, limit, "ratio"),
    ]


def record(size: str, lines: list[str]) -> None:
    """Print the table and put it in RESULTS.md in place of the size's previous table."""
    table = "\n".join(lines)
    print(table)
    results = HERE / "RESULTS.md"
    previous = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    marker = f"## bench-{size} "
    kept = [b for b in previous.split("\n## ") if not ("## " + b).startswith(marker) and b.strip()]
    head = kept[0] if kept and kept[0].startswith("# ") else "# Benchmark results"
    body = ["## " + b.strip() for b in kept[1:]] if kept and kept[0].startswith("# ") else []
    results.write_text("\n\n".join([head.strip(), *body, table]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
