"""`vm_main_job` (`./vm demo`): the whole product, end to end, on the embedded default or your video.

video → reconstruction → retargeting → training (CPU scale) or the shipped student → export →
deploy graph in simulation on the reconstructed scene, recorded to a rosbag → HTML report (with the
G1 head camera's ego view rendered after retargeting).

Each step is real and resumable: steps write their artifacts atomically and cache by input hash,
so a re-run reuses every finished step. A step that fails is reported as "failed: <why>" (the run
goes on; the steps that need its output are skipped) and the job exits non-zero. What the run made
is recorded in ``main_job.json`` (:mod:`contracts.report_inputs`), from which the report is built.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomimic_offline.cli import EXIT_UNUSABLE, argparser, finished, run_tool
from videomimic_offline.contracts.report_inputs import FILE as RUN_FILE
from videomimic_offline.contracts.report_inputs import ReportInputs, write_report_inputs
from videomimic_offline.errors import InputError, VideomimicError

DEFAULT_OUT = Path("runs") / "main"


@dataclass
class Context:
    """What the steps share: options and the artifacts produced so far."""

    out: Path
    video: Path | None
    height_m: float | None
    deploy_seconds: float
    train_iterations: int
    artifacts: dict[str, Path] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)

    def record(self) -> ReportInputs:
        return ReportInputs(self.out, dict(self.outcome), dict(self.artifacts), dict(self.info))


@dataclass
class Step:
    name: str
    needs: tuple[str, ...]
    run: Callable[[Context], str | None]  # returns a note for the outcome line, or None


# ---------------------------------------------------------------------------------------- steps


def step_input(ctx: Context) -> None:
    """The input video: the user's, or the embedded default (a generated synthetic clip)."""
    if ctx.video is not None:
        if not ctx.video.is_file():
            raise InputError(f"video {ctx.video} not found: pass an existing file with --video")
        ctx.artifacts["video"] = ctx.video
        return
    from videomimic_offline.real2sim.synthetic.api import DEFAULT_CLIP, make_default_clip

    clip = make_default_clip(ctx.out / "input")
    ctx.artifacts["video"] = clip / "video.mp4"
    ctx.artifacts["gt"] = clip / "gt.npz"
    # The generated person's height plays the user's `--height-m` (the metric ruler).
    ctx.height_m = ctx.height_m or float(DEFAULT_CLIP["height_m"])


def step_reconstruct(ctx: Context) -> None:
    """Video → metric, gravity-aligned human motion + scene (real2sim)."""
    from videomimic_offline.real2sim.config import PipelineConfig
    from videomimic_offline.real2sim.pipeline import run_pipeline

    recon = Path(run_pipeline(ctx.artifacts["video"], ctx.out / "recon", PipelineConfig(height_m=ctx.height_m)))
    ctx.artifacts["recon"] = recon


def step_retarget(ctx: Context) -> str | None:
    """Human motion on its scene → G1 motion (retarget), with the side-by-side video.

    A motion that is written but not usable for training goes on (this is a demonstration at CPU
    scale); the outcome line and the report say so.
    """
    from videomimic_offline.contracts.feasibility import FILE, read_feasibility

    recon, robot = ctx.artifacts["recon"], ctx.out / "robot"
    _tool(
        "retarget", str(recon / "motion.npz"), "--scene", str(recon / "heightfield.npz"), "--out", str(robot),
        "--video", ok=(0, EXIT_UNUSABLE),
    )  # fmt: skip
    ctx.artifacts["robot_motion"] = robot / "robot_motion.npz"
    rep = read_feasibility(robot / FILE)
    ctx.info["retarget"] = rep.as_dict()
    return None if rep.usable else f"robot motion {rep.verdict}"


#: CPU scale for the main job: every stage really runs (a few PPO/DAgger iterations on a few
#: envs), enough to exercise the pipeline end to end, far too little to learn to walk.
CPU_SCALE = ["--num-envs", "4", "--steps-per-env", "8", "--save-interval", "1", "--hidden", "64", "64"]


def step_train(ctx: Context) -> None:
    """The four stages at CPU scale (MoCap → teacher → DAgger student → finetune), then export.

    Skipped when the exported student was made from the same motion and settings (each training
    tool would also resume, but would rebuild its simulator just to find nothing left to do).
    """
    from videomimic_offline import artifacts

    train, iters = ctx.out / "train", str(ctx.train_iterations)
    student = train / "export" / "student.onnx"
    key = artifacts.hash_inputs(ctx.artifacts["robot_motion"], iters, CPU_SCALE)
    marker = train / "main_job_train.json"
    ctx.artifacts["policy"] = student
    if student.is_file() and marker.is_file() and artifacts.read_json(marker).get("input_hash") == key:
        print(f"  reusing {student} (same motion and settings)")
        return
    clip = [str(ctx.artifacts["robot_motion"])]
    _tool("make_mocap", "--out", str(train / "mocap"), "--seconds", "3")
    _tool("train_mpt", "--motions", str(train / "mocap"), "--out", str(train), "--iterations", iters,
          "--terrain", "flat", *CPU_SCALE)  # fmt: skip
    previous = "mpt"
    for tool, stage in (("train_teacher", "teacher"), ("distill_student", "distill"), ("finetune_student", "finetune")):
        _tool(tool, "--motions", *clip, "--out", str(train), "--init", str(train / previous), "--iterations", iters,
              "--terrain", "flat", *CPU_SCALE)  # fmt: skip
        previous = stage
    _tool("export_student", "--checkpoint", str(train / "finetune"), "--out", str(train / "export"))
    _tool("plot_training", "--run", str(train), "--png", str(train / "training_curves.png"))
    artifacts.write_json(marker, {"input_hash": key, "student": str(student)})


#: how long the deploy graph may take to start recording (nodes, DDS discovery, the simulator's scene)
DEPLOY_START_TIMEOUT_S = 300.0


def run_then_stop(proc: subprocess.Popen, ready: Callable[[], bool], seconds: float,
                  start_timeout: float = DEPLOY_START_TIMEOUT_S) -> int:  # fmt: skip
    """Let a running graph go on ``seconds`` from the moment ``ready()`` holds, then stop it as
    Ctrl-C would (SIGINT to the runner, which stops every node and closes the bag); its exit code.

    The seconds used to be the runner's ``--duration``, counted from its own start: on a loaded
    machine a 3 s deploy ended while the nodes were still starting, and no bag was written at all.
    The deploy tests time their graphs the same way (tests/deploy/graphrun.py).
    """
    deadline = time.monotonic() + start_timeout
    while proc.poll() is None and not ready():
        if time.monotonic() > deadline:
            break  # never got ready: stop it; the caller reports what is missing and the log
        time.sleep(0.2)
    end = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < end:
        time.sleep(0.2)
    for sig, grace in ((signal.SIGINT, 120.0), (signal.SIGTERM, 30.0)):  # the runner stops its nodes on either
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                return proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
    proc.kill()  # last resort: its nodes would outlive it
    return proc.wait()


def step_deploy(ctx: Context) -> None:
    """The deploy graph in simulation on the reconstructed scene, recorded to a rosbag, then checked for
    physical sense: the robot spawns where the retargeted motion starts (on the terrain, facing its way),
    stands at the default pose's height, and every fall is caught and reported (``vm_deploy_check``).

    Each run records into its own new folder (``deploy/run_<time>``), and the bag it finds there is
    this run's: a re-run never reports an older run's bag, nor an older run this one's.
    """
    launcher = _workspace_tool("videomimic", "vm_launch")
    run_dir = ctx.out / "deploy" / time.strftime("run_%Y%m%d_%H%M%S")
    while run_dir.exists():  # two runs within a second
        run_dir = run_dir.with_name(run_dir.name + "_")
    run_dir.mkdir(parents=True)
    scene = ctx.artifacts["recon"] / "heightfield.npz"
    cmd = [str(launcher), "deploy", "sim:=true", "record:=true", "joy_script:=joy_demo.yaml", f"scene:={scene}",
           f"spawn:={ctx.artifacts['robot_motion']}", f"policy:={ctx.artifacts['policy']}"]  # fmt: skip
    env = {**os.environ, "VM_BAG_DIR": str(run_dir)}
    log_path = run_dir / "launch.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            # counted from when the recorder opened its bag
            rc = run_then_stop(proc, lambda: any(p.is_dir() for p in run_dir.iterdir()), ctx.deploy_seconds)
        except KeyboardInterrupt:  # Ctrl-C reached the graph too (same process group): let it close the bag
            proc.wait()
            raise
    if rc != 0:
        raise InputError(f"the deploy graph exited with code {rc}; see {log_path}")
    bags = [p for p in run_dir.iterdir() if p.is_dir() and (p / "metadata.yaml").is_file()]
    if len(bags) != 1:
        raise InputError(f"the deploy run recorded {len(bags)} bags in {run_dir}, expected one; see {log_path}")
    ctx.artifacts["bag"] = bags[0]
    check = subprocess.run([str(_workspace_tool("videomimic_nodes", "vm_deploy_check")), str(bags[0]), "--scene",
                            str(scene), "--json"], capture_output=True, text=True)  # fmt: skip
    try:
        ctx.info["deploy_check"] = verdict = json.loads(check.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise InputError(f"vm_deploy_check failed on {bags[0]}: {check.stderr.strip()[-500:]}") from exc
    if not verdict["ok"]:
        raise InputError(f"the simulated deploy run makes no physical sense: {'; '.join(verdict['problems'])} "
                         f"(bag {bags[0]}, log {log_path})")  # fmt: skip


def step_egoview(ctx: Context) -> None:
    """The G1 head camera's RGB-D view along the retargeted motion through the reconstructed scene."""
    from videomimic_offline import artifacts
    from videomimic_offline.egoview.tool import EgoviewConfig, render_egoview

    cfg = EgoviewConfig(robot_motion=ctx.artifacts["robot_motion"], recon=ctx.artifacts["recon"],
                        video=ctx.artifacts.get("video"), out=ctx.out / "egoview")  # fmt: skip
    ctx.artifacts["egoview"] = render_egoview(cfg)
    ctx.info["egoview"] = artifacts.read_json(ctx.artifacts["egoview"] / "info.json")


def step_report(ctx: Context) -> None:
    """One self-contained HTML report of everything above, built from ``main_job.json``."""
    from videomimic_offline.contracts.report_inputs import read_report_inputs
    from videomimic_offline.report import write_report

    write_report_inputs(ctx.out / RUN_FILE, ctx.record())
    ctx.artifacts["report"] = write_report(read_report_inputs(ctx.out / RUN_FILE))


STEPS: tuple[Step, ...] = (
    Step("input video", (), step_input),
    Step("reconstruction", ("video",), step_reconstruct),
    Step("retargeting", ("recon",), step_retarget),
    Step("ego view", ("robot_motion", "recon"), step_egoview),
    Step("training + export", ("robot_motion",), step_train),
    Step("deploy in simulation", ("recon", "robot_motion", "policy"), step_deploy),
    Step("report", (), step_report),
)


def _tool(name: str, *args: str, ok: tuple[int, ...] = (0,)) -> int:
    from videomimic_offline.toolrun import run_tool_process

    return run_tool_process(name, *args, ok=ok)


def _workspace_tool(package: str, name: str) -> Path:
    """A workspace executable, found as ``ros2 run`` finds it (``<prefix>/lib/<package>`` on AMENT_PREFIX_PATH)."""
    from videomimic_offline.toolrun import find_tool

    return find_tool(name, package)


# ------------------------------------------------------------------------------------------ CLI


def run(ctx: Context) -> dict[str, str]:
    """Run every step in order; returns step -> outcome ("done in N s[; note]", "failed: why", "skipped (...)").

    A step that raises a :class:`VideomimicError` (a missing tool, a bad input, a deploy graph that
    exited non-zero) fails; the run goes on with the steps that do not need its output.
    """
    from rich.console import Console

    console = Console()
    for i, step in enumerate(STEPS, 1):
        missing = [k for k in step.needs if k not in ctx.artifacts]
        head = f"[{i}/{len(STEPS)}] {step.name}"
        if missing:
            ctx.outcome[step.name] = f"skipped (needs {', '.join(missing)})"
            console.print(f"{head}: [yellow]{ctx.outcome[step.name]}[/]")
            continue
        console.print(f"{head} ...")
        t0 = time.perf_counter()
        try:
            note = step.run(ctx)
        except VideomimicError as exc:
            ctx.outcome[step.name] = f"failed: {exc}"
            console.print(f"{head}: [red]{ctx.outcome[step.name]}[/]")
            continue
        ctx.outcome[step.name] = f"done in {time.perf_counter() - t0:.1f} s" + (f"; {note}" if note else "")
        console.print(f"{head}: [green]{ctx.outcome[step.name]}[/]")
    return ctx.outcome


@run_tool
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparser("vm_main_job", __doc__)
    parser.add_argument("--video", type=Path, default=None, help="your video (default: the embedded generated clip)")
    parser.add_argument(
        "--height-m",
        type=float,
        default=None,
        help="the person's height in metres, the metric ruler (default: the prior, said on the terminal)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument(
        "--deploy-seconds", type=float, default=20.0, help="seconds of deploy recording (from bag open)"
    )
    parser.add_argument("--train-iterations", type=int, default=2, help="iterations per training stage (CPU scale)")
    ns = parser.parse_args(argv)
    ctx = Context(out=ns.out.resolve(), video=ns.video, height_m=ns.height_m, deploy_seconds=ns.deploy_seconds,
                  train_iterations=ns.train_iterations)  # fmt: skip
    ctx.out.mkdir(parents=True, exist_ok=True)
    run(ctx)
    rec = ctx.record()
    write_report_inputs(ctx.out / RUN_FILE, rec)
    done = sum(v.startswith("done") for v in rec.outcome.values())
    notes = [f"{k}: {v}" for k, v in rec.outcome.items() if not v.startswith("done in") or ";" in v]
    finished(
        "vm_main_job",
        f"{done}/{len(STEPS)} steps done" + (f", failed: {', '.join(rec.failed)}" if rec.failed else ""),
        *[n[:200] for n in notes[:2]],
        look=[rec.artifacts.get("report", ctx.out / "report"), ctx.out / RUN_FILE],
    )
    return 1 if rec.failed else 0


if __name__ == "__main__":
    sys.exit(main())
