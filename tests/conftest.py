"""
Shared test settings: hypothesis profiles and a clean slate for global signal receivers.
"""

from __future__ import annotations

import os

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
