"""SIGINT/SIGTERM, caught by the node itself from its first instruction to its exit.

A terminal's Ctrl-C (and ``timeout -s INT``) signals the whole process group, and ``ros2 launch``
then signals each node again. rclpy's own handling turns the second SIGINT into a
``KeyboardInterrupt`` wherever the node happens to be (inside ``destroy_node``, an import, a
publish from a callback) and shuts the context down under running callbacks ("publisher's
context is invalid"). Nodes therefore start rclpy with ``SignalHandlerOptions.NO`` and take the
signals here: the first one asks for a clean stop, later ones are only counted, so a node exits 0
however many times, and whenever, it is signalled. This module imports nothing heavy, so the
entry point can install it before importing rclpy, numpy or MuJoCo.
"""

from __future__ import annotations

import signal
import threading


class StoppedDuringStart(Exception):  # noqa: N818 - a request, not an error
    """Raised by a node's constructor between slow start-up steps when a stop was already asked for."""


class StopRequest:
    """Set by SIGINT/SIGTERM; the spin loop and long start-ups poll it.

    A plain flag, not a ``threading.Event``: the handler runs on the main thread between any two
    bytecodes, and a lock taken there (``Event.set``) can be the one the main thread already holds
    (Python's signal docs warn of exactly this deadlock).
    """

    def __init__(self) -> None:
        self._stop = False
        self.signals: list[int] = []

    def install(self) -> None:
        """Take SIGINT and SIGTERM from now on (main thread only; idempotent)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.signals.append(signum)
        self._stop = True

    def request(self) -> None:
        """Ask for the same clean stop from code (a failed worker thread)."""
        self._stop = True

    def ignore_from_now(self) -> None:
        """Ignore SIGINT/SIGTERM for the rest of the process: it is exiting already.

        At interpreter finalization Python resets signals that have a Python handler to the
        default disposition, so a second Ctrl-C arriving while rclpy and DDS tear down would kill
        the process with SIGINT (``ros2 launch``: "process has died [exit code -2]"). Ignored
        signals are left ignored.
        """
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)

    @property
    def requested(self) -> bool:
        return self._stop

    def check(self) -> None:
        """Call between slow start-up steps (loading a scene, compiling a model): a Ctrl-C during a
        start-up of many seconds ends it there instead of after it (launch escalates to SIGKILL)."""
        if self._stop:
            raise StoppedDuringStart


#: The process's one stop request (a node process runs one node).
STOP = StopRequest()
