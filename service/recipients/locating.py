"""Placing a recipient on the map: GPS if given, else a geocoder, else the village centre.

The geocoder is any geopy geocoder, chosen by configuration (``GEOCODER``) and kept in
``app.extensions["rantang.geocoder"]``; tests put a double there. A geocoder that is missing,
fails, times out or answers with a place far from the village never fails the request: the
village centre is used, and ``location_source`` says so.
"""
from __future__ import annotations

import concurrent.futures
import logging
from dataclasses import dataclass

from flask import Flask, current_app
from geopy.distance import geodesic
from geopy.geocoders import get_geocoder_for_service

from service.program.models import Area

log = logging.getLogger(__name__)
EXTENSION = "rantang.geocoder"
# One worker thread bounds every lookup by the timeout even where a socket timeout would not (DNS).
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="geocoder")


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    source: str  # gps | geocoded | village


def init_app(app: Flask) -> None:
    name = app.config["GEOCODER"]
    geocoder = None
    if name:
        cls = get_geocoder_for_service(name)
        geocoder = cls(
            user_agent=app.config["GEOCODER_USER_AGENT"],
            timeout=app.config["GEOCODER_TIMEOUT"],
            **app.config["GEOCODER_OPTIONS"],
        )
    app.extensions[EXTENSION] = geocoder


def locate(address: str, village: Area) -> Location:
    fallback = Location(village.latitude, village.longitude, "village")
    geocoder = current_app.extensions.get(EXTENSION)
    if geocoder is None:
        return fallback
    parts = [address, village.name]
    if village.parent is not None:
        parts.append(village.parent.name)
    parts.append(current_app.config["GEOCODER_REGION"])
    query = ", ".join(p for p in parts if p)
    timeout = current_app.config["GEOCODER_TIMEOUT"]
    future = _pool.submit(geocoder.geocode, query, exactly_one=True)
    try:
        found = future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        log.warning("geocoder timed out after %ss for %r", timeout, query)
        return fallback
    except Exception as exc:  # any failure of an outside service falls back, by design
        log.warning("geocoder failed for %r: %s", query, exc)
        return fallback
    if found is None:
        return fallback
    point = (found.latitude, found.longitude)
    if geodesic(point, (village.latitude, village.longitude)).km > current_app.config["GEOCODER_MAX_KM_FROM_VILLAGE"]:
        log.info("geocoder answered %s for %r, too far from %s: village centre used", point, query, village.name)
        return fallback
    return Location(found.latitude, found.longitude, "geocoded")
