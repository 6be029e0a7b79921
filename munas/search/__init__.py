"""Multi-objective aging-evolution search (spec §4), its run store and its Pareto front.

The loop (:mod:`aging_evolution`) talks to three small abstractions and nothing else:
an :class:`~munas.search.executors.Executor` that trains candidates (in-process, a local
process pool, or Ray), a :class:`~munas.search.screening.Screener` that may pick which of K
children to train (``"none"`` trains the only child; a predictor plug-in such as ``"gnn"`` or ``"rf"``
screens K children through :class:`~munas.search.screening.PredictorScreener`),
and a :class:`~munas.search.store.RunStore` that keeps every finished candidate crash-safe.
"""
