"""Every baseline-arm test runs on one thread: the test machine is shared."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """The test machine is shared: every case runs on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
