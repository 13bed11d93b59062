"""The background step loop (oracle/runner.py): a step that left work behind is followed at once,
an idle one waits the interval, a failing one backs off; and what counts as the pipeline's
progress."""

from __future__ import annotations

import threading

from oracle.pipeline import StepReport, made_progress
from oracle.runner import StepRunner


class Steps:
    """A step that reports `busy_steps` busy results, then idle ones; records each call."""

    def __init__(self, busy_steps: int, fail_first: bool = False) -> None:
        self.calls = 0
        self.busy_steps = busy_steps
        self.fail_first = fail_first
        self.idle = threading.Event()

    def __call__(self) -> bool:
        self.calls += 1
        if self.fail_first and self.calls == 1:
            raise RuntimeError("node down")
        busy = self.calls <= self.busy_steps
        if not busy:
            self.idle.set()
        return busy


def test_busy_steps_follow_each_other_without_the_interval() -> None:
    steps = Steps(busy_steps=5)
    runner = StepRunner(steps, interval=30, name="test", busy=bool)
    runner.start()
    try:
        # Five busy steps and the first idle one, well before one 30 s interval could pass.
        assert steps.idle.wait(5)
        assert steps.calls == 6
    finally:
        runner.stop(timeout=5)


def test_an_idle_step_waits_the_interval() -> None:
    steps = Steps(busy_steps=0)
    runner = StepRunner(steps, interval=30, name="test", busy=bool)
    runner.start()
    try:
        assert steps.idle.wait(5)
        threading.Event().wait(0.3)
        assert steps.calls == 1
    finally:
        runner.stop(timeout=5)


def test_a_failed_step_pauses_even_when_busy_would_say_otherwise() -> None:
    steps = Steps(busy_steps=10, fail_first=True)
    runner = StepRunner(steps, interval=30, name="test", busy=lambda _result: True)
    runner.start()
    try:
        threading.Event().wait(0.5)
        assert steps.calls == 1  # the failure's back-off (60 s here), not an immediate retry
        assert runner.last_error == "RuntimeError: node down"
    finally:
        runner.stop(timeout=5)


def test_the_pipeline_made_progress_only_when_it_moved_events() -> None:
    assert not made_progress(StepReport())
    assert not made_progress(StepReport(tracked=[object()]))  # type: ignore[list-item]
    assert not made_progress(None)
    for field in ("decided", "batches_opened", "signed", "submitted"):
        assert made_progress(StepReport(**{field: 1}))
