"""Shared inputs for the retargeting tests: a staircase scene and clips with known answers."""

from __future__ import annotations

import pytest
from videomimic_offline.retarget import terrain as tr

#: Footholds of the procedural walker on that staircase: floor, four treads, landing.
STAIR_HOLDS = [0.0, 0.3, 1.175, 1.525, 1.875, 2.225, 2.7, 2.7]


@pytest.fixture(scope="session")
def stair_holds() -> list[float]:
    return list(STAIR_HOLDS)


@pytest.fixture(scope="session")
def stairs() -> tr.Terrain:
    h, o, res = tr.staircase()
    return tr.from_heights(h, o, res, source="staircase")
