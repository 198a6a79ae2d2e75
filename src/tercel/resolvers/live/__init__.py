"""The live streams of the API, in one place: the subscriptions and how they reach a client.

- `loop`: the one replay → live → catch-up loop of the row streams (`stateChanges`, `logs`),
  with the helpers every stream shares (cursor parsing, registration, completion);
- `streams`: the three subscription resolvers (`executionUpdated` keeps its own snapshot loop);
- `matcher`: the `StateChangeFilter` applied to live rows;
- `fanout`: one operation's scope, and shared events written as ready frames;
- `messages`, `transport_ws`, `legacy_ws`: the websocket handlers of both protocols, typed with
  Strawberry's message types, with what they check in an operation message;
- `http`: subscriptions over HTTP (Server-Sent Events or a 400) and the JSON body check.

The algorithm, and why nothing is lost or repeated, is in
`docs/semantics.md#subscriptions` (gap-free resume) and `docs/architecture.md#streams`.
"""

from __future__ import annotations
