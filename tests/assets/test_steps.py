"""Progress lines of long steps: counts, rate and ETA, throttled, reused work excluded
from the rate."""

import pandas as pd

from scigen_dagster.assets.steps import PartitionOutcome, Progress


class Log:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(text)


def outcome(key, n, reused, seconds):
    return PartitionOutcome(key, pd.DataFrame({"x": range(n)}), reused, "sha", seconds)


def test_progress_reports_counts_rate_and_eta_and_throttles():
    now = [0.0]
    log = Log()
    p = Progress(log, "images/m", {"a": 10, "b": 10, "c": 20, "d": 60}, every=10.0, clock=lambda: now[0])
    p.update(outcome("a", 10, True, 0.01))  # reused: done, but not part of the rate
    assert log.lines == []  # throttled: less than 10 s since the start
    now[0] = 12.0
    p.update(outcome("b", 10, False, 5.0))  # 2 items/s
    assert log.lines[-1] == ("images/m: 2/4 partitions, 20/100 items (20%), 2.0 items/s, "
                             "ETA 40 s, 1 partition reused")
    now[0] = 13.0
    p.update(outcome("c", 20, False, 5.0))  # 30 items in 10 s: 3 items/s
    assert len(log.lines) == 1
    now[0] = 200.0
    p.update(outcome("d", 60, False, 30.0))  # the last one is always logged
    assert log.lines[-1] == ("images/m: 4/4 partitions, 100/100 items (100%), 2.2 items/s, done, "
                             "1 partition reused")


def test_eta_unknown_until_something_is_computed_and_long_durations_read_well():
    now = [0.0]
    log = Log()
    p = Progress(log, "judge_scores/m", {"a": 1, "b": 5000}, every=0.0, clock=lambda: now[0])
    p.update(outcome("a", 1, True, 0.0))
    assert log.lines[-1].endswith("ETA unknown (nothing computed yet), 1 partition reused")
    p2 = Progress(log, "iv", {"a": 10, "b": 40000}, every=0.0, clock=lambda: now[0])
    p2.update(outcome("a", 10, False, 10.0))  # 1 item/s, 40000 left
    assert "ETA 11 h 06 min" in log.lines[-1]
