"""Trainer tests run single-threaded: the machine is shared and the models are tiny."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)
