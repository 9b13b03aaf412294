"""Media attached to incidents: what an upload is (from its bytes), its public copy without metadata, near-duplicate
flags, the admin's inline and list, and what the public may fetch (docs/editors.md, "Media")."""

import io
import json
import os
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image, ImageDraw

from incidents import selectors, services
from incidents.media import media_analyse
from incidents.models import IncidentMedia
from tests.factories import IncidentFactory
from tests.test_admin import incident_form

pytestmark = pytest.mark.django_db

SERIAL = "SN-4417-XK-0093"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description creator="Witness Name"/></rdf:RDF></x:xmpmeta>'


def picture(seed, size=(640, 480)):
    """A picture of coloured discs, different for each seed (perceptual hashes of two seeds differ by 20+ bits)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(30, 160)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def encoded(image, kind="JPEG", **options):
    output = io.BytesIO()
    image.save(output, kind, **options)
    return output.getvalue()


def jpeg_with_gps_and_serial(image, *, orientation=1):
    """A phone's JPEG: GPS position, the camera body's serial number, a maker's note, XMP naming the author."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    camera = exif.get_ifd(ExifTags.IFD.Exif)
    camera[ExifTags.Base.BodySerialNumber] = SERIAL
    camera[ExifTags.Base.MakerNote] = b"MAKERNOTE-SECRET"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (34.0, 33.0, 21.6)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (38.0, 16.0, 2.3)
    return encoded(image, exif=exif, xmp=XMP, quality=92)


def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def attach(incident, user, name, content, **fields):
    """What the admin's inline does: read the upload, then the service stores it and writes the public copy."""
    file = upload(name, content)
    facts = media_analyse(file)
    media = IncidentMedia(incident=incident, original=file, **fields)
    return services.incident_media_save(media=media, user=user, facts=facts)


# A 1-second-free MP4 and WebM head: their signatures are all the type check reads.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
WEBM = (
    bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878104428581021853806701") + b"\x00" * 64
)


# --- What an upload is ---------------------------------------------------------------------------------------------


def test_an_image_is_read_from_its_bytes_whatever_its_name():
    facts = media_analyse(upload("holiday.mp4", encoded(picture(1), "PNG")))
    assert (facts.kind, facts.content_type, facts.width, facts.height) == ("image", "image/png", 640, 480)
    assert len(facts.sha256) == 64 and facts.perceptual_hash is not None


def test_videos_are_recognised_by_their_signatures():
    assert media_analyse(SimpleUploadedFile("clip.jpg", MP4)).content_type == "video/mp4"
    assert media_analyse(SimpleUploadedFile("clip", WEBM)).content_type == "video/webm"


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "photo.jpg",
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200,
            "“photo.jpg” is not a file of a type accepted here",
        ),
        ("anim.png", encoded(picture(2), "GIF"), "“anim.png” is not a file of a type accepted here"),
        ("cut.jpg", encoded(picture(3))[:3000], "“cut.jpg” looks like an image but cannot be read"),
        ("header-only.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300, "“header-only.jpg” looks like an image but cannot"),
    ],
)
def test_anything_else_is_refused_with_the_file_named(name, content, message):
    with pytest.raises(ValidationError) as refused:
        media_analyse(upload(name, content))
    assert message in refused.value.messages[0]


def test_too_big_is_refused_per_type(settings):
    settings.MEDIA_MAX_BYTES = {"image": 1000, "video": 50}
    with pytest.raises(ValidationError) as refused:
        media_analyse(upload("big.png", encoded(picture(4), "PNG")))
    assert (
        "“big.png” is" in refused.value.messages[0]
        and "an image may be at most 1000\xa0bytes" in refused.value.messages[0]
    )
    with pytest.raises(ValidationError) as refused:
        media_analyse(SimpleUploadedFile("long.webm", WEBM))
    assert "a video may be at most 50\xa0bytes" in refused.value.messages[0]


def test_a_name_with_format_signs_is_shown_as_it_is():
    with pytest.raises(ValidationError) as refused:
        media_analyse(upload("100%(name)s%d.jpg", b"not a picture at all" * 20))
    assert "“100%(name)s%d.jpg”" in refused.value.messages[0]


# --- The public copy -----------------------------------------------------------------------------------------------


def test_public_copy_has_no_gps_serial_maker_note_or_xmp_and_the_original_keeps_them(editor):
    incident = IncidentFactory()
    original_bytes = jpeg_with_gps_and_serial(picture(5))
    media = attach(incident, editor, "witness.jpg", original_bytes)

    original = media.original.open("rb").read()
    assert original == original_bytes
    kept = Image.open(io.BytesIO(original)).getexif()
    assert kept.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert kept.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] == SERIAL

    public = media.public_copy.open("rb").read()
    for secret in (SERIAL.encode(), b"MAKERNOTE-SECRET", b"PhoneMaker", b"Witness Name", b"xmpmeta", b"Exif\x00\x00"):
        assert secret not in public
    copy = Image.open(io.BytesIO(public))
    assert copy.format == "JPEG" and dict(copy.getexif()) == {} and "xmp" not in copy.info
    assert copy.size == (640, 480)
    assert (media.width, media.height, media.content_type, media.original_name) == (
        640,
        480,
        "image/jpeg",
        "witness.jpg",
    )
    assert media.uploaded_by == editor and len(media.sha256) == 64


def test_the_orientation_is_applied_before_the_metadata_goes(editor):
    # Orientation 6: the phone was held upright, the pixels are stored lying on their side.
    media = attach(IncidentFactory(), editor, "upright.jpg", jpeg_with_gps_and_serial(picture(6), orientation=6))
    copy = Image.open(media.public_copy.open("rb"))
    assert copy.size == (480, 640) and (media.width, media.height) == (480, 640)


def test_png_and_webp_copies_lose_their_text_and_exif(editor):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    png = encoded(picture(7), "PNG", exif=exif, pnginfo=_png_text("Author", "Witness Name"))
    media = attach(IncidentFactory(), editor, "shot.png", png)
    public = media.public_copy.open("rb").read()
    assert b"Witness Name" not in public and b"PhoneMaker" not in public and public.startswith(b"\x89PNG")
    webp = attach(IncidentFactory(), editor, "shot.webp", encoded(picture(8), "WEBP", exif=exif, xmp=XMP))
    public = webp.public_copy.open("rb").read()
    assert b"PhoneMaker" not in public and b"Witness Name" not in public and public[8:12] == b"WEBP"


def _png_text(key, value):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


def test_a_video_gets_a_public_copy_only_once_staff_clear_it(editor):
    media = attach(IncidentFactory(), editor, "clip.mp4", MP4)
    assert media.kind == "video" and not media.public_copy
    services.incident_media_save(media=media, user=editor, video_cleared=True)
    media.refresh_from_db()
    assert media.video_cleared_by == editor and media.public_copy.open("rb").read() == MP4


# --- Near duplicates -----------------------------------------------------------------------------------------------


def test_the_same_picture_resized_and_re_encoded_is_flagged_on_another_incident(editor):
    first, second = IncidentFactory(), IncidentFactory()
    original = picture(9, size=(1200, 900))
    attach(first, editor, "original.png", encoded(original, "PNG"))
    smaller = original.resize((400, 300), Image.Resampling.LANCZOS)
    again = attach(second, editor, "forwarded.jpg", encoded(smaller, "JPEG", quality=55))
    other = attach(second, editor, "other.jpg", encoded(picture(10)))

    found = selectors.media_duplicates(media=again)
    assert [(d["media"].incident_id, d["exact"]) for d in found] == [(first.pk, False)]
    assert found[0]["distance"] <= 8
    assert selectors.media_duplicates(media=other) == []


def test_the_same_file_is_flagged_as_exact(editor):
    content = encoded(picture(11))
    first = attach(IncidentFactory(), editor, "a.jpg", content)
    second = attach(IncidentFactory(), editor, "b.jpg", content)
    assert [(d["media"], d["exact"], d["distance"]) for d in selectors.media_duplicates(media=second)] == [
        (first, True, 0)
    ]


def test_the_threshold_is_a_setting(editor, settings):
    base = picture(12)
    attach(IncidentFactory(), editor, "a.jpg", encoded(base))
    resized = attach(IncidentFactory(), editor, "b.jpg", encoded(base.resize((200, 150)), quality=40))
    distance = selectors.media_duplicates(media=resized)[0]["distance"]
    settings.MEDIA_NEAR_DUPLICATE_BITS = distance - 1
    assert distance == 0 or selectors.media_duplicates(media=resized) == []


# --- The admin -----------------------------------------------------------------------------------------------------


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def media_post(incident, **fields):
    return incident_form(
        edit_version=incident.version,
        **{"media-TOTAL_FORMS": "1", "media-INITIAL_FORMS": "0", **{f"media-0-{k}": v for k, v in fields.items()}},
    )


def test_an_editor_uploads_on_the_incident_page_and_sees_the_duplicate_flag(client, editor, publisher):
    earlier = IncidentFactory(published=True)
    base = picture(13)
    attach(earlier, publisher, "first.jpg", encoded(base))
    draft = IncidentFactory()
    client.force_login(editor)
    response = client.post(
        change_url(draft),
        media_post(
            draft, original=upload("resized.jpg", encoded(base.resize((320, 240)), quality=60)), caption="Smoke"
        ),
    )
    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"][2].formset.errors
    media = IncidentMedia.objects.get(incident=draft)
    assert (media.caption, media.uploaded_by, bool(media.public_copy)) == ("Smoke", editor, True)

    page = client.get(change_url(draft)).content.decode()
    assert f"already attached to incident #{earlier.pk}" in page
    assert reverse("admin:incidents_incidentmedia_original", args=[media.pk]) in page
    listing = client.get(reverse("admin:incidents_incidentmedia_changelist")).content.decode()
    assert "resized.jpg" in listing and f"already attached to incident #{draft.pk}" in listing


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("report.jpg", b"MZ\x90\x00" + b"\x00" * 500, "“report.jpg” is not a file of a type accepted here"),
        ("broken.jpg", encoded(picture(14))[:2000], "“broken.jpg” looks like an image but cannot be read"),
    ],
)
def test_a_bad_upload_is_a_form_error_naming_the_file(client, editor, name, content, message):
    draft = IncidentFactory()
    client.force_login(editor)
    response = client.post(change_url(draft), media_post(draft, original=upload(name, content)))
    assert response.status_code == 200
    assert message in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert not IncidentMedia.objects.exists()


def test_a_too_big_upload_is_a_form_error(client, editor, settings):
    settings.MEDIA_MAX_BYTES = {"image": 1000, "video": 1000}
    draft = IncidentFactory()
    client.force_login(editor)
    response = client.post(change_url(draft), media_post(draft, original=upload("huge.jpg", encoded(picture(15)))))
    assert response.status_code == 200 and "“huge.jpg” is" in response.content.decode()
    assert not IncidentMedia.objects.exists()


def test_editors_cannot_change_a_published_incidents_media(editor, publisher):
    media = attach(IncidentFactory(published=True), publisher, "a.jpg", encoded(picture(16)))
    media.graphic = True
    with pytest.raises(services.PermissionDenied):
        services.incident_media_save(media=media, user=editor)


def test_the_original_is_for_staff_only(client, publisher):
    original_bytes = jpeg_with_gps_and_serial(picture(17))
    media = attach(IncidentFactory(published=True), publisher, "w.jpg", original_bytes)
    url = reverse("admin:incidents_incidentmedia_original", args=[media.pk])
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(publisher)
    response = client.get(url)
    assert b"".join(response.streaming_content) == original_bytes
    assert "no-store" in response["Cache-Control"]


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- The public side -----------------------------------------------------------------------------------------------


def test_a_published_incident_shows_its_media_and_serves_the_public_copy(client, publisher):
    incident = IncidentFactory(published=True)
    media = attach(
        incident, publisher, "w.jpg", jpeg_with_gps_and_serial(picture(18)), caption="Crater", caption_ar="حفرة"
    )
    page = client.get(incident.get_absolute_url()).content.decode()
    assert f'src="/media/{media.pk}"' in page and 'alt="Crater"' in page and "media-reveal" not in page
    assert f'<meta property="og:image" content="http://testserver/media/{media.pk}">' in page
    assert "حفرة" in client.get("/ar" + incident.get_absolute_url()).content.decode()
    response = client.get(f"/media/{media.pk}")
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/jpeg" and SERIAL.encode() not in body
    assert body == media.public_copy.open("rb").read()
    assert "public" in response["Cache-Control"]
    part = client.get(f"/media/{media.pk}", HTTP_RANGE="bytes=0-9")
    assert part.status_code == 206 and b"".join(part.streaming_content) == body[:10]


def test_drafts_media_never_leak(client, editor):
    draft = IncidentFactory()
    media = attach(draft, editor, "w.jpg", encoded(picture(19)))
    assert client.get(f"/media/{media.pk}").status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404
    # Staff see it on the preview page, never cached.
    client.force_login(editor)
    staff = client.get(f"/media/{media.pk}")
    assert staff.status_code == 200 and "no-store" in staff["Cache-Control"]


def test_graphic_and_identifying_media_are_blurred_behind_a_button(client, publisher):
    incident = IncidentFactory(published=True)
    attach(incident, publisher, "g.jpg", encoded(picture(20)), graphic=True)
    attach(incident, publisher, "i.jpg", encoded(picture(21)), identifying=True)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert page.count('<button type="button" class="media-reveal"') == 2
    assert "Warning: graphic content (death or injury)." in page
    assert "It may show people who could be identified." in page
    assert page.count('aria-hidden="true"') >= 2 and "incidents/js/media.js" in page
    assert "og:image" not in page  # link previews never show them
    arabic = client.get("/ar" + incident.get_absolute_url()).content.decode()
    assert arabic.count('class="media-reveal"') == 2


def test_sensitive_media_stay_out_of_feeds_and_public_json(client, publisher):
    incident = IncidentFactory(published=True, title="Market strike")
    shown = attach(incident, publisher, "street.jpg", encoded(picture(22)), caption="The street after")
    graphic = attach(incident, publisher, "bodies.jpg", encoded(picture(23)), graphic=True)
    identifying = attach(incident, publisher, "faces.jpg", encoded(picture(24)), identifying=True)
    hidden = [f"/media/{graphic.pk}", f"/media/{identifying.pk}"]

    feature = json.loads(body_of(client.get("/api/incidents.geojson")))["features"][0]
    assert feature["properties"]["media"] == [
        {
            "url": f"/media/{shown.pk}",
            "type": "image/jpeg",
            "caption": "The street after",
            "caption_ar": "",
            "credit": "",
        }
    ]
    for url in (
        "/api/incidents.geojson",
        "/api/incidents.csv",
        "/map/incidents.atom",
        "/api/changes",
        f"/incidents/{incident.pk}.json",
        f"/ogcapi/collections/incidents/items/{incident.pk}",
    ):
        response = client.get(url)
        body = body_of(response)
        assert response.status_code == 200, url
        for path in hidden:
            assert path.encode() not in body, url


def test_the_kept_feature_follows_media_writes_and_the_change_feed_says_so(client, publisher):
    from incidents.models import IncidentChange
    from tests.test_incident_features import kept, rebuilt

    incident = IncidentFactory(published=True)
    street = attach(incident, publisher, "street.jpg", encoded(picture(25)), caption="Street")
    assert kept() == rebuilt()
    assert json.loads(kept()[incident.pk])["properties"]["media"][0]["url"] == street.get_absolute_url()

    # Marked graphic afterwards: it leaves the feature, and the feed tells copies to drop it.
    last = IncidentChange.objects.order_by("-id").first().pk
    street.graphic = True
    services.incident_media_save(media=street, user=publisher)
    assert json.loads(kept()[incident.pk])["properties"]["media"] == []
    assert kept() == rebuilt()
    change = IncidentChange.objects.filter(pk__gt=last, incident_id=incident.pk).get()
    assert (change.kind, change.fields) == ("updated", ["media"])
    response = client.get("/api/changes", {"limit": 1000})
    assert response.status_code == 200
    changes = [c for c in json.loads(body_of(response))["changes"] if c["incident"] == incident.pk]
    assert changes[-1]["fields"] == ["media"] and street.get_absolute_url() not in json.dumps(changes)

    # A video shows in the feature only once cleared; a deleted item leaves it.
    clip = attach(incident, publisher, "clip.mp4", MP4)
    assert json.loads(kept()[incident.pk])["properties"]["media"] == []
    services.incident_media_save(media=clip, user=publisher, video_cleared=True)
    assert [m["type"] for m in json.loads(kept()[incident.pk])["properties"]["media"]] == ["video/mp4"]
    clip.delete()
    assert json.loads(kept()[incident.pk])["properties"]["media"] == [] and kept() == rebuilt()


def test_removing_an_item_in_the_inline_removes_its_files_after_the_commit(
    client, editor, django_capture_on_commit_callbacks
):
    draft = IncidentFactory()
    media = attach(draft, editor, "a.jpg", encoded(picture(26)))
    original, public = media.original.path, media.public_copy.path
    client.force_login(editor)
    data = incident_form(
        edit_version=draft.version,
        **{
            "media-TOTAL_FORMS": "1",
            "media-INITIAL_FORMS": "1",
            "media-0-id": media.pk,
            "media-0-incident": draft.pk,
            "media-0-DELETE": "on",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(draft), data)
    assert response.status_code == 302
    assert not IncidentMedia.objects.exists()
    assert not os.path.exists(original) and not os.path.exists(public)


def png_header_claiming(width, height):
    """A PNG whose header claims a size its few bytes do not hold: what a decompression bomb looks like at first."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "side, message",
    [
        (10_000, "“bomb.png” is 10000 × 10000 pixels; an image may have at most 50 million pixels."),
        (30_000, "“bomb.png” has far more pixels than an image may have (50 million)."),
    ],
)
def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(side, message):
    with pytest.raises(ValidationError) as refused:
        media_analyse(upload("bomb.png", png_header_claiming(side, side)))
    assert refused.value.messages == [message]


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_damaged_files_are_accepted_or_refused_never_a_crash(kind):
    """Bytes flipped at random in a real file: Pillow raises all sorts of errors on such data; the editor gets either
    the item or the form's message."""
    content = bytearray(jpeg_with_gps_and_serial(picture(27)) if kind == "JPEG" else encoded(picture(27), kind))
    rng = random.Random(kind)
    for _attempt in range(30):
        damaged = bytearray(content)
        for _flip in range(rng.randrange(1, 12)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            facts = media_analyse(upload(f"damaged.{kind.lower()}", bytes(damaged)))
        except ValidationError as refused:
            assert "“damaged." in refused.messages[0]
        else:
            assert facts.kind == "image"
