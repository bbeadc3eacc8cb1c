"""ament_python packaging for the offline library; tools become `ros2 run videomimic_offline <tool>`."""

from setuptools import find_packages, setup

PACKAGE = "videomimic_offline"

# One entry per console tool, grouped by pipeline area: "<tool> = <module>:<function>".
TOOLS: dict[str, list[str]] = {
    "common": [
        "vm_info = videomimic_offline.info:main",
        "vm_batch = videomimic_offline.batch:main",
        "vm_main_job = videomimic_offline.mainjob:main",
    ],
    "real2sim": [
        "reconstruct = videomimic_offline.real2sim.tools:reconstruct_main",
        "r2s_persons = videomimic_offline.real2sim.tools:persons_main",
        "r2s_keypoints = videomimic_offline.real2sim.tools:keypoints_main",
        "r2s_cameras = videomimic_offline.real2sim.tools:cameras_main",
        "r2s_optimize = videomimic_offline.real2sim.tools:optimize_main",
        "r2s_scene = videomimic_offline.real2sim.tools:scene_main",
        "r2s_view = videomimic_offline.real2sim.tools:view_main",
        "make_synthetic_clip = videomimic_offline.real2sim.synthetic.clip:main",
    ],
    "retarget": [
        "retarget = videomimic_offline.retarget.tool:main",
    ],
    "training": [
        "train_mpt = videomimic_offline.training.tools:train_mpt",
        "train_teacher = videomimic_offline.training.tools:train_teacher",
        "distill_student = videomimic_offline.training.tools:distill_student",
        "finetune_student = videomimic_offline.training.tools:finetune_student",
        "export_student = videomimic_offline.training.tools:export_student_tool",
        "eval_policy = videomimic_offline.training.tools:eval_policy",
        "sim2sim = videomimic_offline.training.tools:sim2sim",
        "plot_training = videomimic_offline.training.tools:plot_training",
        "make_mocap = videomimic_offline.training.tools:make_mocap",
    ],
    "seeing": [
        "render_egoview = videomimic_offline.egoview.tool:main",
    ],
}

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "tests"]),
    package_data={PACKAGE: ["assets/**/*", "**/*.yaml", "**/*.json"]},
    include_package_data=True,
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="VideoMimic ROS 2 developers",
    maintainer_email="dev@videomimic-ros2.invalid",
    description="Offline VideoMimic library and tools (no ROS needed to import).",
    license="MIT",
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": [t for group in TOOLS.values() for t in group]},
)
