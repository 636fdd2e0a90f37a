"""Distances on the earth, as the program measures them: geopy's geodesic (WGS-84) for every figure
stored and shown, a local ellipsoidal formula for arrays of many pairs (equal to it, rounded to
the metre), and a box in SQL that holds every point within a distance of some points.

The lowest layer of ``service``: stalls, recipients and the assignment of one to the other all
measure with it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from geopy.distance import geodesic
from sqlalchemy import and_

from service.i18n import Lazy, _l

# WGS-84, as geopy's geodesic uses.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_GEODESIC = geodesic()
_KM_PER_DEGREE_LAT = 110.574


def distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Distances in metres between points (arrays), on the WGS-84 ellipsoid.

    The plane tangent at the mid-latitude with the ellipsoid's meridional and prime-vertical radii
    of curvature: under a millimetre from the true geodesic for points 15 km apart.
    """
    lat1, lon1, lat2, lon2 = (np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2))
    phi = np.radians((lat1 + lat2) / 2)
    sin_phi = np.sin(phi)
    w = np.sqrt(1 - _E2 * sin_phi * sin_phi)
    meridional = _A * (1 - _E2) / w**3
    prime_vertical = _A / w
    dy = np.radians(lat2 - lat1) * meridional
    dx = np.radians(lon2 - lon1) * prime_vertical * np.cos(phi)
    return np.hypot(dx, dy)


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """geopy's geodesic distance (WGS-84), in km rounded to the metre: the figure stored and shown."""
    return round(_GEODESIC.measure((lat1, lon1), (lat2, lon2)), 3)


# The local distance is within a millimetre of the geodesic up to this range; see geodesic_km_many.
_LOCAL_EXACT_M = 15_000.0
_ROUNDING_MARGIN_M = 0.002


CHECK_COORDINATES = _l("check the coordinates (latitude first, negative south of the equator)")


def too_far(latitude: float, longitude: float, centre, limit_km: float) -> Lazy | None:
    """Why a point cannot be of a place whose centre is ``centre`` (a village: ``name``,
    ``latitude``, ``longitude``): farther than ``limit_km``, it is taken for swapped, mistyped or
    default coordinates. None when it is near enough."""
    km = geodesic_km(latitude, longitude, centre.latitude, centre.longitude)
    if km <= limit_km:
        return None
    return _l("the point is %(km)s km from the centre of %(village)s (at most %(limit)s km): %(check)s",
              km=format(km, ".0f"), village=centre.name, limit=format(limit_km, "g"), check=CHECK_COORDINATES)


def nearest(latitude: float, longitude: float, places, limit_km: float):
    """Of ``places`` (with ``latitude`` and ``longitude``), the nearest to the point within
    ``limit_km``, and its distance in km (``geodesic_km``); None when none is that near. Ties go to
    the first given."""
    best = None
    for place in places:
        km = geodesic_km(latitude, longitude, place.latitude, place.longitude)
        if km <= limit_km and (best is None or km < best[1]):
            best = (place, km)
    return best


def geodesic_km_many(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> list[float]:
    """``geodesic_km`` for many pairs, equal to it pair by pair, at a fraction of the cost.

    geopy's geodesic costs about 45 microseconds a pair (2 s for a rebalance's 50,000). The local
    ellipsoidal distance is within 1 mm of it up to 15 km, so wherever that distance is more than
    2 mm from a half metre, rounding it to the metre gives exactly the figure geopy's would; geopy
    itself is asked for the rest (about 1 pair in 250) and for anything farther than 15 km. A test
    holds the two to equality.
    """
    metres = distance_m(lat1, lon1, lat2, lon2)
    whole = np.rint(metres)
    sure = (metres <= _LOCAL_EXACT_M) & (np.abs(np.abs(metres - np.floor(metres)) - 0.5) > _ROUNDING_MARGIN_M)
    out = (whole / 1000).tolist()
    for i in np.flatnonzero(~sure).tolist():
        out[i] = geodesic_km(float(lat1[i]), float(lon1[i]), float(lat2[i]), float(lon2[i]))
    return out


def near(model, points: Sequence[tuple[float, float]], km: float):
    """SQL: the rows of ``model`` (with ``latitude`` and ``longitude``) inside one box that holds
    every point within ``km`` of any of ``points`` (the exact distance is checked afterwards, on
    the few rows inside)."""
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    widest = max(abs(lat) for lat in lats)  # a degree of longitude is shortest there
    dlat = km / _KM_PER_DEGREE_LAT * 1.01
    dlon = km / (111.320 * max(math.cos(math.radians(widest)), 0.01)) * 1.01
    return and_(model.latitude.between(min(lats) - dlat, max(lats) + dlat),
                model.longitude.between(min(lons) - dlon, max(lons) + dlon))


# What the public's volunteers are shown of where someone lives is worked out from cells, never the
# exact point: a grid of CELL_DEGREES (about 1.1 km on a side in Indonesia), each point taken to the
# centre of its cell. A figure computed from two cells changes only when one of the two points
# changes cell, so no number of calls, from however many points, tells more than the cell.
CELL_DEGREES = 0.01
# The farthest a point lies from its cell's centre: half the diagonal of a cell, a degree being at
# most 111.7 km (of latitude, at the poles; a degree of longitude is shorter but at the equator).
CELL_REACH_KM = CELL_DEGREES * 111.7 * math.sqrt(2) / 2


def cells_of(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """The centres of the cells that hold these points (arrays or numbers)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    return ((np.floor(lat / CELL_DEGREES) + 0.5) * CELL_DEGREES, (np.floor(lon / CELL_DEGREES) + 0.5) * CELL_DEGREES)


# k-d trees work on a sphere; the ellipsoid's local radii differ from it by under 0.7%, so a search
# within a distance times SPHERE_MARGIN holds every point within that distance.
SPHERE_M = 6371008.8
SPHERE_MARGIN = 1.01


def sphere_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points as x, y, z in metres on the sphere: a straight line between two is never longer than
    the distance along the ground, for a k-d tree (``scipy.spatial.cKDTree``)."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi))) * SPHERE_M
