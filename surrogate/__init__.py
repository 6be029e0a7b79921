"""Predictors of a candidate's validation error, installed as ``munas.surrogate``.

The GNN surrogate (graph encoding, ensemble, training, persistence) and the flat-feature
baselines. Each predictor is declared as an entry point of ``munas.predictors`` in
``pyproject.toml`` (``gnn``, ``rf``, ``mlp``); the search loads it only when
``--surrogate`` names it, and screens with it through
:class:`munas.search.screening.PredictorScreener`.
"""
