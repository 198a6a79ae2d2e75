"""Triggers (docs/semantics.md#triggers), run by `tercel server`: Schedule dates (`schedules`), Flow
triggers (`flowtriggers`), the latest flows they read (`flowindex`), what starts and stops them
(`hub`), and the operations the API and the webhook route call (`operations`). A layer above
`engine.service`: triggers start executions through it."""
