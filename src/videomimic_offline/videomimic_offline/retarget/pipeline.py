"""One clip end to end: human motion (+ terrain) -> solved G1 motion + feasibility report."""

from __future__ import annotations

import time
from dataclasses import dataclass

from videomimic_offline.contracts.feasibility import Feasibility
from videomimic_offline.contracts.human_motion import HumanMotion, validate
from videomimic_offline.contracts.robot_motion import RobotMotion, from_qpos
from videomimic_offline.retarget.config import RetargetConfig, Weights
from videomimic_offline.retarget.feasibility import assess
from videomimic_offline.retarget.refine import refine_clip
from videomimic_offline.retarget.solver import G1Retargeter
from videomimic_offline.retarget.targets import ClipTargets, build_targets
from videomimic_offline.retarget.terrain import Terrain, flat

_SOLVERS: dict[tuple, G1Retargeter] = {}

#: What a re-run with the whole-clip refinement is suggested for (its terms act on these).
REFINE_HELPS = ("penetration", "foot slide", "velocity", "self-collision")


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
        return len(self.motion.joint_pos) / max(self.solve_s, 1e-9)

    @property
    def frames_per_cpu_s(self) -> float:
        return len(self.motion.joint_pos) / max(self.solve_cpu_s, 1e-9)


def retarget(
    human: HumanMotion, terrain: Terrain | None = None, cfg: RetargetConfig | None = None, *, progress=None,
    report: bool = True, advise: bool = False,
) -> RetargetResult:  # fmt: skip
    """Retarget ``human`` onto the G1 over ``terrain`` (flat floor when None) with settings ``cfg``.

    ``advise``: when the verdict is "not usable" and ``cfg.refine`` is off, also try the whole-clip
    refinement from the per-frame answer and say in ``report.advice`` whether it would fix the clip.
    """
    terrain = terrain or flat()
    cfg = cfg or RetargetConfig()
    validate(human)
    solver = _solver(cfg.weights, cfg.iterations, cfg.variant)
    tg = build_targets(human, terrain, solver.sole[:, :2], cfg.contacts, cfg.stance if cfg.stance.enabled else None)
    t0, c0 = time.perf_counter(), time.process_time()
    Q = solver.solve_clip(tg, terrain, progress=progress)
    fallback = 0
    if cfg.refine:
        Q, fallback = refine_clip(solver, Q, tg, terrain, iters=cfg.refine_iterations, weights=cfg.refine_weights)
    solve_s, solve_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    motion = from_qpos(Q, tg.fps, tg.contacts)
    rep = assess(motion, terrain, tg.human, tg.scale) if report else None
    if rep is not None and advise and not rep.usable and not cfg.refine:
        rep.advice = _refine_advice(rep, solver, Q, tg, terrain, cfg)
    return RetargetResult(motion, tg, rep, solve_s, solve_cpu_s, fallback)


def _refine_advice(rep: Feasibility, solver, Q, tg: ClipTargets, terrain: Terrain, cfg: RetargetConfig) -> list[str]:
    """Whether the whole-clip refinement (from this per-frame answer) fixes what made the clip unusable."""
    if not any(key in reason for reason in rep.reasons for key in REFINE_HELPS):
        return []
    Qr, _ = refine_clip(solver, Q, tg, terrain, iters=cfg.refine_iterations, weights=cfg.refine_weights)
    refined = assess(from_qpos(Qr, tg.fps, tg.contacts), terrain, tg.human, tg.scale)
    if refined.usable:
        return ["the whole-clip refinement makes this clip usable: re-run with --refine"]
    return [f"--refine does not fix it either ({'; '.join(refined.reasons)})"]
