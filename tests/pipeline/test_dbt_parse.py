"""dbt's partial parsing across builds: the state `shopkeep prepare` saves is re-keyed to each build's file only when
that is provably all that differs (the end-to-end check, a real dbt run that reuses it, is in test_as_of.py); old
build folders are pruned so an hourly schedule does not fill the disk."""

from __future__ import annotations

import os

from orchestration.transform import (
    DBT_OP_NAME,
    PARSE_BUILD_PATH,
    PARTIAL_PARSE_FILE,
    _profile_hash,
    dbt_project,
    partial_parse_state,
    prune_build_folders,
)


def test_the_saved_state_is_rekeyed_to_the_builds_file_and_nothing_else_changes(tmp_path):
    saved = dbt_project.manifest_path.parent / PARTIAL_PARSE_FILE
    assert partial_parse_state(tmp_path, "/srv/seller/build.duckdb")
    written = (tmp_path / PARTIAL_PARSE_FILE).read_bytes()
    original = saved.read_bytes()
    assert len(written) == len(original)
    assert _profile_hash("/srv/seller/build.duckdb").encode() in written
    assert written.replace(_profile_hash("/srv/seller/build.duckdb").encode(), b"") == original.replace(
        _profile_hash(PARSE_BUILD_PATH).encode(), b""
    )


def test_a_build_file_with_another_name_or_a_state_from_another_profile_gets_a_full_parse(tmp_path):
    # the file's stem is dbt's database name, written into every parsed node: no re-keying can fix that
    assert not partial_parse_state(tmp_path / "a", "/srv/seller/warehouse.duckdb")
    assert not (tmp_path / "a").exists()
    foreign = tmp_path / "foreign.msgpack"
    foreign.write_bytes(b"a state saved with another profile or another dbt")
    assert not partial_parse_state(tmp_path / "b", "/srv/seller/build.duckdb", saved=foreign)
    assert not partial_parse_state(tmp_path / "c", "/srv/seller/build.duckdb", saved=tmp_path / "missing")


def test_build_folders_two_days_older_than_this_builds_are_pruned_and_younger_ones_kept(tmp_path):
    current = tmp_path / f"{DBT_OP_NAME}-new"
    current.mkdir()
    now = current.stat().st_mtime
    for name, age_hours in (("old", 49), ("yesterday", 20), ("running", 0)):
        folder = tmp_path / f"{DBT_OP_NAME}-{name}"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (now - age_hours * 3600, now - age_hours * 3600))
    other = tmp_path / "parse-123"  # not a build folder: never touched
    other.mkdir()
    os.utime(other, (now - 99 * 3600, now - 99 * 3600))
    prune_build_folders(current)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{DBT_OP_NAME}-new", f"{DBT_OP_NAME}-yesterday", f"{DBT_OP_NAME}-running", "parse-123"]
    )
