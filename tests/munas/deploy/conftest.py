"""Every test here converts with the deploy extra: skipped without it, failed where it is required."""

from __future__ import annotations

import pytest

from .support import require_deploy_extra


@pytest.fixture(autouse=True)
def _deploy_extra() -> None:
    require_deploy_extra()
