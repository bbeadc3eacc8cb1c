"""One clip end to end: human motion (+ terrain) -> solved G1 motion + feasibility report."""

from __future__ import annotations

import time
from dataclasses import dataclass

from videomimic_offline.motion_io.human_motion import HumanMotion, validate
from videomimic_offline.retarget.feasibility import Feasibility, assess
from videomimic_offline.retarget.output import RobotMotion, from_qpos
from videomimic_offline.retarget.refine import refine_clip
from videomimic_offline.retarget.solver import G1Retargeter, Weights
from videomimic_offline.retarget.targets import ClipTargets, build_targets
from videomimic_offline.retarget.terrain import Terrain, flat

_SOLVERS: dict[tuple, G1Retargeter] = {}


def _solver(weights: Weights, iters: int, variant: str) -> G1Retargeter:
    key = (weights, iters, variant)
    if key not in _SOLVERS:
        _SOLVERS[key] = G1Retargeter(weights, iters, variant)
    return _SOLVERS[key]


@dataclass
class RetargetResult:
    """Everything the tool writes, plus the solve time (for the benchmark)."""

    motion: RobotMotion
    targets: ClipTargets
    report: Feasibility | None
    solve_s: float  # wall time of the solve
    solve_cpu_s: float = float("nan")  # CPU time of the solve (one thread): the one-core cost
    refine_fallback_frames: int = 0  # frames the whole-clip refinement handed back to the per-frame answer

    @property
    def frames_per_s(self) -> float:
        return len(self.motion.qpos) / max(self.solve_s, 1e-9)

    @property
    def frames_per_cpu_s(self) -> float:
        return len(self.motion.qpos) / max(self.solve_cpu_s, 1e-9)


def retarget(
    human: HumanMotion, terrain: Terrain | None = None, *, weights: Weights | None = None, iters: int = 2,
    progress=None, report: bool = True, variant: str = "29dof", refine: bool = False, refine_iters: int = 3,
) -> RetargetResult:  # fmt: skip
    """Retarget ``human`` onto the G1 over ``terrain`` (flat floor when None).

    ``variant='23dof'`` holds the six wrist joints at 0, as the VideoMimic policy's robot has them.
    ``refine`` adds the whole-clip Gauss-Newton stage (:mod:`.refine`) after the per-frame pass:
    about half the joint acceleration for a few mm more keypoint error and ~3x the solve time, so
    it is opt-in (see bench/retarget.py).
    """
    terrain = terrain or flat()
    weights = weights or Weights()
    validate(human)
    solver = _solver(weights, iters, variant)
    tg = build_targets(human, terrain, solver.sole[:, :2])
    t0, c0 = time.perf_counter(), time.process_time()
    Q = solver.solve_clip(tg, terrain, progress=progress)
    fallback = 0
    if refine:
        Q, fallback = refine_clip(solver, Q, tg, terrain, iters=refine_iters)
    solve_s, solve_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    motion = from_qpos(Q, tg.fps, tg.contacts)
    rep = assess(motion, terrain, tg.human, tg.scale) if report else None
    return RetargetResult(motion, tg, rep, solve_s, solve_cpu_s, fallback)
