"""mjlab environment configuration of the four training stages.

Robot: the 29-DoF G1 exactly as every other simulator of it builds it (:func:`robot.model.g1_spec`:
armature, contacts, PD actuators and solver options from :mod:`videomimic_offline.robot.physics`);
mjlab only wraps its actuators. The 23 policy joints have VideoMimic's PD gains; the six wrist joints
are held at 0 by stiff PD (kp 40), as on the real robot, and are never part of the action. Action:
``q0 + 0.25 * clip(a, +-8)`` on the 23 joints, 50 Hz (0.005 s x 4).

Observation groups (same in every stage, so checkpoints move between stages):
``actor`` = history (375) | command (3) | heightmap (121) | target joints (23) | target roll/pitch (2);
``student`` = the deployed layout (history | command | heightmap, or blind); ``critic`` = actor +
privileged link errors, contacts and root velocity (never corrupted).
"""

from __future__ import annotations

from functools import partial

from mjlab.actuator import XmlActuatorCfg
from mjlab.entity import EntityArticulationInfoCfg, EntityCfg
from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.envs.mdp import dr
from mjlab.envs.mdp import events as mj_events
from mjlab.envs.mdp import rewards as mj_rewards
from mjlab.envs.mdp.actions import JointPositionActionCfg
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.observation_manager import ObservationGroupCfg, ObservationTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.scene_entity_config import SceneEntityCfg
from mjlab.managers.termination_manager import TerminationTermCfg
from mjlab.scene import SceneCfg
from mjlab.sensor import ContactMatch, ContactSensorCfg, GridPatternCfg, ObjRef, RayCastSensorCfg
from mjlab.sim import MujocoCfg, SimulationCfg
from mjlab.tasks.tracking import mdp as track

from videomimic_offline.robot import g1, physics
from videomimic_offline.robot.model import g1_spec
from videomimic_offline.training import observations as obs
from videomimic_offline.training import terms
from videomimic_offline.training.command import ClipMotionCommandCfg
from videomimic_offline.training.config import StageConfig
from videomimic_offline.training.motions import Clip
from videomimic_offline.training.terrain import build_terrain


def robot_cfg(max_delay_steps: int = 0) -> EntityCfg:
    """The G1 with its physics; ``max_delay_steps`` = control delay in physics steps (0..)."""
    init = EntityCfg.InitialStateCfg(
        pos=(0.0, 0.0, g1.DEFAULT_PELVIS_HEIGHT),
        joint_pos={f"^{n}$": v for n, v in g1.DEFAULT_POSE.items()} | {".*": 0.0},
        joint_vel={".*": 0.0},
    )
    # The model's own PD actuators (one group: mjlab computes each group once per physics step).
    joints = tuple(f"^{n}$" for n in g1.JOINT_NAMES_29)
    pd = XmlActuatorCfg(target_names_expr=joints, command_field="position", delay_max_lag=max_delay_steps)
    return EntityCfg(
        init_state=init,
        spec_fn=partial(g1_spec, "29dof", actuators=True),
        articulation=EntityArticulationInfoCfg(actuators=(pd,), soft_joint_pos_limit_factor=0.9),
    )


PROPRIO_NOISE = {"ang_vel_b": 0.05, "projected_gravity_b": 0.05, "joint_pos_rel": 0.01, "joint_vel": 0.1}


def make_env_cfg(
    cfg: StageConfig, clips: list[Clip], eval_mode: bool = False, num_envs: int | None = None
) -> ManagerBasedRlEnvCfg:
    """The full mjlab env config of ``cfg``'s stage on ``clips`` (``eval_mode``: clips from their
    first frame in turn, no noise, pushes or start perturbations)."""
    s = cfg.env
    noisy = s.randomize and not eval_mode
    stage = cfg.stage
    scenes = {c.name: c.scene for c in clips}
    terrain, layout = build_terrain(scenes, s.terrain, s.patch_size, seed=cfg.seed)
    robot = robot_cfg(max_delay_steps=5 * g1.DECIMATION if noisy and stage == "mpt" else 0)
    body_names = g1.TRACKED_LINKS
    j23 = [g1.JOINT_NAMES_29.index(n) for n in g1.JOINT_NAMES_23]

    scan = RayCastSensorCfg(
        name="height_scan",
        frame=ObjRef(type="body", name=g1.TORSO_LINK, entity="robot"),
        ray_alignment="yaw",
        pattern=GridPatternCfg(size=(1.0, 1.0), resolution=g1.HEIGHTMAP_RESOLUTION),
        max_distance=5.0,
        exclude_parent_body=True,
        include_geom_groups=(0,),
    )
    feet = ContactSensorCfg(
        name="feet_contact",
        primary=ContactMatch(mode="subtree", pattern=r"^(left_ankle_roll_link|right_ankle_roll_link)$", entity="robot"),
        secondary=ContactMatch(mode="body", pattern="terrain"),
        fields=("found",),
        reduce="netforce",
        num_slots=1,
    )

    def hist(noise: bool) -> ObservationTermCfg:
        return ObservationTermCfg(func=obs.ProprioHistory, params={"noise": PROPRIO_NOISE if noise else None})

    def hmap(noise: bool) -> ObservationTermCfg:
        return ObservationTermCfg(func=obs.Heightmap, params={"noisy": noise})

    # The actor group is the policy's input in MPT/teacher and the teacher's (clean) input when labelling the student.
    actor_noisy = noisy and stage == "mpt"
    command = ObservationTermCfg(func=obs.root_command, params={"command_name": "motion"})
    teacher_terms = {
        "history": hist(actor_noisy),
        "command": command,
        "heightmap": hmap(False),
        "target_joints": ObservationTermCfg(func=obs.target_joints, params={"command_name": "motion"}),
        "target_roll_pitch": ObservationTermCfg(func=obs.target_roll_pitch, params={"command_name": "motion"}),
    }
    critic_terms = {
        "history": hist(False),
        "command": command,
        "heightmap": hmap(False),
        "target_joints": teacher_terms["target_joints"],
        "target_roll_pitch": teacher_terms["target_roll_pitch"],
        "link_errors": ObservationTermCfg(func=obs.link_errors, params={"command_name": "motion"}),
        "contacts": ObservationTermCfg(func=obs.contacts, params={"command_name": "motion"}),
        "root_lin_vel": ObservationTermCfg(func=obs.root_lin_vel_b),
    }
    student_terms = {"history": hist(noisy), "command": command}
    if not cfg.blind:
        student_terms["heightmap"] = hmap(noisy)
    observations = {
        "actor": ObservationGroupCfg(terms=teacher_terms, concatenate_terms=True, enable_corruption=actor_noisy),
        "critic": ObservationGroupCfg(terms=critic_terms, concatenate_terms=True, enable_corruption=False),
        "student": ObservationGroupCfg(terms=student_terms, concatenate_terms=True, enable_corruption=noisy),
    }

    actions = {
        "joint_pos": JointPositionActionCfg(
            entity_name="robot",
            actuator_names=tuple(f"^{n}$" for n in g1.JOINT_NAMES_23),
            scale=g1.ACTION_SCALE,
            use_default_offset=True,
            preserve_order=True,
        )
    }
    pose_range = {} if eval_mode else {"x": (-0.05, 0.05), "y": (-0.05, 0.05), "yaw": (-0.1, 0.1)}
    vel_range = {} if eval_mode else {"x": (-0.2, 0.2), "y": (-0.2, 0.2), "yaw": (-0.2, 0.2)}
    commands = {
        "motion": ClipMotionCommandCfg(
            entity_name="robot",
            resampling_time_range=(1.0e9, 1.0e9),
            debug_vis=False,
            anchor_body_name=g1.TORSO_LINK,
            body_names=body_names,
            clips=list(clips),
            clip_columns=dict(layout.clip_column),
            procedural_columns=list(layout.procedural_columns),
            joint_ids_23=j23,
            pose_range=pose_range,
            velocity_range=vel_range,
            joint_position_range=(0.0, 0.0) if eval_mode else (-0.05, 0.05),
            sampling_mode="start" if eval_mode else "adaptive",
        )
    }

    events: dict[str, EventTermCfg] = {}
    if noisy:
        events["push_robot"] = EventTermCfg(
            func=mj_events.push_by_setting_velocity,
            mode="interval",
            interval_range_s=(2.0, 5.0),
            params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}},
        )
        events["foot_friction"] = EventTermCfg(
            mode="startup",
            func=dr.geom_friction,
            params={
                "asset_cfg": SceneEntityCfg("robot", geom_names=physics.FOOT_GEOMS),
                "operation": "abs",
                "ranges": (0.4, 1.2),
                "shared_random": True,
            },
        )
        if stage == "mpt":
            events["pd_gains"] = EventTermCfg(
                mode="reset",
                func=dr.pd_gains,
                params={"asset_cfg": SceneEntityCfg("robot"), "kp_range": (0.8, 1.2), "kd_range": (0.8, 1.2)},
            )

    m = {"command_name": "motion"}
    rewards = {
        "joint_pos": RewardTermCfg(func=terms.joint_pos_tracking_exp, weight=1.5, params={**m, "std": 0.5}),
        "global_links": RewardTermCfg(func=terms.global_link_pos_exp, weight=1.0, params={**m, "std": 0.3}),
        "anchor_ori": RewardTermCfg(
            func=track.motion_global_anchor_orientation_error_exp, weight=0.5, params={**m, "std": 0.4}
        ),
        "body_pos": RewardTermCfg(
            func=track.motion_relative_body_position_error_exp, weight=1.0, params={**m, "std": 0.3}
        ),
        "body_ori": RewardTermCfg(
            func=track.motion_relative_body_orientation_error_exp, weight=1.0, params={**m, "std": 0.4}
        ),
        "body_lin_vel": RewardTermCfg(
            func=track.motion_global_body_linear_velocity_error_exp, weight=0.5, params={**m, "std": 1.0}
        ),
        "action_rate": RewardTermCfg(func=mj_rewards.action_rate_l2, weight=-0.1),
        "joint_limit": RewardTermCfg(
            func=mj_rewards.joint_pos_limits,
            weight=-10.0,
            params={"asset_cfg": SceneEntityCfg("robot", joint_names=(".*",))},
        ),
        "termination": RewardTermCfg(func=mj_rewards.is_terminated, weight=-10.0),
    }
    terminations = {
        "time_out": TerminationTermCfg(func=track.time_out, time_out=True),
        "clip_end": TerminationTermCfg(func=terms.clip_finished, params=m, time_out=True),
        "link_drift": TerminationTermCfg(func=terms.link_drift, params={**m, "threshold": 0.5}),
        "anchor_ori": TerminationTermCfg(
            func=track.bad_anchor_ori,
            params={"asset_cfg": SceneEntityCfg("robot"), "command_name": "motion", "threshold": 1.0},
        ),
    }
    sensors = (scan, feet)
    if s.head_depth is not None:
        from videomimic_offline.training import head_camera

        sensors += (head_camera.head_depth_sensor_cfg(*s.head_depth),)
        observations["head_depth"] = ObservationGroupCfg(
            terms={"depth": ObservationTermCfg(func=head_camera.head_depth)}, concatenate_terms=True,
            enable_corruption=False,
        )  # fmt: skip
    return ManagerBasedRlEnvCfg(
        scene=SceneCfg(terrain=terrain, num_envs=num_envs or s.num_envs, entities={"robot": robot}, sensors=sensors),
        observations=observations,
        actions=actions,
        commands=commands,
        events=events,
        rewards=rewards,
        terminations=terminations,
        seed=cfg.seed,
        # Contact / constraint buffers sized from measurement, not guessed: robots left to fall and lie on a
        # 4 cm heightfield with 2 cm bumps peaked at 22 contacts per env on average (the pool is shared by
        # all envs) and 140 constraint rows in one env. Every solver kernel runs over njmax rows per env and
        # the collision kernels over nconmax * num_envs slots, so oversizing costs time on every step.
        sim=SimulationCfg(nconmax=40, njmax=250, mujoco=MujocoCfg(**physics.OPTIONS)),
        decimation=g1.DECIMATION,
        episode_length_s=s.episode_length_s,
    )
