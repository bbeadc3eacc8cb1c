"""One exception hierarchy for every user-facing mistake.

Library code raises these with a message that says what went wrong *and what to do*; the CLI
wrapper (:func:`videomimic_offline.cli.run_tool`) prints that one line and exits non-zero,
instead of a traceback.
"""


class VideomimicError(Exception):
    """Base of all expected, user-actionable errors."""

    exit_code = 2


class InputError(VideomimicError):
    """A user-supplied file or value is missing, corrupt or unusable."""


class ConfigError(VideomimicError):
    """A configuration or parameter file is wrong."""


class ArtifactError(VideomimicError):
    """An artifact between stages is missing, of an unknown version, or inconsistent."""


class IncompatibleError(VideomimicError):
    """Two artifacts disagree (joint order, observation layout, robot variant)."""


class BackendUnavailableError(VideomimicError):
    """A heavy backend was requested but its package or local weights are not there."""


class NumericalError(VideomimicError):
    """A computation produced NaN/inf or diverged."""
