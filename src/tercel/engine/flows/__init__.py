"""Loading and validating flows: YAML text to the immutable `model.Flow`, every problem at once,
and resolving given input values against a flow's definitions."""

from __future__ import annotations
