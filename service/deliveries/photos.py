"""Photo evidence of deliveries: checked by content (JPEG or PNG, not too many bytes or pixels),
kept once by its sha256 under the photo folder without the phone's GPS position, and evidence for
one delivery only: not the same file, nor the same picture re-encoded, with metadata added or a
pixel changed (a perceptual hash, compared across the program within ``PHOTO_DUPLICATE_DAYS``)."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
import warnings

import numpy as np
from flask import current_app
from sqlalchemy import select

from service.accounts.scope import Scope
from service.audit.service import record
from service.deliveries.models import OUTCOMES, Delivery, DeliveryPhoto
from service.deliveries.scheduling import cutoff_at
from service.deliveries.service import closed_day, own_delivery
from service.errors import Conflict, InvalidTransition, TooLarge, UnsupportedMedia
from service.extensions import db
from service.i18n import _l
from service.program import clock
from service.program.clock import today
from service.program.service import settings

JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
EXTENSION = {"jpeg": "jpg", "png": "png"}
MEDIA_TYPE = {"jpg": "image/jpeg", "png": "image/png"}
GPS_IFD = 0x8825  # the EXIF tag that holds the GPS position


def _image_kind(data: bytes) -> str:
    """``jpeg`` or ``png`` if ``data`` is one (its signature and a decoder's check), else refused;
    an image of more than ``PHOTO_MAX_PIXELS`` pixels is too large, whatever its bytes (a small
    file can unpack into gigabytes: Pillow's decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    kind = "jpeg" if data.startswith(JPEG) else "png" if data.startswith(PNG) else None
    if kind is None:
        raise UnsupportedMedia(_l("the photo must be a JPEG or PNG image"))
    max_pixels = current_app.config["PHOTO_MAX_PIXELS"]
    too_large = TooLarge(_l("the photo has more than %(value)s million pixels: send a smaller one",
                            value=format(max_pixels / 1e6, 'g')))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format.lower() != kind:
                    raise UnsupportedMedia(_l("the photo must be a JPEG or PNG image"))
                if image.width * image.height > max_pixels:
                    raise too_large
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(_l("the photo is not a readable %(value)s image", value=kind.upper())) from exc
    return kind


def _signed(value: int) -> int:
    """A 64-bit hash as a BIGINT column holds it."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _seen(data: bytes) -> tuple[int, bytes]:
    """What the picture shows (its perceptual hash, from the ``imagehash`` package's pHash of the
    decoded image) and the bytes to keep: the upload itself, or, when it carries the phone's GPS
    position in its EXIF and the program does not keep it on purpose (``PHOTO_KEEP_LOCATION``),
    the same image without it (a JPEG keeps its quantisation: no visible loss)."""
    import imagehash
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        try:  # verify() reads the headers only: a file cut off on a bad network fails here
            image.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise UnsupportedMedia(_l("the photo is cut off or damaged: take it and send it again")) from exc
        seen = _signed(int(str(imagehash.phash(image)), 16))
        exif = image.getexif()
        if current_app.config["PHOTO_KEEP_LOCATION"] or GPS_IFD not in exif:
            return seen, data
        del exif[GPS_IFD]
        kept = io.BytesIO()
        options = {"quality": "keep"} if image.format == "JPEG" else {}
        image.save(kept, format=image.format, exif=exif, **options)
        return seen, kept.getvalue()


def near_duplicate(seen: int, day, delivery_id: int) -> DeliveryPhoto | None:
    """A photo of another delivery within ``PHOTO_DUPLICATE_DAYS`` of ``day`` whose picture differs
    from ``seen`` by at most ``PHOTO_NEAR_BITS`` of its 64 bits: the same picture, whatever was
    done to its file. The window's hashes are compared in one pass (numpy), not one per row."""
    window = dt.timedelta(days=current_app.config["PHOTO_DUPLICATE_DAYS"])
    rows = db.session.execute(select(DeliveryPhoto.id, DeliveryPhoto.phash).where(
        DeliveryPhoto.delivery_date.between(day - window, day + window), DeliveryPhoto.phash.is_not(None),
        DeliveryPhoto.delivery_id != delivery_id)).all()
    if not rows:
        return None
    hashes = np.array([r.phash for r in rows], dtype=np.int64).view(np.uint64)
    bits = np.bitwise_count(hashes ^ np.array([seen], dtype=np.int64).view(np.uint64))
    nearest = int(np.argmin(bits))
    if bits[nearest] > current_app.config["PHOTO_NEAR_BITS"]:
        return None
    return db.session.get(DeliveryPhoto, rows[nearest].id)


def photo_folder() -> str:
    return current_app.config["PHOTO_FOLDER"] or os.path.join(current_app.instance_path, "photos")


def _photo_file(digest: str, extension: str) -> str:
    return os.path.join(photo_folder(), digest[:2], f"{digest}.{extension}")


def photo_file(delivery: Delivery) -> tuple[str, str] | None:
    """Where the delivery's photo is kept and its media type (as its content was checked), or None."""
    if delivery.photo_sha256 is None:
        return None
    for extension, media_type in MEDIA_TYPE.items():
        if os.path.exists(path := _photo_file(delivery.photo_sha256, extension)):
            return path, media_type
    return None


def attach_photo(delivery_id: int, data: bytes, *, scope: Scope) -> Delivery:
    """Keep a photo of the handover as evidence, stored once under the instance folder by its
    sha256 (``photos/ab/abcd....jpg``): JPEG or PNG by content, at most ``PHOTO_MAX_BYTES`` and
    ``PHOTO_MAX_PIXELS``.

    Evidence belongs to the meal as it happened: only a meal confirmed delivered or failed, and the
    stall adds it only on the meal's own day before the cut-off; after that only the
    program office may, and every upload is in the audit trail. A picture already evidence for
    another meal (the same file, or the same picture in another: ``near_duplicate``) is a 409 that
    names that meal if the caller may see it; sending the same one again changes nothing."""
    delivery = own_delivery(delivery_id, scope, for_update=True)
    if delivery.status not in OUTCOMES:
        hint = _l("confirm it first") if delivery.status == "scheduled" else _l("no evidence to add")
        raise InvalidTransition(_l("delivery %(delivery_id)s is %(status)s: %(hint)s",
                                   delivery_id=delivery_id, status=delivery.status, hint=hint),
                                delivery_status=delivery.status)
    program = settings()
    if not scope.everything and (delivery.date != today(program) or clock.now() >= cutoff_at(
            delivery.date, program)):
        closed, moments = closed_day(delivery.date, program)
        raise InvalidTransition(_l("%(closed)s; evidence after the cut-off is added by the program office",
                                   closed=closed),
                                delivery_status=delivery.status, **moments)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if len(data) > limit:
        raise TooLarge(_l("the photo is larger than %(value)s MB", value=limit // (1024 * 1024)))
    kind = _image_kind(data)
    seen, data = _seen(data)
    digest = hashlib.sha256(data).hexdigest()
    kept = db.session.scalar(select(DeliveryPhoto).where(DeliveryPhoto.sha256 == digest))
    if kept is None or kept.delivery_id != delivery.id:
        other = kept or near_duplicate(seen, delivery.date, delivery.id)
        if other is not None:
            visible = db.session.scalar(select(Delivery.id).where(Delivery.id == other.delivery_id,
                                                                  Delivery.visible_to(scope)))
            raise Conflict(_l("this picture is evidence for another meal already: take a photo of this handover"),
                           **({"existing_id": visible} if visible is not None else {}))
    if kept is None:
        db.session.add(DeliveryPhoto(sha256=digest, delivery_id=delivery.id, delivery_date=delivery.date,
                                     uploaded_by=scope.user_id, phash=seen))
    if delivery.photo_sha256 == digest:
        return delivery  # the same photo again: nothing changes
    path = _photo_file(digest, EXTENSION[kind])
    if not os.path.exists(path):
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:  # never a half-written file
            tmp.write(data)
        os.replace(tmp.name, path)
    record(db.session, [("photo", "delivery", delivery.id, {"photo_sha256": [delivery.photo_sha256, digest]})],
           actor=(scope.user_id, scope.label))
    delivery.photo_sha256 = digest
    db.session.flush()
    return delivery
