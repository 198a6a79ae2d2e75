"""Tercel: Kestra's execution model as one small, fast Python service."""

from __future__ import annotations

__version__ = "0.1.0"
