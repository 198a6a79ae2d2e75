"""One execution in memory: its objects, containers and plans, the changes to commit, its
expression context, and rebuilding it from stored rows. No asyncio and no I/O."""

from __future__ import annotations
