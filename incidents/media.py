"""Images and videos attached to incidents: what an upload really is (from its bytes, never its name or the browser's
header), its fingerprints (SHA-256; for images a perceptual hash), and the public copy of an image, written again
without any of its metadata.

Videos are recognised by their signatures only (filetype): nothing here can rewrite a video without its metadata, so
a video's public copy is made only once a member of staff has said they checked it (docs/editors.md, "Media").
"""

import hashlib
import io
from dataclasses import dataclass

import filetype
import imagehash
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# Pillow's format name → the content type stored and served; the only images accepted.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
VIDEO_TYPES = {"video/mp4", "video/webm"}
TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "video/mp4": "MP4", "video/webm": "WebM"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "video/mp4": "mp4", "video/webm": "webm"}
# filetype reads at most this many bytes of a file's start.
SIGNATURE_BYTES = 8192
READ_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class MediaFacts:
    """What an accepted upload is: kind ("image" / "video"), content type, size in bytes, SHA-256 (hex), width and
    height (images), perceptual hash (images: imagehash's 64-bit pHash as a signed integer, as PostgreSQL's bigint
    keeps it)."""

    kind: str
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    perceptual_hash: int | None = None


def _refused(message):
    # Already worded (no params): a file name holding "%(" must not be formatted a second time.
    return ValidationError(message, code="invalid_media")


def _sha256(upload):
    digest = hashlib.sha256()
    upload.seek(0)
    while block := upload.read(READ_BLOCK):
        digest.update(block)
    upload.seek(0)
    return digest.hexdigest()


def signed_hash(image_hash):
    """imagehash's 64 bits as a signed 64-bit integer (a bigint column); hamming distance is unchanged."""
    value = int(str(image_hash), 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def perceptual_hash(image):
    return signed_hash(imagehash.phash(image))


def hash_distance(first, second):
    """Bits that differ between two signed 64-bit perceptual hashes."""
    return ((first ^ second) & ((1 << 64) - 1)).bit_count()


def _too_big(name, size, kind):
    limit = settings.MEDIA_MAX_BYTES[kind]
    if size <= limit:
        return None
    message = (
        _("“%(name)s” is %(size)s; an image may be at most %(limit)s.")
        if kind == "image"
        else _("“%(name)s” is %(size)s; a video may be at most %(limit)s.")
    )
    return _refused(message % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)})


def media_analyse(upload) -> MediaFacts:
    """The facts of an uploaded file, or a ValidationError naming it: not an allowed type (a renamed program, a GIF),
    too big for its type, or an image Pillow cannot read to the end (damaged or cut short)."""
    name = getattr(upload, "name", "") or _("the file")
    size = upload.size
    allowed = ", ".join(TYPE_NAMES[content_type] for content_type in settings.MEDIA_ALLOWED_TYPES)
    not_allowed = _refused(
        _("“%(name)s” is not a file of a type accepted here (%(types)s), whatever its name says.")
        % {"name": name, "types": allowed},
    )
    damaged = _("“%(name)s” looks like an image but cannot be read: it may be damaged or cut short.")
    upload.seek(0)
    head = upload.read(SIGNATURE_BYTES)
    upload.seek(0)
    guessed = filetype.guess(head)
    guessed_type = guessed.mime if guessed else ""
    if guessed_type in VIDEO_TYPES:
        if guessed_type not in settings.MEDIA_ALLOWED_TYPES:
            raise not_allowed
        if problem := _too_big(name, size, "video"):
            raise problem
        return MediaFacts(kind="video", content_type=guessed_type, size=size, sha256=_sha256(upload))
    if problem := _too_big(name, size, "image"):
        raise problem
    too_many_pixels = _(
        "“%(name)s” is %(width)s × %(height)s pixels; an image may have at most %(limit)s million pixels."
    )
    try:
        image = Image.open(upload)
    except Image.DecompressionBombError:
        # Pillow's own guard (twice its MAX_IMAGE_PIXELS, 179 million) fires while it reads the header.
        raise _refused(
            _("“%(name)s” has far more pixels than an image may have (%(limit)s million).")
            % {"name": name, "limit": settings.MEDIA_IMAGE_MAX_PIXELS // 1_000_000}
        ) from None
    except Exception:  # a crafted header makes Pillow raise struct.error, EOFError, …: all mean "not readable"
        if guessed_type in IMAGE_TYPES.values():
            raise _refused(damaged % {"name": name}) from None
        raise not_allowed from None
    content_type = IMAGE_TYPES.get(image.format)
    if content_type is None or content_type not in settings.MEDIA_ALLOWED_TYPES:
        raise not_allowed
    if image.width * image.height > settings.MEDIA_IMAGE_MAX_PIXELS:
        raise _refused(
            too_many_pixels
            % {
                "name": name,
                "width": image.width,
                "height": image.height,
                "limit": settings.MEDIA_IMAGE_MAX_PIXELS // 1_000_000,
            },
        )
    try:
        image.load()  # decodes every pixel: a cut-short or corrupt file fails here, not later for a visitor
        upright = ImageOps.exif_transpose(image)  # a malformed EXIF block fails here
        fingerprint = perceptual_hash(upright)
    except Exception:  # decoders raise OSError, SyntaxError, IndexError, … on damaged data alike
        raise _refused(damaged % {"name": name}) from None
    facts = MediaFacts(
        kind="image",
        content_type=content_type,
        size=size,
        sha256=_sha256(upload),
        width=upright.width,
        height=upright.height,
        perceptual_hash=fingerprint,
    )
    upload.seek(0)
    return facts


def image_public_copy(original, content_type) -> bytes:
    """The image re-encoded from its pixels alone: no EXIF (GPS, camera and lens serial numbers, maker notes), no XMP,
    no IPTC, no comments, no text chunks. The EXIF orientation is applied first, so the picture stands as it did."""
    original.seek(0)
    with Image.open(original) as image:
        upright = ImageOps.exif_transpose(image)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
        mode = "RGBA" if has_alpha and content_type != "image/jpeg" else "RGB"
        pixels = upright.convert(mode)
        # A new image from the raw pixels: nothing of the file's `info` (exif, xmp, icc, comments) can follow it.
        clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    output = io.BytesIO()
    if content_type == "image/jpeg":
        clean.save(output, "JPEG", quality=settings.MEDIA_JPEG_QUALITY, optimize=True)
    elif content_type == "image/png":
        clean.save(output, "PNG", optimize=True)
    else:
        clean.save(output, "WEBP", quality=settings.MEDIA_JPEG_QUALITY)
    return output.getvalue()
