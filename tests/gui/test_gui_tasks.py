"""The Task runner hands back what a job returns and the exception that ended it (superqt's returned/errored),
so no caller reads "the last progress event" or parses an error string."""

from __future__ import annotations

import pytest

from photosearch.gui.tasks.workers import Task, TaskRunner, error_text
from photosearch.library.search import QueryError

pytestmark = pytest.mark.gui


def test_a_generator_job_reports_its_events_and_returns_its_report(qtbot):
    runner = TaskRunner(1)

    def job(_task):
        for i in range(3):
            yield f"step {i}"
        return {"indexed": 3}

    task = Task(job, "gen")
    events = []
    task.progress.connect(events.append)
    with qtbot.waitSignal(task.returned, timeout=10_000) as done:
        runner.submit(task)
    assert events == ["step 0", "step 1", "step 2"] and done.args == [{"indexed": 3}]
    assert runner.shutdown(5_000)


def test_a_failing_job_hands_back_the_exception_itself(qtbot):
    runner = TaskRunner(1)
    wrong = QueryError("'2*' needs a word after it")

    def job(_task):
        yield "started"
        raise wrong

    task = Task(job, "fails")
    lines, returned = [], []
    task.failed.connect(lines.append)
    task.returned.connect(returned.append)
    with qtbot.waitSignal(task.errored, timeout=10_000) as err:
        runner.submit(task)
    assert err.args[0] is wrong and returned == []
    qtbot.waitUntil(lambda: lines == [error_text(wrong)], timeout=10_000)
    assert runner.shutdown(5_000)
