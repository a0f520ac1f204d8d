"""``mailbot run``: the daemon picks up new mail, survives a bad reload, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, Bot, wait_until
from tests.test_intake_e2e import COMPLETE, DAC, mail


def _outbox_files(bot: Bot) -> list[Path]:
    return list((bot.outbox_dir / "new").iterdir())


def test_daemon_answers_new_mail_reloads_and_stops_cleanly(bot: Bot) -> None:
    with bot.config_path.open("a", encoding="utf-8") as handle:
        handle.write('\n[jobs]\nschedules = { outbox = "* * * * *" }\n')
    text = bot.config_path.read_text(encoding="utf-8").replace(
        'transport = "maildir"\npath = "var/inbox"',
        'transport = "maildir"\npath = "var/inbox"\npoll_seconds = 0.2', 1)
    bot.config_path.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "mailbot", "--config", str(bot.config_path),
                             "run", "--log-format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        bot.drop(mail(DAC, COMPLETE, message_id="d1@dac16.mssante.fr"))
        assert wait_until(lambda: len(_outbox_files(bot)) == 1), "no acknowledgement written"

        # A broken configuration on SIGHUP is reported; the daemon keeps the running one.
        good = bot.config_path.read_text(encoding="utf-8")
        bot.config_path.write_text(good + "\n[oops]\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        bot.config_path.write_text(good, encoding="utf-8")
        bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "PETIT"), message_id="d2@dac16.mssante.fr"))
        assert wait_until(lambda: len(_outbox_files(bot)) == 2), "daemon stopped answering after reload"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert '"message": "daemon stopped"' in err
    assert "configuration not reloaded" in err and "oops" in err
    # JSON logs carry ids, never the patient's name.
    assert "MARTIN" not in err and "PETIT" not in err


def test_a_second_run_on_one_sqlite_file_is_refused_and_a_killed_daemon_frees_it(
        bot: Bot, backend: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen([sys.executable, "-m", "mailbot", "--config", str(bot.config_path),
                               "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        bot.drop(mail(DAC, COMPLETE, message_id="s1@dac16.mssante.fr"))
        assert wait_until(lambda: len(_outbox_files(bot)) == 1), "the daemon did not start"
        second = bot.cli("run", "--once", check=False)
        if backend == "sqlite":
            assert second.returncode == 2, second.stderr
            assert f"processus {daemon.pid}" in second.stderr
            assert "SQLite n'admet qu'un processus" in second.stderr
            assert "PostgreSQL" in second.stderr and "Traceback" not in second.stderr
        else:  # PostgreSQL: any number of processes, claims are row locks
            assert second.returncode == 0, second.stderr
    finally:
        daemon.kill()  # SIGKILL: no clean-up of its own; the kernel drops the lock
        daemon.communicate(timeout=30)
    bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "PETIT"), message_id="s2@dac16.mssante.fr"))
    assert "Messages reçus : 1" in bot.cli("run", "--once").stdout
