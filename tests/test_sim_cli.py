"""`tinyperf sim`: exit codes, the fault report on stderr, console output, --pty."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sim_support import build

pytestmark = pytest.mark.sim

# Drives runner/cli/sim_cmd.py alone (the other commands of the CLI belong to other modules).
DRIVER = ("import argparse, sys; from tinyperf.runner.cli import sim_cmd; p = argparse.ArgumentParser(); "
          "sim_cmd.add_arguments(p); sys.exit(sim_cmd.run(p.parse_args(sys.argv[1:])))")


def sim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def fws(tmp_path_factory):
    out = tmp_path_factory.mktemp("simfw_cli")
    return {n: build(n, out) for n in ("fw_crash", "fw_systick", "fw_echo")}


def test_exit_zero(fws):
    proc = sim(str(fws["fw_systick"]))
    assert proc.returncode == 0, proc.stderr


def test_fault_report_and_console(fws):
    proc = sim(str(fws["fw_crash"].with_suffix(".hex")), "--max-seconds", "1")
    assert proc.returncode == 1
    assert proc.stdout.strip() == "about to crash"
    err = proc.stderr
    assert "HardFault" in err and "PRECISERR" in err and "BFARVALID" in err and "FORCED" in err
    assert "BFAR 0x30000010" in err
    assert "| about to crash" in err                    # last console lines in the report
    # .hex has no symbols: the report shows the PC without one
    elf_err = sim(str(fws["fw_crash"]), "--max-seconds", "1").stderr
    assert "<crash_here" in elf_err


def test_time_limit_exit_code(fws):
    proc = sim(str(fws["fw_echo"]), "--max-seconds", "0.05")    # waits for input forever
    assert proc.returncode == 2
    assert "still running after 0.05 simulated seconds (asleep" in proc.stderr


def test_pty_prints_device_path(fws):
    serial = pytest.importorskip("serial")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(fws["fw_echo"]), "--pty", "--max-seconds", "5",
                             "--host-timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("LPUART1 on /dev/pts/")
        port = serial.Serial(line.split(" on ", 1)[1].strip(), baudrate=115200, timeout=30)
        assert port.read_until(b"ready\r\n") == b"ready\r\n"
        port.write(b"bye!")
        try:
            echoed = port.read_until(b"!")
        except serial.SerialException as e:
            proc.kill()
            pytest.fail(f"{e}; simulator stderr: {proc.stderr.read()}")
        assert echoed == b"bye!"
        port.close()
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        proc.kill()
