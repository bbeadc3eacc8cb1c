"""Training configuration: one nested dataclass per stage, the only place its defaults live.

Each training tool's command line (tyro), the check that a resumed stage continues the same run,
and the resolved ``config.json`` saved beside every stage's checkpoints all come from these classes
(see :mod:`videomimic_offline.settings`). Defaults are the full-scale GPU settings of the original
system; the per-stage classes change only what differs between stages (learning rate, network,
randomisation, iterations). Light on purpose: importing it must not import mjlab or torch, so that
``--help`` is instant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

import tyro

from videomimic_offline.settings import setting

STAGES = ("mpt", "teacher", "distill", "finetune")
#: Procedural ground kinds (MoCap clips train on these; scene clips on their own heightfield).
Terrain = Literal["flat", "rough", "stairs"]
TERRAINS: tuple[str, ...] = get_args(Terrain)
TEACHER_NET = (512, 256, 128)
STUDENT_NET = (1024, 512, 256, 128)
#: The critic of every stage (stages hand it on: teacher -> distill -> finetune).
CRITIC_NET = TEACHER_NET
Flat = tyro.conf.OmitArgPrefixes  # nested settings appear as --num-envs, not --env.num-envs


@dataclass
class EnvSettings:
    """The simulated task (one mjlab env)."""

    #: Robots simulated in parallel (per GPU under torchrun).
    num_envs: int = 4096
    #: Procedural ground kinds for clips without a scene (MoCap).
    terrain: tuple[Terrain, ...] = TERRAINS
    #: Side of one terrain patch [m]; each scene gets one, so it must exceed the largest scene.
    patch_size: float = 8.0
    #: Episode length [s] (a clip's last frame also ends an episode).
    episode_length_s: float = 20.0
    #: Domain randomisation: observation noise, pushes, foot friction (MPT: also PD gains +-20 %
    #: and 0-5 steps of control delay). Evaluation always runs without.
    randomize: bool = True
    #: Width and height of an extra head-camera depth observation group (training/head_camera.py); none: off.
    head_depth: tuple[int, int] | None = None


@dataclass
class AgentSettings:
    """The learner: rsl_rl PPO, or DAgger distillation in the distill stage."""

    #: Hidden layer sizes of the policy network.
    hidden: tuple[int, ...] = TEACHER_NET
    #: Adam learning rate.
    learning_rate: float = 1e-3
    #: Environment steps per env and iteration.
    steps_per_env: int = 24
    #: Initial standard deviation of the Gaussian action noise.
    init_std: float = 0.8
    #: Passes over each iteration's data.
    num_learning_epochs: int = 5
    #: Minibatches per pass.
    num_mini_batches: int = 4
    #: PPO clip range.
    clip_param: float = 0.2
    #: PPO entropy bonus.
    entropy_coef: float = 0.0025
    #: PPO value-loss weight.
    value_loss_coef: float = 1.0
    #: Discount factor.
    gamma: float = 0.99
    #: GAE lambda.
    lam: float = 0.95
    #: Target KL of the adaptive learning-rate schedule.
    desired_kl: float = 0.02
    #: Gradient norm clip.
    max_grad_norm: float = 1.0
    #: Distillation: steps of truncated backpropagation (at most --steps-per-env).
    gradient_length: int = 15


@dataclass
class StageConfig:
    """Settings of one training stage (the MoCap pre-training stage uses exactly these)."""

    #: robot_motion.npz files (or LAFAN1 G1 CSV files), or folders holding them.
    motions: list[Path]
    #: Training run folder (one subfolder per stage).
    out: Path = setting(hashed=False)
    #: Total iterations to reach: a re-run resumes from the newest checkpoint and continues the same run.
    iterations: int = setting(10000, hashed=False)
    #: Write a checkpoint every this many iterations (and at the end); every env is reset after each
    #: checkpoint, so that a run resumed from one continues exactly as if never stopped.
    save_interval: int = setting(100, hashed=False)
    #: cpu, cuda:N, or auto (this rank's GPU under torchrun, else cuda:0, else the CPU).
    device: str = setting("auto", hashed=False)
    #: Random seed (each torchrun rank adds its rank).
    seed: int = 0
    #: Stop at the first checkpoint after this wall time [min]; the same command continues (for lent machines).
    max_minutes: float | None = setting(None, hashed=False)
    #: Show a progress bar.
    progress: bool = setting(True, hashed=False)
    env: Annotated[EnvSettings, Flat] = field(default_factory=EnvSettings)
    agent: Annotated[AgentSettings, Flat] = field(default_factory=AgentSettings)

    STAGE: ClassVar[str] = "mpt"

    @property
    def stage(self) -> str:
        return self.STAGE

    @property
    def stage_dir(self) -> Path:
        return Path(self.out) / self.STAGE

    @property
    def blind(self) -> bool:
        """Student without heightmap (only the student stages have the setting)."""
        return False

    @property
    def init(self) -> Path | None:
        return None


MptConfig = StageConfig


@dataclass
class TeacherConfig(StageConfig):
    """Scene-conditioned teacher, from the MPT policy."""

    iterations: int = setting(5000, hashed=False)
    env: Annotated[EnvSettings, Flat] = field(default_factory=lambda: EnvSettings(randomize=False))
    agent: Annotated[AgentSettings, Flat] = field(default_factory=lambda: AgentSettings(learning_rate=2e-5))
    #: The previous stage's checkpoint or stage folder (needed on the first run only).
    init: Path | None = setting(None, hashed=False)

    STAGE: ClassVar[str] = "teacher"


@dataclass
class DistillConfig(StageConfig):
    """DAgger distillation of the deployable student from the teacher."""

    iterations: int = setting(2000, hashed=False)
    agent: Annotated[AgentSettings, Flat] = field(
        default_factory=lambda: AgentSettings(hidden=STUDENT_NET, learning_rate=1e-3, num_learning_epochs=1)
    )
    #: The previous stage's checkpoint or stage folder (needed on the first run only).
    init: Path | None = setting(None, hashed=False)
    #: Student without heightmap input (the distill and finetune stages and the export must agree).
    blind: bool = False

    STAGE: ClassVar[str] = "distill"


@dataclass
class FinetuneConfig(StageConfig):
    """PPO finetuning of the distilled student."""

    iterations: int = setting(2000, hashed=False)
    agent: Annotated[AgentSettings, Flat] = field(
        default_factory=lambda: AgentSettings(hidden=STUDENT_NET, learning_rate=3e-5)
    )
    #: The previous stage's checkpoint or stage folder (needed on the first run only).
    init: Path | None = setting(None, hashed=False)
    #: Student without heightmap input (the distill and finetune stages and the export must agree).
    blind: bool = False

    STAGE: ClassVar[str] = "finetune"


CONFIGS: dict[str, type[StageConfig]] = {
    "mpt": MptConfig,
    "teacher": TeacherConfig,
    "distill": DistillConfig,
    "finetune": FinetuneConfig,
}

C = TypeVar("C")


def stage_config(stage: str, *, env: dict[str, Any] | None = None, agent: dict[str, Any] | None = None, **kw: Any):
    """The ``stage``'s config with some fields changed, nested ones given as dicts: the stage's own
    defaults stay for everything not named (``TeacherConfig(agent=AgentSettings(...))`` would reset them)."""
    cfg = CONFIGS[stage](**kw)
    if env:
        cfg.env = dataclasses.replace(cfg.env, **env)
    if agent:
        cfg.agent = dataclasses.replace(cfg.agent, **agent)
    return cfg


# ---- the other training tools -------------------------------------------------------------------


@dataclass
class ExportConfig:
    #: A finetune or distill checkpoint (model_*.pt) or its stage folder.
    checkpoint: Path
    #: Output folder for <name>.onnx and <name>.pt.
    out: Path
    #: File name stem.
    name: str = "student"


@dataclass
class EvalConfig:
    #: An exported student (.onnx / .pt), or a training checkpoint (model_*.pt) or stage folder.
    policy: Path
    #: robot_motion.npz files or folders (clips with a scene run on it, others on flat ground).
    motions: list[Path]
    #: Episodes per clip.
    episodes: int = 1
    #: cpu, cuda:N, or auto.
    device: str = "auto"
    #: Side of one terrain patch [m] (must exceed the largest scene).
    patch_size: float = 8.0
    #: Write the report as JSON here.
    out: Path | None = None
    #: Show a progress bar.
    progress: bool = True


@dataclass
class Sim2simConfig:
    #: Exported student (.onnx or .pt).
    policy: Path
    #: heightfield.npz (or its scene folder); none: flat ground with a 10 cm step.
    terrain: Path | None = None
    #: Simulated time [s].
    seconds: float = 5.0
    #: Constant root command: x, y [m] and yaw [rad] (the student's direction input).
    command: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: Write the pelvis path and height plot here.
    png: Path | None = None
    #: Show a progress bar.
    progress: bool = True


@dataclass
class PlotConfig:
    #: The --out folder of the training tools.
    run: Path
    #: PNG to write (default: <run>/training_curves.png).
    png: Path | None = None


MocapKind = Literal["stand", "squat", "step", "walk"]
MOCAP_KINDS: tuple[str, ...] = get_args(MocapKind)


@dataclass
class MocapConfig:
    #: Output folder.
    out: Path
    #: Clips to write (G1 forward kinematics).
    kinds: tuple[MocapKind, ...] = MOCAP_KINDS
    #: Length of each clip [s].
    seconds: float = 4.0
    #: Also write clips/stepclip: a walk on a 10 cm step heightfield (mocap then goes to <out>/mocap).
    sample_clip: bool = False
