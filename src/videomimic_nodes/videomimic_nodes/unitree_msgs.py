"""The G1's own messages (unitree_hg LowState, LowCmd) as byte layouts, built once per process.

The nodes that handle them at the robot's 500 Hz (g1_bridge, sim_g1, state_estimator) subscribe
with ``raw=True`` and read or write fields through these (core/cdr.py says why).
"""

from __future__ import annotations

from unitree_hg.msg import LowCmd, LowState

from videomimic_nodes.core.cdr import FixedCdr

LOWSTATE = FixedCdr.of(LowState)
LOWCMD = FixedCdr.of(LowCmd)
