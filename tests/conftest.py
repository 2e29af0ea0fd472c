"""
Shared test settings: hypothesis profiles and a clean slate for global signal receivers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

# "ci" (the default under CI=true) runs more examples than a quick local run; neither has a
# deadline, since timing on a shared two-core machine is noise, not a property.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=200
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """
    The perftrack command configures structlog for its process; in the test process that
    would outlive the test, so every test starts and ends with structlog's defaults.
    """
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
