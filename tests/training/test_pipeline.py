"""End to end at tiny scale on the CPU: the four stages, export + parity, eval, sim2sim, plots,
resume after a kill, and the clear errors of a NaN and of an incompatible checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from videomimic_offline.errors import IncompatibleError, NumericalError
from videomimic_offline.policy.exported import load_policy
from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import physics
from videomimic_offline.training import stages
from videomimic_offline.training.export import export_student, parity, policy_from_checkpoint

from videomimic_offline import settings

pytestmark = pytest.mark.slow
TINY = dict(
    save_interval=1,
    progress=False,
    env={"num_envs": 4, "patch_size": 4.0, "terrain": ("flat",)},
    agent={"steps_per_env": 8, "hidden": (64, 64)},
)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """All four stages, 2 iterations each (MPT in two runs: a time-limited chunk, then a resume)."""
    out = tmp_path_factory.mktemp("run")
    t0 = time.time()
    # First MPT run is a time-limited chunk: it must stop after one iteration with a checkpoint.
    ck = stages.train_stage(
        stages.stage_config("mpt", out=out, motions=[data["mocap"]], iterations=50, max_minutes=1e-6, **TINY)
    )
    assert ck.name == "model_0.pt"
    ck = stages.train_stage(stages.stage_config("mpt", out=out, motions=[data["mocap"]], iterations=2, **TINY))
    assert ck.name == "model_1.pt"  # continued from model_0, not restarted
    for stage in ("teacher", "distill", "finetune"):
        ck = stages.train_stage(
            stages.stage_config(stage, out=out, motions=[data["clips"]], init=ck, iterations=2, **TINY)
        )
        assert ck.parent.name == stage and ck.name == "model_1.pt"
    print(f"four stages: {time.time() - t0:.1f} s")
    return out


def test_four_stages_export_a_student_with_parity(run, tmp_path):
    ck = run / "finetune" / "model_1.pt"
    files = export_student(ck, tmp_path)
    pol = load_policy(files["onnx"])
    assert pol.layout == StudentLayout() and pol.metadata["joint_names"] == list(stages.g1.JOINT_NAMES_23)
    assert pol.metadata["physics"] == json.loads(json.dumps(physics.metadata()))  # the robot it was trained on
    actor, _ = policy_from_checkpoint(ck)
    assert parity(actor, files, pol.layout) < 1e-5
    # Distillation matched the std too: the student's std moved from its init toward the teacher's.
    d = torch.load(run / "distill" / "model_1.pt", weights_only=False)
    assert "distribution.std_param" in d["student_state_dict"] and "critic_state_dict" in d
    assert "mlp.gate" in d["student_state_dict"]  # the student is VideoMimic's gated-heightmap network


def test_eval_sim2sim_and_plots_run_on_the_exported_student(run, data, tmp_path):
    from videomimic_offline.training.evaluate import evaluate
    from videomimic_offline.training.plots import plot_training
    from videomimic_offline.training.sim2sim import run_sim2sim

    files = export_student(run / "finetune", tmp_path)
    rep = evaluate(files["onnx"], [data["clips"], data["mocap"] / "stand.npz"], patch_size=4.0, progress=False)
    assert [c["clip"] for c in rep["clips"]] == ["stepclip", "stand"]  # scene clip on its terrain, MoCap on flat
    for clip in rep["clips"]:  # one episode each, as asked (the short clip is not counted again while the other runs)
        assert clip["episodes"] == 1 and 0.0 <= clip["success_rate"] <= 1.0
        assert np.isfinite(clip["joint_error_rad"]) and clip["link_error_mm"] > 0
    s2s = run_sim2sim(
        files["onnx"], data["clip"].parent / "heightfield.npz", seconds=0.5, progress=False, png=tmp_path / "s2s.png"
    )
    assert s2s["seconds"] == 0.5 and np.isfinite(s2s["min_pelvis_height_m"])
    assert (tmp_path / "s2s.png").stat().st_size > 5000
    # The TorchScript file evaluates the same way (recognised as exported by its metadata, not its name).
    assert evaluate(files["torchscript"], [data["mocap"] / "stand.npz"], patch_size=4.0, progress=False)["clips"]
    png = plot_training(run)
    assert png.stat().st_size > 5000
    from videomimic_offline.training.plots import read_scalars

    assert {"Loss/value", "Loss/surrogate"} <= set(read_scalars(run / "teacher"))
    distill = read_scalars(run / "distill")
    assert {"Loss/behavior", "Loss/std"} <= set(distill) and len(distill["Loss/std"]) == 2


def test_each_stage_saves_its_resolved_settings_and_refuses_to_resume_with_others(run, data):
    for stage in stages.CONFIGS:
        folder = run / stage
        cfg = settings.load_resolved(stages.CONFIGS[stage], folder / "config.json")
        assert cfg.agent.hidden == (64, 64) and cfg.env.num_envs == 4 and cfg.stage == stage
        agent = json.loads((folder / "agent.json").read_text())
        algorithm = agent["algorithm"]
        assert algorithm["learning_rate"] == stages.CONFIGS[stage](motions=[], out=run).agent.learning_rate
        env = json.loads((folder / "env.json").read_text())
        assert env["scene"]["num_envs"] == 4 and env["decimation"] == 4
    changed = {**TINY, "env": {**TINY["env"], "num_envs": 8}}
    with pytest.raises(IncompatibleError, match=r"other settings \(env.num_envs differ\)"):
        stages.train_stage(stages.stage_config("teacher", out=run, motions=[data["clips"]], iterations=3, **changed))


def test_resume_refuses_a_checkpoint_with_another_layout(run, data):
    """Tamper the newest teacher checkpoint's record: re-running must refuse, not misload."""
    ck_path = run / "teacher" / "model_1.pt"
    ck = torch.load(ck_path, weights_only=False)
    ck["infos"]["videomimic"]["obs_dims"]["actor"] = 999
    bad = run / "teacher" / "model_2.pt"
    torch.save(ck, bad)
    try:
        with pytest.raises(IncompatibleError, match="observation group 'actor'"):
            stages.train_stage(stages.stage_config("teacher", out=run, motions=[data["clips"]], iterations=3, **TINY))
    finally:
        bad.unlink()


def test_nan_in_training_is_one_clear_error(run, data, monkeypatch):
    from rsl_rl.algorithms import PPO

    real_act = PPO.act

    def nan_act(self, obs):
        return real_act(self, obs) * float("nan")

    monkeypatch.setattr(PPO, "act", nan_act)
    with pytest.raises(NumericalError, match="NaN.*last good checkpoint is kept"):
        stages.train_stage(stages.stage_config("mpt", out=run / "nan", motions=[data["mocap"]], iterations=1, **TINY))
    assert not list((run / "nan" / "mpt").glob("model_*.pt"))


def test_resume_after_kill_continues_from_last_checkpoint(data, tmp_path):
    """SIGKILL the train_mpt tool right after a checkpoint; re-running the stage continues from it."""
    out = tmp_path / "killed"
    args = [
        "--motions",
        str(data["mocap"]),
        "--out",
        str(out),
        "--num-envs",
        "4",
        "--steps-per-env",
        "8",
        "--save-interval",
        "1",
        "--patch-size",
        "4",
        "--terrain",
        "flat",
        "--hidden",
        "64",
        "64",
        "--device",
        "cpu",
    ]
    cmd = [sys.executable, "-c", "from videomimic_offline.training.tools import train_mpt; train_mpt()", *args]
    proc = subprocess.Popen(
        [*cmd, "--iterations", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.time() + 300
        while not (out / "mpt" / "model_0.pt").exists():
            assert proc.poll() is None and time.time() < deadline, "training did not reach its first checkpoint"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = max(int(p.stem.split("_")[1]) for p in (out / "mpt").glob("model_*.pt"))
    before = torch.load(out / "mpt" / f"model_{done}.pt", weights_only=False)
    # The same command again (as a user would): it resumes, and says so in a few lines, without Warp's chatter.
    res = subprocess.run([*cmd, "--iterations", str(done + 2)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert f"resuming mpt from model_{done}.pt (iteration {done + 1} of {done + 2})" in lines
    assert not [line for line in res.stdout.splitlines() + res.stderr.splitlines() if line.startswith("Module ")]
    assert lines[-3].startswith(f"train_mpt: mpt trained to iteration {done + 2}") and "look at:" in lines[-1]
    ck = stages.checkpoints(out / "mpt")[-1]
    assert ck.name == f"model_{done + 1}.pt"
    last = torch.load(ck, weights_only=False)
    assert last["iter"] == done + 1
    # Continued, not restarted: the observation normaliser kept counting from the killed run's statistics.
    count = "obs_normalizer.count"
    assert last["actor_state_dict"][count] > before["actor_state_dict"][count]
    assert not list((out / "mpt").glob("*.partial"))


TOOLS = {"mpt": "train_mpt", "teacher": "train_teacher", "distill": "distill_student", "finetune": "finetune_student"}
#: TINY as command-line flags.
TINY_ARGS = ["--num-envs", "4", "--steps-per-env", "8", "--save-interval", "1", "--patch-size", "4", "--terrain",
             "flat", "--hidden", "64", "64", "--device", "cpu", "--no-progress"]  # fmt: skip


def _tensors(ck: dict) -> dict[str, torch.Tensor]:
    """Every tensor a checkpoint holds (networks, normalisers, optimiser state, restart state), by name."""
    found: dict[str, torch.Tensor] = {}

    def walk(value, name: str) -> None:
        if torch.is_tensor(value):
            found[name] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{name}.{i}")

    walk({k: v for k, v in ck.items() if k != "infos"}, "")
    return found


@pytest.mark.parametrize("stage", ["mpt", "distill"])  # the two loops: PPO (mpt, teacher, finetune) and DAgger
def test_ctrl_c_mid_stage_then_the_rerun_ends_bit_identical_to_an_uninterrupted_run(stage, data, tmp_path, request):
    """Issue 13, for each stage's loop: SIGINT to the tool's process group (a terminal's Ctrl-C) mid-
    training, once it has written a checkpoint: exit 130 without a traceback, nothing half-written,
    every checkpoint loadable. The same command, asked for N iterations, resumes and ends with the
    checkpoint an uninterrupted run to N writes: every tensor (weights, normalisers, optimiser state)
    bit for bit, the random generators' states too (training/resume.py)."""
    motions = data["mocap"] if stage == "mpt" else data["clips"]
    # Stages 2-4 start from the previous stage of the shared tiny run (built only when one of them runs).
    init = {} if stage == "mpt" else {"init": request.getfixturevalue("run") / stages.PREVIOUS[stage]}
    tool = TOOLS[stage]
    cmd = [sys.executable, "-c", f"from videomimic_offline.training.tools import {tool}; {tool}()",
           "--motions", str(motions), *(["--init", str(init["init"])] if init else []), *TINY_ARGS]  # fmt: skip
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([*cmd, "--out", str(out), "--iterations", "1000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.time() + 600
        # After model_1 the run has been through one reset-at-a-checkpoint; Ctrl-C lands in a later iteration.
        while not (out / stage / "model_1.pt").exists():
            assert proc.poll() is None and time.time() < deadline, "training did not reach its second checkpoint"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, err[-3000:])
    assert "interrupted" in err and "Traceback" not in err, err[-3000:]
    assert not list(out.rglob("*.partial*")) and not list(out.rglob(".*.pt")), "nothing half-written"
    kept = stages.checkpoints(out / stage)
    for ck in kept:
        torch.load(ck, weights_only=False)  # each one complete
    done = int(kept[-1].stem.split("_")[1])
    total = done + 2
    res = subprocess.run([*cmd, "--out", str(out), "--iterations", str(total)], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"resuming {stage} from model_{done}.pt" in res.stdout
    resumed = torch.load(stages.checkpoints(out / stage)[-1], weights_only=False)
    # The uninterrupted run (in this process: the same settings, as the resume's settings check confirms).
    ref = stages.train_stage(
        stages.stage_config(
            stage, out=tmp_path / "uninterrupted", motions=[motions], iterations=total, device="cpu", **init, **TINY
        )  # fmt: skip
    )
    expected = torch.load(ref, weights_only=False)
    assert resumed["iter"] == expected["iter"] == total - 1
    a, b = _tensors(resumed), _tensors(expected)
    assert a.keys() == b.keys() and len(a) > 20, sorted(a.keys() ^ b.keys())
    differ = {k: float((a[k].double() - b[k].double()).abs().max()) for k in a if not torch.equal(a[k], b[k])}
    assert not differ, f"{len(differ)} of {len(a)} tensors differ from the uninterrupted run's: {differ}"
