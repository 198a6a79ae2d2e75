"""The engine at run time: the loop and its commits, the worker slots and the runner of one
attempt, recovery after a crash, the flow cache, quarantine and the subscription broker."""

from __future__ import annotations
