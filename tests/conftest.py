"""Shared fixtures: seeding, and helpers used across the test tree."""
import numpy as np
import pytest

import npconv as nc


@pytest.fixture(autouse=True)
def _seed():
    nc.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
