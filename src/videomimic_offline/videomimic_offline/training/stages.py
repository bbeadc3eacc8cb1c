"""The four training stages as one resumable function: MPT, teacher, DAgger distillation, finetune.

Each stage writes ``<out>/<stage>/``: ``model_<it>.pt`` checkpoints (written atomically, carrying
a compatibility record), tensorboard event files, the resolved ``config.json`` / ``env.json`` /
``agent.json`` and ``stage.json``. Re-running a stage resumes from its newest checkpoint and trains
until the requested iteration count, if its settings (:mod:`training.config`) are those it was
trained with; a stage starts from the previous stage's last checkpoint (``--init``). Checkpoints
record the joint order and observation sizes: loading one made for another layout fails with one
clear line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from videomimic_offline import settings
from videomimic_offline.artifacts import read_json, write_json
from videomimic_offline.errors import IncompatibleError, InputError, NumericalError
from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import g1
from videomimic_offline.training.agent import META_KEY, heightmap_dim, runner_cfg, runner_class
from videomimic_offline.training.config import CONFIGS, StageConfig, stage_config

__all__ = ["CONFIGS", "StageConfig", "build_env", "load_clips", "stage_config", "train_stage"]

CKPT_FORMAT = 1
PREVIOUS = {"teacher": "mpt", "distill": "teacher", "finetune": "distill"}
#: Files beside a stage's checkpoints: our resolved settings, mjlab's env and rsl_rl's agent config.
CONFIG_FILE, ENV_FILE, AGENT_FILE = "config.json", "env.json", "agent.json"


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
        "policy_heightmap_gate": 0 if cfg.stage in ("mpt", "teacher") else heightmap_dim(cfg),
    }


def resolve_device(device: str) -> str:
    """``auto``: the GPU of this rank under torchrun (``LOCAL_RANK``), else cuda:0, else the CPU."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        rank = int(os.environ.get("LOCAL_RANK", "0"))
        os.environ.setdefault("MUJOCO_EGL_DEVICE_ID", str(rank))
        return f"cuda:{rank}"
    if device != "auto":
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def build_env(cfg: StageConfig, clips, eval_mode: bool = False, num_envs: int | None = None):
    """The mjlab env (wrapped for rsl_rl) of a stage (``eval_mode``: clips from their start, no randomisation)."""
    from mjlab.envs import ManagerBasedRlEnv
    from mjlab.rl import RslRlVecEnvWrapper

    from videomimic_offline.training.env_cfg import make_env_cfg

    env_cfg = make_env_cfg(cfg, clips, eval_mode=eval_mode, num_envs=num_envs)
    env = ManagerBasedRlEnv(cfg=env_cfg, device=resolve_device(cfg.device))
    names = env.action_manager.get_term("joint_pos").target_names
    if tuple(names) != g1.JOINT_NAMES_23:
        raise IncompatibleError(f"mjlab action joints {names} differ from the G1 policy joint order")
    return RslRlVecEnvWrapper(env, clip_actions=g1.ACTION_CLIP)


def load_clips(cfg: StageConfig, need_scene: bool | None = None):
    """The stage's clips (``need_scene``, default: all but MPT, refuses a clip without its terrain)."""
    from videomimic_offline.training.motions import find_motions, load_clip

    need_scene = cfg.stage != "mpt" if need_scene is None else need_scene
    paths = find_motions(cfg.motions)
    clips = [load_clip(p, g1.TRACKED_LINKS, need_scene=need_scene) for p in paths]
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise InputError(f"two motions share a clip name ({names}); give each clip its own folder or file name")
    return clips


def jsonable(value: Any) -> Any:
    """A JSON-able copy of a config tree (mjlab's env config holds functions, classes and tensors)."""
    import dataclasses
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '?')}:{getattr(value, '__qualname__', type(value).__qualname__)}"
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def _check_same_run(cfg: StageConfig, key: dict[str, Any]) -> None:
    """Refuse to resume a stage folder that was trained with other settings (files compared by content)."""
    path = cfg.stage_dir / "stage.json"
    saved = read_json(path).get("settings_key") if path.is_file() else None
    if saved is None or saved == key:
        return

    def leaves(d: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(d, dict):
            return {k: v for name, sub in d.items() for k, v in leaves(sub, f"{prefix}{name}.").items()}
        return {prefix.rstrip("."): d}

    old, new = leaves(saved), leaves(key)
    diff = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    raise IncompatibleError(
        f"{cfg.stage_dir} was trained with other settings ({', '.join(diff)} differ); resuming would mix two "
        "runs: use another --out, or delete that folder to start the stage again"
    )


def train_stage(cfg: StageConfig) -> Path:
    """Train (or resume) one stage; returns its newest checkpoint.

    Beside the checkpoints: ``config.json`` (the resolved :class:`StageConfig`), ``env.json`` (mjlab's
    env config) and ``agent.json`` (rsl_rl's), and ``stage.json`` (the settings' cache key, which a
    re-run must match to resume, and the outcome).
    """
    import torch

    from videomimic_offline.training import resume

    clips = load_clips(cfg)
    stage_dir = cfg.stage_dir
    existing = checkpoints(stage_dir)
    key = settings.cache_key(cfg)
    if existing:
        _check_same_run(cfg, key)
    init = None
    if not existing and cfg.stage in PREVIOUS:
        if cfg.init is None:
            raise InputError(f"stage {cfg.stage} starts from a {PREVIOUS[cfg.stage]} checkpoint: pass --init")
        init = resolve_checkpoint(cfg.init)
    hidden = tuple(cfg.agent.hidden)

    teacher_hidden: tuple[int, ...] = ()
    if cfg.stage == "distill":  # the teacher network's shape comes from the teacher checkpoint
        src = read_checkpoint(existing[-1] if existing else init)["infos"][META_KEY]
        teacher_hidden = tuple(src.get("teacher_hidden" if src.get("stage") == "distill" else "policy_hidden") or ())

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
        agent = runner_cfg(cfg, teacher_hidden)
        settings.save_resolved(cfg, stage_dir / CONFIG_FILE)
        write_json(stage_dir / ENV_FILE, jsonable(env.unwrapped.cfg))
        write_json(stage_dir / AGENT_FILE, agent)
        write_json(stage_dir / "stage.json", {"stage": cfg.stage, "settings_key": key})
        device = resolve_device(cfg.device)
        runner = runner_class(cfg.stage == "distill")(env, agent, str(stage_dir), device)
        runner.meta = ours
        start, restart = 0, None
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
            restart = ck.get(resume.RESUME_KEY)
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
        if cfg.iterations > start:
            _learn(runner, start, cfg.iterations, cfg, restart, resumed=bool(existing))
        final = checkpoints(stage_dir)[-1]
        write_json(
            stage_dir / "stage.json",
            {
                "stage": cfg.stage,
                "settings_key": key,
                "iterations": cfg.iterations,
                "checkpoint": final.name,
                "clips": [c.name for c in clips],
                "num_envs": cfg.env.num_envs,
                "device": device,
                "torch": torch.__version__,
            },
        )
        return final
    finally:
        env.close()


def _learn(runner, start: int, end: int, cfg: StageConfig, restart: dict[str, Any] | None, resumed: bool) -> None:
    """Train iterations ``start`` .. ``end - 1`` in pieces that end at a checkpoint, resetting every
    env after each checkpoint (:mod:`training.resume`: what makes any checkpoint a restart point).

    rsl_rl writes a checkpoint after iterations ``0, s, 2s, ...`` (``s`` = ``--save-interval``) and
    at the end of each ``learn`` call, so each piece is one ``learn`` call up to the next multiple
    of ``s``. ``restart``: the resumed checkpoint's restart state, put back just before the reset
    that follows it, as the reset followed it in the run that wrote it. ``--max-minutes`` ends the
    run at the first checkpoint after the time is up.
    """
    import time

    from tqdm import tqdm

    from videomimic_offline.training import resume

    stage, interval = cfg.stage, max(1, cfg.save_interval)
    t_end = time.monotonic() + 60.0 * cfg.max_minutes if cfg.max_minutes else None
    bar = tqdm(total=end - start, desc=f"train {stage}", unit="it", disable=not cfg.progress)
    logger = runner.logger
    log, init_writer, stop_writer = logger.log, logger.init_logging_writer, logger.stop_logging_writer

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

    seen = {"episodes": 0, "successes": 0}
    logger.log = logged
    # One tensorboard writer for the whole run, not one per piece.
    logger.init_logging_writer = lambda: None if logger.writer is not None else init_writer()
    logger.stop_logging_writer = lambda: None
    it = start
    try:
        if resumed:
            if restart is not None:
                resume.restore(runner.env, restart)
            else:
                print(
                    f"{stage}: the checkpoint predates restart states (random generators, clip statistics): "
                    "the resumed run continues, but not exactly as an uninterrupted run would"
                )
        while it < end:
            if it > 0:
                resume.restart_all(runner.env)
            piece_end = min(end, -(-it // interval) * interval + 1)  # through the next multiple of s
            runner.current_learning_iteration = it  # rsl_rl starts at it (and leaves it at its last)
            runner.learn(num_learning_iterations=piece_end - it, init_at_random_ep_len=False)
            it = piece_end
            if t_end is not None and time.monotonic() > t_end and it < end:
                print(f"{stage}: time chunk used up after iteration {it - 1}; re-run the same command to continue")
                break
    except ValueError as exc:
        if "NaN" in str(exc):
            raise NumericalError(
                f"{stage}: the simulation produced NaN ({exc}); the last good checkpoint is kept: "
                "check the motions and terrain, or lower --learning-rate, then re-run to resume"
            ) from exc
        raise
    finally:
        bar.close()
        logger.init_logging_writer, logger.stop_logging_writer = init_writer, stop_writer
        stop_writer()


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
