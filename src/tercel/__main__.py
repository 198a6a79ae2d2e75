from __future__ import annotations

from tercel import cli

raise SystemExit(cli.main())
