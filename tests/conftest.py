import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits


@pytest.fixture
def one_thread():
    """Torch and BLAS on one thread: training results that do not depend on the core count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def digit_classes():
    """``digit_classes(0, 4, 7)``: those 8x8 digits, pixels in [0, 1] as float32, and labels."""
    data = load_digits()

    def select(*classes: int):
        keep = np.isin(data.target, classes)
        return (data.data[keep] / 16).astype(np.float32), data.target[keep]

    return select
