"""StagedOutputDir: an output folder is replaced whole or left as it was, never a mix of two runs."""
import os
import threading

import pytest

from posegraph.outputs import SAMPLE_FILE, OutputDirError, StagedOutputDir


def write_run(out, names, tag):
    with StagedOutputDir(out, SAMPLE_FILE.fullmatch, flag="--out") as staging:
        for name in names:
            (staging / name).write_text(tag)


def contents(out):
    return {path.name: path.read_text() for path in out.iterdir()}


def test_a_run_with_fewer_files_replaces_the_earlier_run_whole(tmp_path):
    out = tmp_path / "samples"
    write_run(out, [f"pose_{i:04d}.png" for i in range(6)] + ["poses.json"], "first")
    write_run(out, [f"pose_{i:04d}.png" for i in range(2)] + ["poses.json"], "second")
    assert contents(out) == {"pose_0000.png": "second", "pose_0001.png": "second", "poses.json": "second"}
    assert sorted(os.listdir(tmp_path)) == ["samples"]  # no staging or replaced folder left beside it


def test_an_error_while_writing_leaves_the_earlier_run_as_it_was(tmp_path):
    out = tmp_path / "samples"
    write_run(out, ["pose_0000.png", "poses.json"], "first")
    with pytest.raises(OSError, match="No space left"):
        with StagedOutputDir(out, SAMPLE_FILE.fullmatch) as staging:
            (staging / "pose_0000.png").write_text("")  # the 0-byte file a full disk leaves
            raise OSError(28, "No space left on device")
    assert contents(out) == {"pose_0000.png": "first", "poses.json": "first"}
    assert sorted(os.listdir(tmp_path)) == ["samples"]


def test_folders_that_cannot_take_a_run_are_refused_before_any_work(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    with pytest.raises(OutputDirError, match=f"--out {a_file} is a file, not a folder"):
        StagedOutputDir(a_file, SAMPLE_FILE.fullmatch, flag="--out")
    with pytest.raises(OutputDirError, match="cannot create its parent folder"):
        StagedOutputDir(a_file / "sub" / "samples", SAMPLE_FILE.fullmatch, flag="--out")
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    (foreign / "poses.json").write_text("[]")
    with pytest.raises(OutputDirError, match=r"holds files that no earlier run here wrote \(chapter1.tex\)"):
        StagedOutputDir(foreign, SAMPLE_FILE.fullmatch, flag="--out")
    assert (foreign / "chapter1.tex").read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["a_file", "thesis"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputDirError, match="cannot write in .*locked"):
            StagedOutputDir(locked / "samples", SAMPLE_FILE.fullmatch, flag="--out")
    finally:
        locked.chmod(0o700)


def test_a_staging_folder_left_by_a_killed_process_is_removed_by_the_next_run(tmp_path):
    dead = tmp_path / ".samples.staging-999999999-0123abcd"  # no such pid
    dead.mkdir()
    alive = tmp_path / f".samples.staging-{os.getpid()}-0123abcd"
    alive.mkdir()
    write_run(tmp_path / "samples", ["poses.json"], "new")
    assert not dead.exists() and alive.exists()


def test_concurrent_runs_into_one_folder_never_mix(tmp_path):
    out = tmp_path / "samples"
    barrier = threading.Barrier(4)
    errors = []

    def run(tag, count):
        try:
            with StagedOutputDir(out, SAMPLE_FILE.fullmatch) as staging:
                barrier.wait()
                for i in range(count):
                    (staging / f"pose_{i:04d}.png").write_text(tag)
                (staging / "poses.json").write_text(tag)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for repeat in range(5):
        threads = [threading.Thread(target=run, args=(f"run{k}-{repeat}", 2 + 3 * k)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        written = contents(out)
        tag = written["poses.json"]
        assert set(written.values()) == {tag}
        assert len(written) == 1 + 2 + 3 * int(tag[3])
    assert sorted(os.listdir(tmp_path)) == ["samples"]
