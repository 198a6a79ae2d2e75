"""The API's read side of the database, beside the engine's single writer.

- `connection`: the pooled, `query_only` read connection (`Reader`);
- `rows`: execution and task-run rows, decoded, and the assembly of a task run;
- `executions`: pages with keyset cursors, counts, and batched loads for the DataLoaders;
- `streams`: the state-change and log rows the streams and their polling twins serve;
- `snapshots`: a whole execution read fresh, for `executionUpdated`;
- `flows`, `stats`: flow revisions and namespaces; dashboard statistics;
- `filters`, `pagination`: search filters as SQL predicates; keyset cursors.

The engine's own reads (recovery, quarantine) use the writer connection (`storage.reader`).
"""

from __future__ import annotations
