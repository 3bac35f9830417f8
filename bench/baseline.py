"""Runs on the data bench/README.md's baseline read (``python -m bench --baseline-data``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# The coordinators the integration had when bench/README.md's baseline was measured.
BASELINE_COORDINATORS = frozenset(
    {
        "SigenAccountCoordinator",
        "SigenLiveCoordinator",
        "SigenSettingsCoordinator",
        "SigenSmartLoadCoordinator",
        "SigenPushCoordinator",
    }
)


@contextlib.contextmanager
def baseline_data() -> Iterator[list[str]]:
    """Stations with the baseline's coordinators only (``python -m bench --baseline-data``).

    The data added since (issues 17-20: battery/grid settings and manual control, EV
    chargers, forecast and prices, history) was not read by the baseline of
    bench/README.md; without it a run reads what the baseline read, so that its figures
    compare like with like. Every other coordinator class the account coordinator
    creates is replaced by ``None`` at its import site (a station without that data;
    the EV chargers are only listed for a station with controls). Yields the names
    left out. The default run reads everything.
    """
    import importlib
    from unittest.mock import patch

    account = importlib.import_module("custom_components.sigen_cloud.coordinator.account")
    base = importlib.import_module("custom_components.sigen_cloud.coordinator.base")
    left_out = sorted(
        name
        for name, value in vars(account).items()
        if isinstance(value, type)
        and issubclass(value, base.SigenCoordinator)
        and value is not base.SigenCoordinator
        and name not in BASELINE_COORDINATORS
    )
    with contextlib.ExitStack() as stack:
        for name in left_out:
            stack.enter_context(patch.object(account, name, lambda *_args, **_kwargs: None))
        yield left_out
