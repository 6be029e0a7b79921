"""Executors: an unreachable or malformed Ray address is a clear error at once, never a silent exit."""

from __future__ import annotations

import socket

import pytest

from munas.errors import UserError
from munas.search.config import SearchOptions
from munas.search.executors import check_ray_address
from munas.search.loop import run_search


def _port_where_nothing_listens() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_ray_address_is_a_one_line_error():
    with pytest.raises(UserError, match=r"cannot reach the Ray cluster at '127\.0\.0\.1:\d+' \(Connection refused\)"):
        check_ray_address(f"127.0.0.1:{_port_where_nothing_listens()}")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.1:port", ":6379"])
def test_a_malformed_ray_address_is_a_one_line_error(address):
    with pytest.raises(UserError, match="expected auto or HOST:PORT"):
        check_ray_address(address)


def test_a_search_that_cannot_reach_its_cluster_leaves_no_run_behind(tmp_path):
    pytest.importorskip("ray")
    options = SearchOptions(run="nowhere", dataset="digits", budget=2, executor="ray",
                            address=f"127.0.0.1:{_port_where_nothing_listens()}")
    with pytest.raises(UserError, match="cannot reach the Ray cluster"):
        run_search(options, runs_root=tmp_path)
    assert not (tmp_path / "nowhere").exists()  # the name is free: the same search may start again
    with pytest.raises(UserError, match="cannot reach the Ray cluster"):
        run_search(options, runs_root=tmp_path)


@pytest.mark.parametrize("address", [None, "auto"])
def test_the_cluster_ray_would_join_by_itself_is_checked_too(monkeypatch, address):
    """$RAY_ADDRESS (or the last cluster started here) may name a head that has died since."""
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{_port_where_nothing_listens()}")
    with pytest.raises(UserError, match=r"cannot reach the Ray cluster at '127\.0\.0\.1:\d+'"):
        check_ray_address(address)
