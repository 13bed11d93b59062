"""`make demo` as a first-time visitor runs it: it finishes with a verified record and exits 0,
and Ctrl-C at any moment stops it leaving no process behind."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, str(ROOT / "tools" / "run_script.py"), "demo", "--free-port"]


def test_the_demo_rewards_redeems_and_verifies_one_record() -> None:
    result = subprocess.run(DEMO, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"webhooks: 631 deliveries: 600 202, 31 repeated delivery", out)
    rewarded = int(re.search(r"chain:    (\d+) rewards in \d+ batches", out).group(1))
    assert rewarded > 300
    assert re.search(r"\d+ redemptions fulfilled", out)
    assert "its on-chain commitment opens to the stored content (match)" in out


def test_ctrl_c_leaves_no_process_behind() -> None:
    demo = subprocess.Popen(DEMO, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(8)  # deployed, and the webhooks are being replayed
    children = psutil.Process(demo.pid).children(recursive=True)
    assert children, "the demo should have launched a chain"
    demo.send_signal(signal.SIGINT)
    assert demo.wait(timeout=60) == 130
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
