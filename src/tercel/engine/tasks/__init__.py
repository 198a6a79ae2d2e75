"""Task types: the registry, the property specs the flow loader validates against, and the
runnable task implementations."""

from __future__ import annotations
