"""The fault-injection script (benchmarks/fault_injection.py) on a few trials: `embed`, `merge --concat`,
`relative` and `predict` killed by SIGKILL, SIGINT or SIGTERM, rerun, bit-identical, nothing left over;
`predict --encoder` failing after embedding leaves no work file, and the fixed rerun works."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.mark.slow
def test_killed_commands_rerun_to_identical_outputs_and_leave_nothing(tmp_path):
    from fault_injection import run_trials

    lines = []
    failures = run_trials(tmp_path, trials=4, seed=3, rows=600, log=lines.append)
    assert not failures, "\n".join(lines)
    assert len(lines) == 4


@pytest.mark.slow
def test_predict_failing_after_embedding_leaves_no_work_file_and_the_fixed_rerun_works(tmp_path):
    from fault_injection import late_failures

    lines = []
    failures = late_failures(tmp_path, log=lines.append)
    assert not failures, "\n".join(lines)
    assert len(lines) == 3
