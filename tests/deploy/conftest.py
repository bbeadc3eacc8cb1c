"""Deploy fixtures: a random-weights exported student (until training ships a pretrained one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from students import make_student


@pytest.fixture(scope="session")
def student_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_student(tmp_path_factory.mktemp("student"))
