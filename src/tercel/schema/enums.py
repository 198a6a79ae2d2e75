"""GraphQL enums: the domain's own enums where they exist, new ones for API-only choices."""

from __future__ import annotations

import enum

import strawberry

from tercel.engine import model, states

__all__ = [
    "ExecutionOrderField",
    "LogLevel",
    "MetricType",
    "OrderDirection",
    "StateEntity",
    "StateType",
    "TaskRunOrderField",
]

# The domain enums are the GraphQL enums (same member names): registered, then re-exported.
strawberry.enum(states.StateType, name="StateType")
strawberry.enum(states.Entity, name="StateEntity")
strawberry.enum(model.LogLevel, name="LogLevel")
StateType = states.StateType
StateEntity = states.Entity
LogLevel = model.LogLevel


@strawberry.enum
class MetricType(enum.Enum):
    COUNTER = "counter"
    TIMER = "timer"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class ExecutionOrderField(enum.Enum):
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    DURATION = "DURATION"
    NAMESPACE = "NAMESPACE"
    FLOW_ID = "FLOW_ID"
    STATE = "STATE"


@strawberry.enum
class TaskRunOrderField(enum.Enum):
    CREATION = "CREATION"
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    DURATION = "DURATION"
    STATE = "STATE"
