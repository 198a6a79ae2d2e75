"""The engine: pure state rules, the flow model, the scheduler and the task types."""

from __future__ import annotations
