"""dutyd -t: 'configuration OK' or every error as FILE:LINE:COLUMN."""
import os
import re
import subprocess

from conftest import BIN, PLUGIN_DIR, ROOT


def check(path, cwd=None):
    return subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True,
                          cwd=cwd, timeout=30)


def test_example_configs_are_valid():
    """Every example in etc/ is what the docs point people at: it must load."""
    # calendar-*.yaml are `calendar: {include: …}` files, not configurations.
    examples = sorted(f for f in os.listdir(os.path.join(ROOT, "etc"))
                      if f.endswith(".yaml") and not f.startswith("calendar-"))
    assert "dutyd.yaml" in examples and len(examples) >= 2, examples
    for name in examples:
        r = check("etc/" + name, cwd=ROOT)
        assert r.returncode == 0, (name, r.stderr)
        assert "configuration OK" in r.stdout, name


def test_errors_have_file_line_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(open(os.path.join(ROOT, "etc/dutyd.yaml")).read()
                    .replace("./build/plugins", PLUGIN_DIR)
                    .replace("ack_timeout: 20m", "ack_timout: 20m")
                    .replace("leader: li", "leader: nobody")
                    .replace("report_deadline: 40m", "report_deadline: 40"))
    r = check(str(path))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) >= 3, r.stderr
    for line in lines:
        assert re.match(r"^%s:\d+:\d+: .+" % re.escape(str(path)), line), line
    text = r.stderr
    assert "ack_timout" in text and "ack_timeout" in text     # the typo and the suggestion
    assert "nobody" in text
    assert "unit" in text                                      # 40 has no unit
    assert "configuration OK" not in r.stdout


def test_missing_file(tmp_path):
    r = check(str(tmp_path / "none.yaml"))
    assert r.returncode != 0
    assert "none.yaml" in r.stderr


def test_usage_errors():
    r = subprocess.run([BIN], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "usage" in r.stderr
