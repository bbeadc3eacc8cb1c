"""The learner of a stage: the rsl_rl runner configuration built from :class:`config.AgentSettings`,
and the runner class whose checkpoints are atomic and carry our compatibility record.

The returned dict is rsl_rl's own configuration format (``class_name`` strings resolved by the
runner); it is saved as ``agent.json`` beside the stage's checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import g1
from videomimic_offline.training.config import CRITIC_NET, StageConfig

STUDENT_MODEL = "videomimic_offline.training.models:GatedHeightmapModel"
META_KEY = "videomimic"


def heightmap_dim(cfg: StageConfig) -> int:
    """Heightmap inputs at the end of the student observation (0 for the blind student)."""
    return 0 if cfg.blind else StudentLayout().dim - StudentLayout(heightmap=False).dim


def runner_cfg(cfg: StageConfig, teacher_hidden: tuple[int, ...]) -> dict[str, Any]:
    """rsl_rl runner configuration of ``cfg``'s stage (``teacher_hidden``: the distilled teacher's network)."""
    a = cfg.agent
    gauss = {"class_name": "GaussianDistribution", "init_std": a.init_std, "std_type": "scalar"}
    common = {
        "seed": cfg.seed,
        "num_steps_per_env": a.steps_per_env,
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
                "heightmap_dim": heightmap_dim(cfg),
                "hidden_dims": list(a.hidden),
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
                "num_learning_epochs": a.num_learning_epochs,
                "gradient_length": min(a.gradient_length, a.steps_per_env),
                "learning_rate": a.learning_rate,
                "max_grad_norm": a.max_grad_norm,
                "loss_type": "mse",
            },
        }
    student = cfg.stage == "finetune"
    return {
        **common,
        "class_name": "OnPolicyRunner",
        "obs_groups": {"actor": ["student" if student else "actor"], "critic": ["critic"]},
        "actor": {
            **(
                {"class_name": STUDENT_MODEL, "heightmap_dim": heightmap_dim(cfg)}
                if student
                else {"class_name": "MLPModel"}
            ),
            "hidden_dims": list(a.hidden),
            "activation": "elu",
            "obs_normalization": True,
            "distribution_cfg": dict(gauss),
        },
        "critic": {
            "class_name": "MLPModel",
            "hidden_dims": list(CRITIC_NET),
            "activation": "elu",
            "obs_normalization": True,
        },
        "algorithm": {
            "class_name": "PPO",
            "value_loss_coef": a.value_loss_coef,
            "use_clipped_value_loss": True,
            "clip_param": a.clip_param,
            "entropy_coef": a.entropy_coef,
            "num_learning_epochs": a.num_learning_epochs,
            "num_mini_batches": a.num_mini_batches,
            "learning_rate": a.learning_rate,
            "schedule": "adaptive",
            "gamma": a.gamma,
            "lam": a.lam,
            "desired_kl": a.desired_kl,
            "max_grad_norm": a.max_grad_norm,
            "rnd_cfg": None,
            "symmetry_cfg": None,
        },
    }


def runner_class(distill: bool):
    """rsl_rl's runner (DAgger or PPO) with atomic checkpoints that carry ``meta`` under :data:`META_KEY`."""
    import torch
    from rsl_rl.runners import DistillationRunner, OnPolicyRunner

    from videomimic_offline.artifacts import atomic_path
    from videomimic_offline.training import resume

    base = DistillationRunner if distill else OnPolicyRunner

    class VideomimicRunner(base):  # type: ignore[valid-type, misc]
        """rsl_rl runner whose checkpoints are atomic and carry our compatibility record."""

        meta: dict[str, Any] = {}
        extra_state: dict[str, Any] = {}
        _saved_iter: int = -1

        def save(self, path: str, infos: dict | None = None) -> None:
            """Write the checkpoint: weights, optimiser, iteration and the restart state of
            :mod:`training.resume`. A second call for the same iteration (rsl_rl saves again at
            the end of each ``learn``) writes nothing."""
            if self.current_learning_iteration == self._saved_iter:
                return
            saved = self.alg.save()
            saved.update(self.extra_state)
            saved["iter"] = self.current_learning_iteration
            saved["infos"] = {**(infos or {}), META_KEY: self.meta}
            saved[resume.RESUME_KEY] = resume.capture(self.env)
            # Atomic: a Ctrl-C or kill while writing leaves the previous checkpoints and no partial file.
            with atomic_path(Path(path)) as tmp:
                torch.save(saved, tmp)
            self._saved_iter = self.current_learning_iteration

    return VideomimicRunner
