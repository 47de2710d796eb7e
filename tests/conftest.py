import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture
def one_thread():
    """Torch and BLAS on one thread: training results that do not depend on the core count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)
