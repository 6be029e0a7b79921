import builtins

import pytest

from munas.errors import UserError
from munas.search import screening
from munas.search.screening import NoScreener, Screener, create_screener, register_screener


def test_none_is_built_in_and_trains_the_first_child():
    screener = create_screener("none")
    assert isinstance(screener, NoScreener)
    assert screener.choose(["a", "b"], fitness=None) == 0


def test_registry_creates_registered_screeners_with_kwargs(monkeypatch):
    monkeypatch.setattr(screening, "_REGISTRY", dict(screening._REGISTRY))

    @register_screener("last")
    class Last(Screener):
        def choose(self, children, fitness):
            return len(children) - 1

    screener = create_screener("last", children_per_step=4)
    assert screener.children_per_step == 4
    assert screener.choose([1, 2, 3], None) == 2
    assert "last" in screening.list_screeners()


def test_unknown_names_and_bad_k_are_user_errors():
    with pytest.raises(UserError, match="unknown surrogate 'magic'"):
        create_screener("magic")
    with pytest.raises(UserError, match="--screen"):
        create_screener("none", children_per_step=0)


def test_gnn_is_imported_lazily_with_a_clear_error_when_missing(monkeypatch):
    monkeypatch.setattr(screening, "_REGISTRY", {k: v for k, v in screening._REGISTRY.items() if k != "gnn"})
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "surrogate":
            raise ImportError("No module named 'surrogate'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(UserError, match="--surrogate gnn needs the surrogate package"):
        create_screener("gnn")
