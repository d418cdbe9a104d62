"""A clock the unit tests advance by hand: a stage's waits and timeouts run without sleeping.

Used by tests/unit/cluster/test_cluster_init.py and test_adopt.py as the stages'
``clock`` (called for the time) and ``sleep`` (which only moves it on).
"""


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds
