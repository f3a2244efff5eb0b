"""The one error the limits samplers raise: input dockwise cannot use, said in one line."""

from __future__ import annotations


class LimitsError(Exception):
    """Bad or missing usage data (a capture, a cgroup, a command, a Prometheus answer).

    The message is one line meant for the user as is: the command prints it and exits 2,
    never a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
