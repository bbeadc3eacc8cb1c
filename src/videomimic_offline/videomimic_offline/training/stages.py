"""The four training stages as one resumable function: MPT, teacher, DAgger distillation, finetune.

Each stage writes ``<out>/<stage>/``: ``model_<it>.pt`` checkpoints (written atomically, carrying
a compatibility record), tensorboard event files, and ``stage.json``. Re-running a stage resumes
from its newest checkpoint and trains until the requested iteration count; a stage starts from the
previous stage's last checkpoint (``--init``). Checkpoints record the joint order and observation
sizes: loading one made for another layout fails with one clear line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomimic_offline.artifacts import write_json
from videomimic_offline.errors import IncompatibleError, InputError, NumericalError
from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import g1

CKPT_FORMAT = 1
META_KEY = "videomimic"
PREVIOUS = {"teacher": "mpt", "distill": "teacher", "finetune": "distill"}


@dataclass
class StageConfig:
    """One stage run; defaults are the full-scale GPU settings of the original system."""

    stage: str
    out_dir: Path
    motions: list[Path] = field(default_factory=list)
    init: Path | None = None  # checkpoint of the previous stage (file or stage folder)
    iterations: int = 10000
    num_envs: int = 4096
    steps_per_env: int = 24
    save_interval: int = 100
    device: str = "cpu"
    procedural: tuple[str, ...] = ("flat", "rough", "stairs")
    patch_size: float = 8.0
    blind: bool = False
    learning_rate: float | None = None
    hidden: tuple[int, ...] | None = None
    seed: int = 0
    max_minutes: float | None = None  # stop (with a checkpoint) after this wall time: resumable chunks

    @property
    def stage_dir(self) -> Path:
        return Path(self.out_dir) / self.stage


STUDENT_MODEL = "videomimic_offline.training.models:GatedHeightmapModel"


def _heightmap_dim(cfg: StageConfig) -> int:
    """Heightmap inputs at the end of the student observation (0 for the blind student)."""
    return 0 if cfg.blind else StudentLayout().dim - StudentLayout(heightmap=False).dim


LR = {"mpt": 1e-3, "teacher": 2e-5, "distill": 1e-3, "finetune": 3e-5}
TEACHER_NET = (512, 256, 128)
STUDENT_NET = (1024, 512, 256, 128)


def checkpoints(folder: Path) -> list[Path]:
    """``model_<it>.pt`` files of a stage folder, oldest first."""
    found = []
    for p in Path(folder).glob("model_*.pt"):
        m = re.fullmatch(r"model_(\d+)\.pt", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint file, or the newest one in a stage folder."""
    path = Path(path)
    if path.is_dir():
        found = checkpoints(path)
        if not found:
            raise InputError(f"no checkpoint (model_*.pt) in {path}: train that stage first")
        return found[-1]
    if not path.is_file():
        raise InputError(f"checkpoint {path} not found: pass a model_*.pt file or its stage folder")
    return path


def read_checkpoint(path: Path) -> dict[str, Any]:
    import torch

    try:
        d = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise InputError(
            f"{path} is not a readable checkpoint ({exc.__class__.__name__}); delete it and retrain"
        ) from exc
    if not isinstance(d, dict) or not isinstance((d.get("infos") or {}).get(META_KEY), dict):
        raise IncompatibleError(f"{path} is not a videomimic training checkpoint (no '{META_KEY}' record)")
    return d


def check_compatible(meta: dict[str, Any], ours: dict[str, Any], source: Path, groups: tuple[str, ...]) -> None:
    """Refuse a checkpoint whose joint order or observation layout differs from this build's."""
    if meta.get("format") != CKPT_FORMAT:
        raise IncompatibleError(f"{source}: checkpoint format {meta.get('format')} != {CKPT_FORMAT}; retrain the stage")
    if meta.get("joint_names") != ours["joint_names"]:
        raise IncompatibleError(
            f"{source}: joint order differs from the G1 constants ({meta.get('joint_names')}); this checkpoint was "
            "trained for another robot or joint order and cannot be loaded: retrain from the first stage"
        )
    for g in groups:
        a, b = meta.get("obs_dims", {}).get(g), ours["obs_dims"].get(g)
        if a != b:
            raise IncompatibleError(
                f"{source}: observation group '{g}' has {a} values in the checkpoint but {b} here (observation "
                "layout changed, or blind vs heightmap student); retrain the stage or pass the matching --blind"
            )
    if "student" in groups and meta.get("student_layout") != ours["student_layout"]:
        raise IncompatibleError(
            f"{source}: student observation layout {meta.get('student_layout')} differs from "
            f"{ours['student_layout']}; retrain the student"
        )


def _train_cfg(cfg: StageConfig, hidden: tuple[int, ...], teacher_hidden: tuple[int, ...]) -> dict[str, Any]:
    lr = cfg.learning_rate if cfg.learning_rate is not None else LR[cfg.stage]
    gauss = {"class_name": "GaussianDistribution", "init_std": 0.8, "std_type": "scalar"}
    common = {
        "seed": cfg.seed,
        "num_steps_per_env": cfg.steps_per_env,
        "max_iterations": cfg.iterations,
        "save_interval": cfg.save_interval,
        "experiment_name": cfg.stage,
        "run_name": "",
        "logger": "tensorboard",
        "upload_model": False,
        "check_for_nan": True,
        "clip_actions": g1.ACTION_CLIP,
        "resume": False,
    }
    if cfg.stage == "distill":
        return {
            **common,
            "class_name": "DistillationRunner",
            "obs_groups": {"student": ["student"], "teacher": ["actor"]},
            "student": {
                "class_name": STUDENT_MODEL,
                "heightmap_dim": _heightmap_dim(cfg),
                "hidden_dims": list(hidden),
                "activation": "elu",
                "obs_normalization": True,
                "distribution_cfg": dict(gauss),
            },
            "teacher": {
                "class_name": "MLPModel",
                "hidden_dims": list(teacher_hidden),
                "activation": "elu",
                "obs_normalization": True,
                "distribution_cfg": dict(gauss),
            },
            "algorithm": {
                "class_name": "videomimic_offline.training.algorithms:MeanStdDistillation",
                "num_learning_epochs": 1,
                "gradient_length": min(15, cfg.steps_per_env),
                "learning_rate": lr,
                "max_grad_norm": 1.0,
                "loss_type": "mse",
            },
        }
    actor_group = "student" if cfg.stage == "finetune" else "actor"
    return {
        **common,
        "class_name": "OnPolicyRunner",
        "obs_groups": {"actor": [actor_group], "critic": ["critic"]},
        "actor": {
            **(
                {"class_name": STUDENT_MODEL, "heightmap_dim": _heightmap_dim(cfg)}
                if cfg.stage == "finetune"
                else {"class_name": "MLPModel"}
            ),
            "hidden_dims": list(hidden),
            "activation": "elu",
            "obs_normalization": True,
            "distribution_cfg": dict(gauss),
        },
        "critic": {
            "class_name": "MLPModel",
            "hidden_dims": list(TEACHER_NET),
            "activation": "elu",
            "obs_normalization": True,
        },
        "algorithm": {
            "class_name": "PPO",
            "value_loss_coef": 1.0,
            "use_clipped_value_loss": True,
            "clip_param": 0.2,
            "entropy_coef": 0.0025,
            "num_learning_epochs": 5,
            "num_mini_batches": 4,
            "learning_rate": lr,
            "schedule": "adaptive",
            "gamma": 0.99,
            "lam": 0.95,
            "desired_kl": 0.02,
            "max_grad_norm": 1.0,
            "rnd_cfg": None,
            "symmetry_cfg": None,
        },
    }


def _runner_class(distill: bool):
    import torch
    from rsl_rl.runners import DistillationRunner, OnPolicyRunner

    base = DistillationRunner if distill else OnPolicyRunner

    class VideomimicRunner(base):  # type: ignore[valid-type, misc]
        """rsl_rl runner whose checkpoints are atomic and carry our compatibility record."""

        meta: dict[str, Any] = {}
        extra_state: dict[str, Any] = {}

        def save(self, path: str, infos: dict | None = None) -> None:
            saved = self.alg.save()
            saved.update(self.extra_state)
            saved["iter"] = self.current_learning_iteration
            saved["infos"] = {
                **(infos or {}),
                META_KEY: self.meta,
                "env_state": {"common_step_counter": self.env.unwrapped.common_step_counter},
            }
            tmp = Path(path).with_suffix(".pt.partial")
            torch.save(saved, tmp)
            os.replace(tmp, path)

    return VideomimicRunner


def _ours(env, cfg: StageConfig, hidden: tuple[int, ...]) -> dict[str, Any]:
    obs = env.get_observations()
    return {
        "format": CKPT_FORMAT,
        "stage": cfg.stage,
        "joint_names": list(g1.JOINT_NAMES_23),
        "obs_dims": {k: int(v.shape[-1]) for k, v in obs.items()},
        "student_layout": StudentLayout(heightmap=not cfg.blind).to_dict(),
        "policy_hidden": list(hidden),
        "policy_group": "actor" if cfg.stage in ("mpt", "teacher") else "student",
        "policy_heightmap_gate": 0 if cfg.stage in ("mpt", "teacher") else _heightmap_dim(cfg),
    }


def build_env(cfg: StageConfig, clips, eval_mode: bool = False, num_envs: int | None = None):
    """The mjlab env (wrapped for rsl_rl) of a stage."""
    from mjlab.envs import ManagerBasedRlEnv
    from mjlab.rl import RslRlVecEnvWrapper

    from videomimic_offline.training.env_cfg import TaskSettings, make_env_cfg

    settings = TaskSettings(
        stage=cfg.stage,
        num_envs=num_envs or cfg.num_envs,
        clips=clips,
        procedural=cfg.procedural,
        patch_size=cfg.patch_size,
        blind=cfg.blind,
        randomize=cfg.stage == "mpt" or cfg.stage in ("distill", "finetune"),
        eval_mode=eval_mode,
        seed=cfg.seed,
    )
    env = ManagerBasedRlEnv(cfg=make_env_cfg(settings), device=cfg.device)
    names = env.action_manager.get_term("joint_pos").target_names
    if tuple(names) != g1.JOINT_NAMES_23:
        raise IncompatibleError(f"mjlab action joints {names} differ from the G1 policy joint order")
    return RslRlVecEnvWrapper(env, clip_actions=g1.ACTION_CLIP)


def load_clips(cfg: StageConfig):
    from videomimic_offline.training.motions import find_motions, load_clip

    need_scene = cfg.stage != "mpt"
    paths = find_motions(cfg.motions)
    clips = [load_clip(p, g1.TRACKED_LINKS, need_scene=need_scene) for p in paths]
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise InputError(f"two motions share a clip name ({names}); give each clip its own folder or file name")
    return clips


def train_stage(cfg: StageConfig, progress: bool = True) -> Path:
    """Train (or resume) one stage; returns its newest checkpoint."""
    import torch

    if cfg.stage not in ("mpt", "teacher", "distill", "finetune"):
        raise InputError(f"unknown stage {cfg.stage!r}")
    clips = load_clips(cfg)
    stage_dir = cfg.stage_dir
    existing = checkpoints(stage_dir)
    init = None
    if not existing and cfg.stage in PREVIOUS:
        if cfg.init is None:
            raise InputError(f"stage {cfg.stage} starts from a {PREVIOUS[cfg.stage]} checkpoint: pass --init")
        init = resolve_checkpoint(cfg.init)
    hidden = cfg.hidden or (STUDENT_NET if cfg.stage in ("distill", "finetune") else TEACHER_NET)

    teacher_hidden = TEACHER_NET
    if cfg.stage == "distill":  # the teacher network's shape comes from the teacher checkpoint
        src = read_checkpoint(existing[-1] if existing else init)["infos"][META_KEY]
        key = "teacher_hidden" if src.get("stage") == "distill" else "policy_hidden"
        teacher_hidden = tuple(src.get(key) or TEACHER_NET)

    env = build_env(cfg, clips)
    try:
        ours = {**_ours(env, cfg, hidden), "teacher_hidden": list(teacher_hidden)}
        groups = {
            "mpt": ("actor", "critic"),
            "teacher": ("actor", "critic"),
            "distill": ("actor", "student"),
            "finetune": ("student", "critic"),
        }[cfg.stage]
        stage_dir.mkdir(parents=True, exist_ok=True)
        runner = _runner_class(cfg.stage == "distill")(
            env, _train_cfg(cfg, hidden, teacher_hidden), str(stage_dir), cfg.device
        )
        runner.meta = ours
        start = 0
        if existing:
            ck = read_checkpoint(existing[-1])
            check_compatible(ck["infos"][META_KEY], ours, existing[-1], groups)
            if ck["infos"][META_KEY].get("stage") != cfg.stage:
                raise IncompatibleError(
                    f"{existing[-1]} is a {ck['infos'][META_KEY].get('stage')} checkpoint in the "
                    f"{cfg.stage} folder; remove it or use another --out"
                )
            runner.alg.load(ck, None, True)
            runner.extra_state = {k: ck[k] for k in ("critic_state_dict",) if cfg.stage == "distill" and k in ck}
            start = int(ck["iter"]) + 1
            print(f"resuming {cfg.stage} from {existing[-1].name} (iteration {start} of {cfg.iterations})")
        elif init is not None:
            ck = read_checkpoint(init)
            meta = ck["infos"][META_KEY]
            if meta.get("stage") != PREVIOUS[cfg.stage]:
                raise IncompatibleError(
                    f"{init} is a {meta.get('stage')} checkpoint; {cfg.stage} starts from {PREVIOUS[cfg.stage]}"
                )
            prev_groups = {"teacher": ("actor", "critic"), "distill": ("actor",), "finetune": ("student",)}[cfg.stage]
            check_compatible(meta, ours, init, prev_groups)
            if cfg.stage == "teacher":
                runner.alg.load(ck, {"actor": True, "critic": True}, True)
            elif cfg.stage == "distill":
                runner.alg.load(ck, {"teacher": True}, True)
                runner.extra_state = {"critic_state_dict": ck["critic_state_dict"]}
            else:  # finetune: the distilled student becomes the actor, the teacher's critic the critic
                if list(meta.get("policy_hidden", [])) != list(hidden):
                    raise IncompatibleError(f"{init}: student network {meta.get('policy_hidden')} != {list(hidden)}")
                runner.alg.load(
                    {"actor_state_dict": ck["student_state_dict"], "critic_state_dict": ck["critic_state_dict"]},
                    {"actor": True, "critic": True},
                    True,
                )
            print(f"{cfg.stage}: initialised from {init}")
        runner.current_learning_iteration = start
        todo = cfg.iterations - start
        if todo > 0:
            _learn(runner, todo, cfg.stage, progress, cfg.max_minutes)
        final = checkpoints(stage_dir)[-1]
        write_json(
            stage_dir / "stage.json",
            {
                "stage": cfg.stage,
                "iterations": cfg.iterations,
                "checkpoint": final.name,
                "clips": [c.name for c in clips],
                "num_envs": cfg.num_envs,
                "device": cfg.device,
                "torch": torch.__version__,
            },
        )
        return final
    finally:
        env.close()


class _ChunkDoneError(Exception):
    """Raised after an iteration once the chunk's wall time is used up."""


def _learn(runner, todo: int, stage: str, progress: bool, max_minutes: float | None = None) -> None:
    import time

    from tqdm import tqdm

    t_end = time.monotonic() + 60.0 * max_minutes if max_minutes else None

    bar = tqdm(total=todo, desc=f"train {stage}", unit="it", disable=not progress)
    log = runner.logger.log

    def logged(*a, **k):  # progress + a finite-loss guard on every iteration
        loss = k.get("loss_dict") or {}
        bad = [n for n, v in loss.items() if not (abs(float(v)) < float("inf"))]
        if bad:
            raise NumericalError(
                f"{stage}: loss {bad} became NaN/inf at iteration {k.get('it')}; the last good "
                "checkpoint is kept: lower --learning-rate and re-run to resume from it"
            )
        log(*a, **k)
        _log_success(runner, k.get("it", 0), seen)
        bar.update(1)
        if t_end is not None and time.monotonic() > t_end and k.get("it", 0) + 1 < k.get("total_it", 0):
            raise _ChunkDoneError

    seen = {"episodes": 0, "successes": 0}
    runner.logger.log = logged
    try:
        runner.learn(num_learning_iterations=todo, init_at_random_ep_len=False)
    except _ChunkDoneError:
        it = runner.current_learning_iteration
        if runner.logger.writer is not None:
            runner.save(os.path.join(runner.logger.log_dir, f"model_{it}.pt"))
            runner.logger.stop_logging_writer()
        print(f"{stage}: time chunk used up after iteration {it}; re-run the same command to continue")
    except ValueError as exc:
        if "NaN" in str(exc):
            raise NumericalError(
                f"{stage}: the simulation produced NaN ({exc}); the last good checkpoint is kept: "
                "check the motions and terrain, or lower --learning-rate, then re-run to resume"
            ) from exc
        raise
    finally:
        bar.close()


def _log_success(runner, it: int, seen: dict[str, int]) -> None:
    """Tensorboard ``Episode/success``: share of this iteration's finished episodes that tracked to the clip end."""
    writer = runner.logger.writer
    if writer is None:
        return
    cmd = runner.env.unwrapped.command_manager.get_term("motion")
    eps, ok = int(cmd.episodes.sum()), int(cmd.successes.sum())
    d_eps, d_ok = eps - seen["episodes"], ok - seen["successes"]
    seen.update(episodes=eps, successes=ok)
    if d_eps > 0:
        writer.add_scalar("Episode/success", d_ok / d_eps, it)
