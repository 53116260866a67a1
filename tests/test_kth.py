"""KTH: the sequence file and its quirks, the split, and the download from a local HTTP server.

The archives are a miniature KTH in the real layout and formats (PyAV-written
AVI files, one zip per action, ``00sequences.txt`` in the real syntax) served
from 127.0.0.1, so the download code runs for real.
"""
from __future__ import annotations

import hashlib
import socket
import zipfile
from pathlib import Path

import pytest

from drnet_lite.data import kth
from drnet_lite.data.download import DownloadError, fetch
from drnet_lite.data.kth import (KTHError, KTHNotFoundError, KTHSplit, VideoKey, download_kth, extract_archives,
                                 parse_sequences, segments)
from drnet_lite.data.kth_mini import write_miniature_kth
from kth_fixtures import serve

REAL_LINES = """Training:   person11, person12, person13, person14, person15, person16, person17, person18
Validation: person19, person20, person21, person23, person24, person25, person01, person04
Test:       person22, person02, person03, person05, person06, person07, person08, person09, person10

person01_boxing_d1\t\tframes\t1-95, 96-185, 186-245, 246-360
person01_boxing_d4    frames   1-106, 107-170, 171-245, 246-370
person02_walking_d1 \t frames \t1-110, 110-192, 193-300
person13_handclapping_d3\t\t*missing*
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    """The miniature archives (two persons of each split, one scenario); one video left out of its zip."""
    folder = tmp_path_factory.mktemp("kth_site")
    write_miniature_kth(folder, persons=(1, 2, 17, 18), frames=40, omit=("person18_running_d1",))
    return folder


def test_parse_real_lines_every_quirk():
    parsed = parse_sequences(REAL_LINES)
    assert parsed.headers["Training"] == (11, 12, 13, 14, 15, 16, 17, 18)
    assert parsed.headers["Test"][0] == 22
    assert len(parsed) == 4 and len(parsed.videos) == 3
    assert [k.name for k in parsed.missing] == ["person13_handclapping_d3"]
    first = parsed.by_name()["person01_boxing_d1"]
    assert first.ranges == ((1, 95), (96, 185), (186, 245), (246, 360))
    # 1-based inclusive -> 0-based [start, stop): 1-95 is frames 0..94
    seg = segments(first)
    assert (seg[0].start, seg[0].stop, seg[0].length) == (0, 95, 95)
    assert (seg[1].start, seg[1].stop) == (95, 185)
    overlap = parsed.by_name()["person02_walking_d1"]
    assert overlap.ranges == ((1, 110), (110, 192), (193, 300))  # 3 ranges, overlapping at frame 110
    a, b = segments(overlap)[:2]
    assert a.stop - 1 == b.start == 109  # the same frame in both segments
    assert parsed.num_segments() == 11


def test_ranges_past_the_decoded_length_are_clamped_or_dropped():
    entry = parse_sequences(REAL_LINES).by_name()["person01_boxing_d4"]
    kept = segments(entry, decoded_length=304)  # 370 declared, 304 decode
    assert [(s.start, s.stop) for s in kept] == [(0, 106), (106, 170), (170, 245), (245, 304)]
    assert kept[-1].declared == (246, 370)
    assert [s.index for s in segments(entry, decoded_length=200)] == [1, 2, 3]  # 246-370 has nothing left
    assert segments(entry, decoded_length=0) == []


def test_parse_rejects_bad_lines_with_the_line_number():
    with pytest.raises(ValueError, match="line 2.*not a frame range"):
        parse_sequences("Training: person11\nperson01_boxing_d1 frames 1-95, 96_185\n")
    with pytest.raises(ValueError, match="listed twice"):
        parse_sequences("person01_boxing_d1 frames 1-9\nperson01_boxing_d1 frames 1-9\n")
    with pytest.raises(ValueError, match="first <= last"):
        parse_sequences("person01_boxing_d1 frames 9-1\n")
    with pytest.raises(ValueError, match="no data lines"):
        parse_sequences("<html>Not found</html>\n")
    with pytest.raises(ValueError, match="action one of"):
        parse_sequences("person01_dancing_d1 frames 1-9\n")


def test_full_size_sequence_file_counts():
    """A file shaped like the real one (600 entries, one missing, some with 3 ranges) gives 599 videos."""
    lines = []
    for action in kth.ACTIONS:
        for person in kth.PERSONS:
            for d in kth.SCENARIOS:
                name = f"person{person:02d}_{action}_d{d}"
                lines.append(f"{name}\t\t*missing*" if name == kth.MISSING_VIDEO else
                             f"{name}\t\tframes\t1-50, 51-100, 101-150" + ("" if (person + d) % 7 else ", 150-200"))
    parsed = parse_sequences("\n".join(lines))
    assert len(parsed) == 600 and len(parsed.videos) == 599
    assert parsed.num_segments() == sum(len(e.ranges) for e in parsed.videos)


def test_video_names_and_split():
    key = VideoKey.parse("person07_running_d3_uncomp.avi")
    assert (key.person, key.action, key.scenario, key.action_index) == (7, "running", 3, 4)
    assert key.filename == "person07_running_d3_uncomp.avi"
    split = KTHSplit()
    assert split.train == tuple(range(1, 17)) and split.test == tuple(range(17, 26))
    assert split.of(16) == "train" and split.of(17) == "test"
    assert KTHSplit(train=(1, 2), test=(3,)).of(5) is None
    with pytest.raises(ValueError, match="both"):
        KTHSplit(train=(1, 2), test=(2, 3))
    with pytest.raises(ValueError, match="1-25"):
        KTHSplit(train=(0,), test=(3,))


def test_miniature_sequence_file_has_the_quirks(mini):
    parsed = kth.load_sequences(mini / kth.SEQUENCE_FILE)
    assert set(parsed.headers) == {"Training", "Validation", "Test"}
    assert [k.name for k in parsed.missing] == [kth.MISSING_VIDEO]
    by = parsed.by_name()
    past = by["person01_boxing_d1"]
    assert past.ranges[-1][1] > 40  # declared beyond the 40 frames that decode
    assert segments(past, 40)[-1].stop == 40
    beyond = by["person02_boxing_d1"]
    assert len(segments(beyond, 40)) == len(beyond.ranges) - 1
    walk = by["person01_walking_d1"].ranges
    assert walk[0][1] == walk[1][0]  # overlap
    assert len(by["person01_handwaving_d1"].ranges) == 3
    text = (mini / kth.SEQUENCE_FILE).read_text()
    assert "\t" in text and "      frames    " in text
    # the real AVI facts: 160x120, 25 fps, MPEG-4 Part 2 with FourCC DX50
    import av
    with zipfile.ZipFile(mini / "walking.zip") as archive:
        assert all("/" not in n for n in archive.namelist())
        data = archive.read("person17_walking_d1_uncomp.avi")
    path = mini.parent / "probe.avi"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
        assert stream.average_rate == 25 and stream.codec_context.codec_tag == "DX50"
        assert sum(1 for _ in container.decode(video=0)) == 40


def _sha(path: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}


def test_download_extract_and_rerun(mini, tmp_path):
    known = _sha(mini / "boxing.zip")  # the miniature boxing.zip stands in for the original's checksum
    with serve(mini) as server:
        report = download_kth(tmp_path, mirror=server.url, min_archive_bytes=1000, checksums=known, progress=False)
        assert sorted(report.fetched) == sorted(kth.ARCHIVES + (kth.SEQUENCE_FILE,))
        again = download_kth(tmp_path, mirror=server.url, min_archive_bytes=1000, checksums=known, progress=False)
        assert again.fetched == [] and len(again.present) == 7
    for name in kth.ARCHIVES:
        assert (tmp_path / "KTH" / name).read_bytes() == (mini / name).read_bytes()
    assert not list((tmp_path / "KTH").glob("*.part"))
    extracted = extract_archives(tmp_path, progress=False)
    assert extracted.extracted == 6 * 4 - 1 and not extracted.failed
    assert (tmp_path / "KTH" / "videos" / "boxing" / "person01_boxing_d1_uncomp.avi").is_file()
    assert extract_archives(tmp_path, progress=False).kept == 23


def test_interrupted_transfer_resumes_with_range(mini, tmp_path):
    dest = tmp_path / "walking.zip"
    with serve(mini) as server:
        server.cut["walking.zip"] = 5000
        with pytest.raises(DownloadError, match="resume"):
            fetch(server.url + "walking.zip", dest, progress=False)
        part = dest.with_name("walking.zip.part")
        assert part.stat().st_size == 5000 and not dest.exists()
        fetch(server.url + "walking.zip", dest, progress=False)
        assert server.requests[-1] == ("walking.zip", "bytes=5000-")
    assert dest.read_bytes() == (mini / "walking.zip").read_bytes() and not part.exists()


def test_server_without_range_restarts_the_part(mini, tmp_path):
    dest = tmp_path / "running.zip"
    dest.with_name("running.zip.part").write_bytes(b"stale bytes from somewhere else")
    with serve(mini) as server:
        server.ranges = False
        fetch(server.url + "running.zip", dest, progress=False)
    assert dest.read_bytes() == (mini / "running.zip").read_bytes()


def test_corrupt_archives_are_rejected_with_a_clear_message(mini, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name in kth.ARCHIVES + (kth.SEQUENCE_FILE,):
        (site / name).write_bytes((mini / name).read_bytes())
    # boxing.zip has a known SHA-256: anything else is refused, and nothing is left behind
    with serve(site) as server:
        with pytest.raises(KTHError, match="SHA-256.*expected 09437744"):
            download_kth(tmp_path / "a", mirror=server.url, actions=["boxing"], min_archive_bytes=1000, progress=False)
    assert not list((tmp_path / "a" / "KTH").glob("boxing.zip*"))
    # a truncated archive (no central directory) is not a zip: refused and deleted
    data = (mini / "jogging.zip").read_bytes()
    (site / "jogging.zip").write_bytes(data[: len(data) // 2])
    with serve(site) as server:
        with pytest.raises(KTHError, match="jogging.zip is not a complete zip archive"):
            download_kth(tmp_path / "b", mirror=server.url, actions=["jogging"], min_archive_bytes=1000, progress=False)
        # an error page instead of the archive fails the size check
        (site / "jogging.zip").write_text("<!DOCTYPE html><html>moved</html>")
        with pytest.raises(KTHError, match="a web page"):
            download_kth(tmp_path / "c", mirror=server.url, actions=["jogging"], min_archive_bytes=1000, progress=False)
        # real-size bounds: a few KB are no KTH archive
        with pytest.raises(KTHError, match="not a plausible running.zip"):
            download_kth(tmp_path / "d", mirror=server.url, actions=["running"], progress=False)
    assert not list((tmp_path / "b" / "KTH").glob("jogging.zip*"))


def test_corrupt_member_is_reported_skipped_and_counted(mini, tmp_path):
    folder = tmp_path / "KTH"
    folder.mkdir()
    data = bytearray((mini / "handwaving.zip").read_bytes())
    with zipfile.ZipFile(mini / "handwaving.zip") as archive:
        info = archive.getinfo("person02_handwaving_d1_uncomp.avi")
    # flip bytes inside that member's compressed data: its CRC no longer matches
    body = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[body:body + 8] = bytes(b ^ 0xFF for b in data[body:body + 8])
    (folder / "handwaving.zip").write_bytes(bytes(data))
    report = extract_archives(tmp_path, actions=["handwaving", "boxing"], progress=False)
    assert report.extracted == 3
    assert set(report.failed) == {"handwaving.zip:person02_handwaving_d1_uncomp.avi", "boxing.zip"}
    assert "corrupt" in report.failed["handwaving.zip:person02_handwaving_d1_uncomp.avi"]
    assert "download kth" in report.failed["boxing.zip"]
    assert not list((tmp_path / "KTH" / "videos").rglob("*.part"))
    assert "3 videos extracted, 0 already there, 2 failed" in report.summary()


def test_offline_message_names_files_urls_and_folder(tmp_path):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(KTHNotFoundError) as info:
        download_kth(tmp_path, mirror=f"http://127.0.0.1:{port}/kth", actions=["walking"], progress=False, timeout=5)
    message = str(info.value)
    assert "walking.zip" in message and "00sequences.txt" in message
    assert f"http://127.0.0.1:{port}/kth/walking.zip" in message
    assert str(tmp_path / "KTH") in message
    # without a mirror the KTH site and its legacy host are the URLs
    assert kth.file_urls("boxing.zip") == ["https://www.csc.kth.se/cvap/actions/boxing.zip",
                                           "http://www.nada.kth.se/cvap/actions/boxing.zip"]
