"""Exceptions raised by the library; `commands/` turns them into messages and exit codes."""


class TryonError(Exception):
    """The work failed (exit code 1)."""

    exit_code = 1


class InputError(TryonError):
    """Bad usage or bad input: a missing, unreadable or unsupported file (exit code 2)."""

    exit_code = 2


class ModelMissingError(InputError):
    """A model's weights are not where they were looked for (exit code 2)."""


class PartialInputError(TryonError):
    """An input decoded only in part (a damaged or cut video); the work is refused (exit code 1)."""


class FrameError(InputError):
    """A frame cannot be processed (no person, the body part is not in view). Raised without a path;
    `open_target` names the target (exit code 2 for a still image; video planners skip the frame)."""
