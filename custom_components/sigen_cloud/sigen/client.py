"""``Sigen``: the end-user ("app") API of Sigenergy's cloud, as the mySigen app uses it.

Usage, as in the original ``sigen`` library::

    sigen = Sigen(username, password, region="eu")
    await sigen.async_initialize()
    print(await sigen.get_energy_flow())
    await sigen.set_operational_mode_sigen_ai_mode()
    await sigen.enable_smart_load_immersion()
    await sigen.close()

The same client reaches the API by area: ``sigen.stations``, ``sigen.modes``,
``sigen.smart_loads``, ``sigen.battery``, ``sigen.grid`` and ``sigen.control``
(:mod:`.app`). Login is the OAuth password grant of ``auth/oauth/token`` with the
password encrypted as the web app does; the access token
is refreshed a minute before it expires, and a request the cloud answers with 401 is
retried once after a refresh (or, if the refresh fails, a new login). Concurrent calls
share one login or refresh (:mod:`._auth`).
"""

from __future__ import annotations

from .compat import OriginalApi


class Sigen(OriginalApi):
    """Client of the end-user API for one Sigen account.

    ``region`` is a key of :data:`~sigen.regions.REGIONS` (``eu``, ``apac``, ``aus``,
    ``us``, ``jp``, ``cn``); ``base_url`` overrides the region's host (for the
    simulator), ``nb_base_url`` the northbound host (default: the region's, or
    ``base_url`` when that is given). ``session`` is an :class:`aiohttp.ClientSession`
    to reuse and is never closed here; without one the client creates its own, closed
    by :meth:`close` or ``async with``.

    Every request sends ``user_agent`` (the cloud's firewall rejects any User-Agent
    containing "aiohttp") and the web app's headers (``client-server``, ``lang``,
    ``sg-*``). The typed client is :class:`~sigen.app.SigenAppClient`; this class adds
    the original library's calls (:mod:`.compat`).
    """


__all__ = ["Sigen"]
