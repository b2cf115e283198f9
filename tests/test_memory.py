"""The exports and staged tables are freed once the flow is done with them.

Prefect keeps every task's parameters and result until the flow run ends; the pipeline passes the big
frames in a ``Handoff`` box that the flow empties, so a 20,000-person quarter does not hold gigabytes of
exports through its long rendering phase. This runs the real tasks in a real flow on the Maven workspace.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

from tests.conftest import MAVEN, ROOT


def extract_and_stage(workspace: str) -> dict[str, bool]:
    """Run in a process of its own (a flow run in the test process would start Prefect's server there)."""
    from prefect import flow

    from flows.config_io import load_workspace
    from flows.pipeline import extract_exports, stage_exports

    @flow(persist_result=False)
    def run() -> dict[str, bool]:
        return _checks(workspace, load_workspace, extract_exports, stage_exports)

    return run()


def _checks(workspace, load_workspace, extract_exports, stage_exports) -> dict[str, bool]:
    ws, ws_dir = load_workspace(Path(workspace))
    from flows.prepare import hash_inputs

    raw, _, problems = extract_exports(ws, ws_dir, hash_inputs(ws, ws_dir))
    assert not problems
    raw_deals = weakref.ref(raw.value["deals"])
    tables, _ = stage_exports(raw, ws, ws_dir)
    staged_deals = weakref.ref(tables.value["deals"])
    gc.collect()
    raw_freed = raw_deals() is None
    in_use = staged_deals() is not None
    tables.take()
    gc.collect()
    return {"raw freed after staging": raw_freed, "tables held while in use": in_use,
            "tables freed after take": staged_deals() is None}


def test_exports_and_tables_are_not_held_for_the_whole_flow_run():
    code = ("import json, sys; from flows.settings import apply_defaults; apply_defaults(); "
            "from tests.test_memory import extract_and_stage; print(json.dumps(extract_and_stage(sys.argv[1])))")
    done = subprocess.run([sys.executable, "-c", code, str(MAVEN)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "raw freed after staging": True, "tables held while in use": True, "tables freed after take": True}
