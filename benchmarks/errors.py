"""The exception type raised by the `benchmarks` package, and the exit statuses of its programs."""

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130  # done, bad input, a case diverged, stopped


class BenchmarkError(ValueError):
    """A benchmark run that cannot proceed (bad argument, unknown key, unreadable record); the message says where."""
