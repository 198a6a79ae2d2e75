"""GraphQL resolvers: thin functions that parse arguments, call a service or a query, and map."""

from __future__ import annotations
