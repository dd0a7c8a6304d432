"""The release matrix is data that builds trust blindly, so check its shape hard."""

import re

import pytest
from packaging.version import InvalidVersion, Version

from opforge import releases
from opforge.releases import NO_BACKEND, UNKNOWN, UnknownRelease

ALL_FIELDS = (*releases.LABELS, "pytorch.cxx11_abi")


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("."))
    out = []
    while True:
        out.append(f"{year:02d}.{month:02d}")
        if out[-1] == last:
            return out
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@pytest.fixture(scope="module")
def all_releases():
    return releases.load_releases()


@pytest.fixture(scope="module")
def tags():
    return releases.load_sources()


def test_every_month_from_22_12_to_26_09_in_order(all_releases):
    assert list(all_releases) == _months("22.12", "26.09")
    assert all(name == r.name for name, r in all_releases.items())


def test_server_versions_strictly_increase(all_releases):
    versions = [r.version("server") for r in all_releases.values()]
    assert None not in versions
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_every_field_is_a_version_or_an_explicit_marker(all_releases):
    for r in all_releases.values():
        for key in releases.LABELS:
            value = r.get(key)
            if value == UNKNOWN or (key == "tensorflow" and value == NO_BACKEND):
                continue
            try:
                Version(value)
            except InvalidVersion:
                pytest.fail(f"{r.name} {key}={value!r} is neither a version nor a marker")
        assert r.pytorch.cxx11_abi is True, r.name


def test_every_value_has_a_source_with_defined_tags(all_releases, tags):
    for r in all_releases.values():
        assert set(r.sources) == set(ALL_FIELDS), r.name
        for key in ALL_FIELDS:
            value = r.pytorch.cxx11_abi if key == "pytorch.cxx11_abi" else r.get(key)
            note = r.sources[key]
            head, sep, detail = note.partition(":")
            assert sep and detail.strip(), f"{r.name} {key}: {note!r}"
            if value == UNKNOWN:
                assert head == "not found", f"{r.name} {key}: {note!r}"
                continue
            for tag in head.split("+"):
                assert tag in tags, f"{r.name} {key}: tag {tag!r} is not in [sources]"


def test_release_23_05(all_releases):
    r = all_releases["23.05"]
    assert r.server == "2.34.0"
    assert r.tensorrt == "8.6.1.2" and r.version("tensorrt").release[:3] == (8, 6, 1)  # the Linux image, not W's 8.6.1.6
    assert r.tensorflow == "2.12.0"
    assert r.onnxruntime == "1.15.0"
    assert r.cuda == "12.1.1" and r.version("cuda") == Version("12.1.1")
    assert r.ubuntu == "22.04"
    assert (r.glibc, r.glibcxx, r.python) == ("2.35", "3.4.30", "3.10")
    assert r.pytorch.ngc == "2.0.0" and r.pytorch.cxx11_abi is True
    assert r.pytorch.public == "2.0.1"
    assert r.has_tensorflow


def test_tensorflow_backend_gone_from_25_03(all_releases):
    for r in all_releases.values():
        dropped = Version(r.name) >= Version("25.03")
        assert r.has_tensorflow is not dropped, r.name
        assert (r.tensorflow == NO_BACKEND) is dropped, r.name
    assert all_releases["25.02"].tensorflow == "2.17.0"
    assert all_releases["25.03"].version("tensorflow") is None


def test_glibc_and_glibcxx_follow_the_ubuntu_base(all_releases):
    expected = {"20.04": ("2.31", "3.4.28"), "22.04": ("2.35", "3.4.30"),
                "24.04": ("2.39", "3.4.33"), UNKNOWN: (UNKNOWN, UNKNOWN)}  # derived: never known without it
    for r in all_releases.values():
        assert (r.glibc, r.glibcxx) == expected[r.ubuntu], r.name


def _public_torch(ngc: str, pypi: list[Version]) -> str:
    """The rule from the releases.toml header, restated to check the data."""
    v = Version(ngc)
    minor = v.release[:2]
    if v.is_prerelease:
        candidates = [p for p in pypi if p.release[:2] < minor]
    else:
        candidates = [p for p in pypi if p.release[:2] == minor]
    return str(max(candidates))


def test_public_torch_follows_the_documented_rule(all_releases, tags):
    pypi = [Version(v) for v in tags["PYPI"].split(": ", 1)[1].split()]
    for r in all_releases.values():
        if r.pytorch.ngc == UNKNOWN:
            assert r.pytorch.public == UNKNOWN, r.name
        else:
            assert r.pytorch.public == _public_torch(r.pytorch.ngc, pypi), r.name
    assert all_releases["22.12"].pytorch.public == "1.13.1"  # 1.14 never shipped


def test_conflicts_name_both_values(all_releases):
    ort = all_releases["24.08"].sources["onnxruntime"]
    assert "conflict" in ort and "1.19.0" in ort and "1.18.1" in ort
    torch = all_releases["25.02"].sources["pytorch.ngc"]
    assert "conflict" in torch and "6c54963f75" in torch and "ecf3bae" in torch


def test_require_returns_known_values():
    r = releases.get_release("23.05")
    assert r.require("cuda") == "12.1.1"
    assert r.require("pytorch") == "2.0.0"
    assert r.require("tensorflow") == "2.12.0"


def test_require_unknown_names_release_and_field(all_releases):
    with pytest.raises(ValueError) as err:
        all_releases["25.07"].require("pytorch", "the PyTorch op library")
    message = str(err.value)
    assert "Triton 25.07" in message and "PyTorch" in message and "unknown" in message
    assert "not found" in message and "cannot build the PyTorch op library" in message
    for r in all_releases.values():
        for key, label in releases.LABELS.items():
            if r.get(key) == UNKNOWN:
                with pytest.raises(ValueError, match=re.escape(f"Triton {r.name}: {label} version is unknown")):
                    r.require(key)


def test_require_tensorflow_after_removal():
    with pytest.raises(ValueError, match="Triton 25.03 has no TensorFlow backend"):
        releases.get_release("25.03").require("tensorflow")


def test_require_rejects_unknown_field_names():
    with pytest.raises(KeyError):
        releases.get_release("23.05").require("caffe2")


def test_get_release_unknown_lists_releases(all_releases):
    with pytest.raises(UnknownRelease) as err:
        releases.get_release("99.99")
    assert isinstance(err.value, KeyError)
    message = str(err.value)
    assert "99.99" in message
    names = list(all_releases)
    assert message.endswith(f"; known releases: {names[0]} to {names[-1]}"), message  # every month: one run


def test_known_releases_are_listed_as_runs_of_months(all_releases):
    known = {name: all_releases[name] for name in ["22.12", "23.01", "23.02", "23.04", "23.06", "23.07"]}
    assert str(UnknownRelease("9", known)).endswith("known releases: 22.12 to 23.02, 23.04, 23.06 to 23.07")


@pytest.mark.parametrize("typed", ["23.5", "2305", "23-05", "r23.5", "2023.05", "v23.05", "23.05-py3",
                                   "nvcr.io/nvidia/tritonserver:23.05-py3"])
def test_a_release_typed_another_way_gets_a_suggestion(typed):
    with pytest.raises(UnknownRelease, match=r"\(did you mean 23\.05\?\)"):
        releases.get_release(typed)


@pytest.mark.parametrize("typed", ["2.34.0", "v2.34.0"])
def test_a_server_version_names_its_release(typed):
    """`tritonserver --version` and the server's log give the server version, not the month."""
    with pytest.raises(UnknownRelease, match=r"\(did you mean 23\.05\? Triton server 2\.34\.0 is release 23\.05\)"):
        releases.get_release(typed)


def test_a_server_version_past_the_matrix_is_called_newer(all_releases):
    last = list(all_releases.values())[-1]
    major, minor, _ = last.server.split(".")
    with pytest.raises(UnknownRelease, match=f"newer than the releases this opforge knows \\(up to {last.name}\\)"):
        releases.get_release(f"{major}.{int(minor) + 1}.0")
    with pytest.raises(UnknownRelease) as err:
        releases.get_release("2.34.1")  # no such server release: no guess
    assert "did you mean" not in str(err.value) and "newer" not in str(err.value)


def test_no_suggestion_for_a_month_that_is_not_there():
    with pytest.raises(UnknownRelease) as err:
        releases.get_release("23.13")
    assert "did you mean" not in str(err.value)


def test_a_month_outside_the_matrix_says_which_side(all_releases):
    """A release newer than the data (the matrix lags NVIDIA's monthly releases) is told apart from a typo."""
    last, first = list(all_releases)[-1], list(all_releases)[0]
    year, month = map(int, last.split("."))
    after = f"{year + 1:02d}.01" if month == 12 else f"{year:02d}.{month + 1:02d}"
    for typed in (after, f"nvcr.io/nvidia/tritonserver:{after}-py3"):
        with pytest.raises(UnknownRelease, match=rf"newer than the releases this opforge knows \(up to {last}\): "
                                                 "update opforge"):
            releases.get_release(typed)
    with pytest.raises(UnknownRelease, match=rf"older than {first}, the first release opforge builds for"):
        releases.get_release("22.11")
    with pytest.raises(UnknownRelease) as err:  # not a month at all
        releases.get_release("26.13")
    assert "newer" not in str(err.value) and "older" not in str(err.value)


def test_get_release_accepts_branch_names():
    assert releases.get_release("r23.05") is releases.get_release("23.05")


def test_format_table(all_releases):
    table = releases.format_table(all_releases)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["Triton", "server", "CUDA"]
    rows = [line for line in lines if line[:5] in all_releases]
    assert [row.split()[0] for row in rows] == list(all_releases)
    row_25_07 = next(row for row in rows if row.startswith("25.07"))
    assert "?" in row_25_07.split()
    assert "1.19.0*" in next(row for row in rows if row.startswith("24.08"))
    assert releases.format_table(all_releases.values()) == table


def test_format_release_shows_values_sources_and_tags(tags):
    text = releases.format_release(releases.get_release("23.05"))
    assert text.startswith("Triton 23.05 (server 2.34.0)")
    assert "8.6.1.2" in text and "GLIBCXX_3.4.30" in text
    assert "from BP: r23.05 build.py" in text
    assert f"BP: {tags['BP']}" in text
