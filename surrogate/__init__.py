"""GNN surrogate: graph encoding of candidates, ensemble GNN, training, and the ``gnn`` screener.

Importing the package registers the ``gnn`` screener with :mod:`munas.search.screening`.
"""

from munas.surrogate import screening as _screening  # noqa: F401  (registers "gnn")
