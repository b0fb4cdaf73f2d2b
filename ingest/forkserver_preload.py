"""The offline transcriber's forkserver imports this first (`set_forkserver_preload`): the
forkserver then ends with the process that started it, and so do the decoder processes it
forks (`ingest.lifeline`). Importing it anywhere else would tie that process to its parent.

Without this the forkserver outlives a killed worker: every decoder process it forked holds
the pipe whose end tells it to stop, and they wait for work that never comes.
"""

from __future__ import annotations

from ingest.lifeline import die_with_parent

die_with_parent()
