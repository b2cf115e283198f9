"""Render time per scorecard: this tree against an earlier revision of the product, in the same run.

    python benchmarks/cards.py --size 2k --against 7be6fb3 --sample 120 --rounds 2

Both versions compute the bench workspace's quarter through their own library and render the same
people's scorecards (HTML and PDF, in one process, fonts warmed up first); only the rendering is timed.
Rounds alternate between the two versions, so a machine that slows down mid-run slows both. The ratio
is what matters on a shared machine: the absolute figures move with its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402

QUARTER = "FY2017-18-Q4"

# Runs inside the tree being measured (its own flows/ and transforms/ on sys.path).
PROBE = r"""
import inspect, json, sys, time
from pathlib import Path
from flows.config_io import load_workspace
from flows.extract import read_all
from flows.render import pdf_bytes, render_html
from transforms.calendar import parse_quarter
from transforms.report import compute_quarter
from transforms.scorecards import build_scorecards
from transforms.validation import stage_workspace

ws, ws_dir = load_workspace(Path(sys.argv[1]))
raw, _ = read_all(dict(ws.sources), ws_dir)
tables, _ = stage_workspace(raw, ws)
quarter = parse_quarter(sys.argv[2], ws.fiscal_year_start_month)
extra = [getattr(ws, "history_quarters", 0)] if "history_depth" in inspect.signature(compute_quarter).parameters else []
res = compute_quarter(ws, tables, quarter, None, ws.locale, *extra)
cards = [c for c in build_scorecards(res, ws, tables, ws.locale, "bench", "bench") if c["tier"] == "person"]
cards = sorted(cards, key=lambda c: c["owner_id"])[: int(sys.argv[3])]
pdf_bytes(render_html(cards[0]))  # fonts and caches warm
started = time.perf_counter()
pdfs = [pdf_bytes(render_html(card)) for card in cards]
seconds = time.perf_counter() - started
import subprocess, tempfile
pages = 0
with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
    for pdf in pdfs:
        fh.seek(0); fh.truncate(); fh.write(pdf); fh.flush()
        info = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True, check=True).stdout
        pages += int(info.split("Pages:")[1].split()[0])
print(json.dumps({"seconds": seconds, "cards": len(cards), "pages": pages}))
"""


def measure(tree: Path, workspace: Path, sample: int) -> dict:
    """One round in one tree: seconds to render ``sample`` people's scorecards."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(workspace), QUARTER, str(sample)], cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="2k")
    ap.add_argument("--against", required=True, help="git revision to compare with")
    ap.add_argument("--sample", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    workspace = generate(args.size)
    with tempfile.TemporaryDirectory(prefix="okr-ref-") as tmp:
        ref = Path(tmp) / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref), args.against], check=True,
                       capture_output=True)
        try:
            runs: dict[str, list[dict]] = {"reference": [], "this tree": []}
            for i in range(args.rounds):
                for name, tree in (("reference", ref), ("this tree", ROOT)):
                    runs[name].append(measure(tree, workspace, args.sample))
                    r = runs[name][-1]
                    print(f"  round {i + 1} {name}: {r['seconds']:.1f} s for {r['cards']} cards, {r['pages']} pages",
                          flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref)], check=False)
    per_card = {k: statistics.median(r["seconds"] / r["cards"] for r in v) for k, v in runs.items()}
    pages = {k: v[0]["pages"] / v[0]["cards"] for k, v in runs.items()}
    print(f"bench-{args.size}, {args.sample} people's scorecards, median of {args.rounds} rounds:")
    for k in runs:
        print(f"  {k:10s} {per_card[k] * 1000:7.0f} ms per card, {pages[k]:.1f} pages per card")
    per_page = {k: per_card[k] / pages[k] for k in runs}
    print(f"  ratio {per_card['this tree'] / per_card['reference']:.2f}x "
          f"({per_page['this tree'] / per_page['reference']:.2f}x per page)")


if __name__ == "__main__":
    main()
