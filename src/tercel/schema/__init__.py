"""GraphQL types only: object types thin over domain values and read rows, inputs, enums,
scalars, error members, the per-request context the types read through, and the extensions
(error masking, checks made before validation). The root types and `build_schema` are in
`tercel.resolvers`, which imports this package and never the other way round."""

from __future__ import annotations
