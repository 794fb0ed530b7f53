"""The exception type raised by the `benchmarks` package."""


class BenchmarkError(ValueError):
    """A benchmark run that cannot proceed (bad argument, unknown key, unreadable record); the message says where."""
