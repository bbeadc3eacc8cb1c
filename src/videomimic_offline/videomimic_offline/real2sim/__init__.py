"""Real-to-sim: a monocular video -> the person's metric, gravity-aligned motion + the scene.

Entry point: :func:`videomimic_offline.real2sim.pipeline.run_pipeline`; configuration:
:class:`videomimic_offline.real2sim.config.PipelineConfig`. ``synthetic/`` generates benchmark clips.
"""
