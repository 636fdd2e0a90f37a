"""Photo evidence of deliveries: checked by content (JPEG or PNG, not too many bytes or pixels),
kept once by its sha256 under the photo folder, and evidence for one delivery only."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings

from flask import current_app
from sqlalchemy import select

from service.accounts.scope import Scope
from service.audit.service import record
from service.deliveries.models import OUTCOMES, Delivery, DeliveryPhoto
from service.deliveries.scheduling import cutoff_at
from service.deliveries.service import closed_day, own_delivery
from service.errors import Conflict, InvalidTransition, TooLarge, UnsupportedMedia
from service.extensions import db
from service.program import service as program_service
from service.program.service import settings, today

JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
EXTENSION = {"jpeg": "jpg", "png": "png"}
MEDIA_TYPE = {"jpg": "image/jpeg", "png": "image/png"}


def _image_kind(data: bytes) -> str:
    """``jpeg`` or ``png`` if ``data`` is one (its signature and a decoder's check), else refused;
    an image of more than ``PHOTO_MAX_PIXELS`` pixels is too large, whatever its bytes (a small
    file can unpack into gigabytes: Pillow's decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    kind = "jpeg" if data.startswith(JPEG) else "png" if data.startswith(PNG) else None
    if kind is None:
        raise UnsupportedMedia("the photo must be a JPEG or PNG image")
    max_pixels = current_app.config["PHOTO_MAX_PIXELS"]
    too_large = TooLarge(f"the photo has more than {max_pixels / 1e6:g} million pixels: send a smaller one")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format.lower() != kind:
                    raise UnsupportedMedia("the photo must be a JPEG or PNG image")
                if image.width * image.height > max_pixels:
                    raise too_large
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"the photo is not a readable {kind.upper()} image") from exc
    return kind


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
    program office may, and every upload is in the audit trail. An image already
    evidence for another delivery is refused; sending the same one again changes nothing."""
    delivery = own_delivery(delivery_id, scope, for_update=True)
    if delivery.status not in OUTCOMES:
        hint = "confirm it first" if delivery.status == "scheduled" else "no evidence to add"
        raise InvalidTransition(f"delivery {delivery_id} is {delivery.status}: {hint}", delivery_status=delivery.status)
    program = settings()
    if not scope.everything and (delivery.date != today(program) or program_service.now() >= cutoff_at(
            delivery.date, program)):
        closed, moments = closed_day(delivery.date, program)
        raise InvalidTransition(f"{closed}; evidence after the cut-off is added by the program office",
                                delivery_status=delivery.status, **moments)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if len(data) > limit:
        raise TooLarge(f"the photo is larger than {limit // (1024 * 1024)} MB")
    kind = _image_kind(data)
    digest = hashlib.sha256(data).hexdigest()
    kept = db.session.scalar(select(DeliveryPhoto).where(DeliveryPhoto.sha256 == digest))
    if kept is not None and kept.delivery_id != delivery.id:
        raise Conflict("this photo is evidence for another delivery already: take a photo of this handover")
    if kept is None:
        db.session.add(DeliveryPhoto(sha256=digest, delivery_id=delivery.id, delivery_date=delivery.date,
                                     uploaded_by=scope.user_id))
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
