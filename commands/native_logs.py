"""Drop the known start-up warnings that MediaPipe's native threads write straight to file descriptor 2.

Python's own stderr (progress bars, errors) is moved to a copy of the terminal's descriptor; fd 2 goes
to a pipe whose lines are relayed unless they are one of the known harmless native warnings.
"""

from __future__ import annotations

import os
import re
import sys
import threading

_NOISE = re.compile(
    rb"^(W0000 .*(inference_feedback_manager|landmark_projection_calculator)\.cc"
    rb"|WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate)"
)


def filter_native_logs() -> None:
    """Install the filter for this process (the CLI entry point calls it once)."""
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        read_end, write_end = os.pipe()
    except (OSError, ValueError, AttributeError):
        return
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)

    def relay() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not _NOISE.match(line):
                    os.write(terminal, line)

    threading.Thread(target=relay, name="native-log-filter", daemon=True).start()
