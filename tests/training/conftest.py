"""Tiny offline training data, shared by the training tests (one copy per test module)."""

from __future__ import annotations

import pytest
from videomimic_offline.training.sample_data import make_sample_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_sample_data(tmp_path_factory.mktemp("train_data"))
