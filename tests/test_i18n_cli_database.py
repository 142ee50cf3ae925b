"""A database driver's own error in the command's language (issue 18.2; decision 0095): sqlite3's
and psycopg's English ("database is locked", "unable to open database file", "no such table",
"connection refused") framed with the likely cause and what to do, in Chinese under ``--lang
zh-CN`` with no English sentence outside the driver's text kept for support; a bug (an error we
do not know that is not operational) keeps its traceback. Every error here is the driver's own,
raised by a real SQLite file, a real PostgreSQL server or a port where none listens."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from socialcredit import i18n
from socialcredit.cli import app, dbwords
from socialcredit.settings import get_settings
from socialcredit.store import Store
from tests.conftest import person
from tests.support.cli import runner
from tests.support.english import english_in

WIDE = {"COLUMNS": "400", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
KEPT = re.compile(r"（数据库原文：.*?）$|\(the database said: .*?\)$")
"""The driver's text kept after our words: the one English a Chinese line may hold."""


def english_outside_the_drivers_text(line: str) -> list[str]:
    """English sentences of a Chinese line, the driver's text kept for support and a command
    line quoted (`` `socialcredit db upgrade` ``) left out."""
    return english_in([re.sub(r"`[^`]*`", " ", KEPT.sub("", line.strip()))])


def raised(action: object) -> BaseException:
    """The exception ``action`` raises (it must raise)."""
    try:
        action()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - the driver's own, whatever its class
        return exc
    raise AssertionError("no error raised")


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[str]:
    """A SQLite file another connection holds the write lock of."""
    path = str(tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    yield path
    holder.execute("ROLLBACK")
    holder.close()


def sqlite_errors(tmp_path: Path, locked: str) -> dict[str, BaseException]:
    """SQLite's errors a command meets, each raised by SQLite itself."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 200)
    return {
        "locked": raised(lambda: sqlite3.connect(locked, timeout=0).execute("SELECT * FROM t")),
        "directory": raised(lambda: sqlite3.connect(str(tmp_path)).execute("SELECT 1")),
        "junk": raised(lambda: sqlite3.connect(str(junk)).execute("SELECT * FROM sqlite_master")),
        "no table": raised(lambda: sqlite3.connect(":memory:").execute("SELECT * FROM records")),
    }


CAUSES = {
    "locked": ("另一个进程正在写入数据库", "database is locked"),
    "directory": ("无法打开数据库文件", "unable to open database file"),
    "junk": ("数据库文件已损坏", "file is not a database"),
    "no table": ("数据库尚未为此版本建立", "no such table: records"),
}


def test_sqlites_errors_are_worded_with_their_cause_and_the_drivers_text(tmp_path: Path, locked: str) -> None:
    """Each error, straight from sqlite3 and wrapped by SQLAlchemy: in Chinese the cause and what
    to do, then the driver's words; in English the same frame, with no Chinese."""
    for name, exc in sqlite_errors(tmp_path, locked).items():
        chinese, original = CAUSES[name]
        with i18n.using("zh_CN"):
            zh = dbwords.worded(exc)
        assert zh is not None and zh.startswith(chinese) and zh.endswith(f"（数据库原文：{original}）"), zh
        assert "请" in zh and english_outside_the_drivers_text(zh) == [], zh
        en = dbwords.worded(exc)
        assert en is not None and en.endswith(f"(the database said: {original})"), en
        assert not re.search(r"[\u4e00-\u9fff]", en)
    engine = create_engine(f"sqlite:///{tmp_path / 'junk.db'}")
    wrapped = raised(lambda: engine.connect().execute(text("SELECT * FROM sqlite_master")))
    assert isinstance(wrapped, DBAPIError)
    with i18n.using("zh_CN"):
        said = dbwords.worded(wrapped)
    assert said is not None and said.startswith("数据库文件已损坏") and "[SQL:" not in said, said
    engine.dispose()


def interrupted() -> BaseException:
    """SQLite's "interrupted" (a statement stopped by its progress handler): an operational error
    with no cause we word."""
    conn = sqlite3.connect(":memory:")
    conn.set_progress_handler(lambda: 1, 1)
    return raised(
        lambda: conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i FROM n) SELECT * FROM n")
    )


def test_a_bug_is_not_dressed_up_as_the_installations_state(tmp_path: Path) -> None:
    """An integrity error or a syntax error is ours to fix: not worded, so the command keeps its
    traceback; an operational error we do not know is framed, its words kept."""
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))

    def insert_again() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    twice = raised(insert_again)
    assert isinstance(twice, IntegrityError) and dbwords.worded(twice) is None
    syntax = raised(lambda: sqlite3.connect(":memory:").execute("SELEC 1"))
    assert isinstance(syntax, sqlite3.OperationalError) and dbwords.worded(syntax) is None
    assert dbwords.worded(ValueError("no such table: x")) is None
    with i18n.using("zh_CN"):
        assert dbwords.worded(interrupted()) == "数据库出错（数据库原文：interrupted）"
    assert dbwords.worded(interrupted()) == "the database failed (the database said: interrupted)"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "chinese", "original"),
    [
        ("directory", "无法打开数据库文件", "unable to open database file"),
        ("junk", "数据库文件已损坏", "file is not a database"),
        (
            "postgresql+psycopg://who:secret@127.0.0.1:1/x",
            "此地址上没有数据库服务器应答",
            "Connection refused",
        ),
    ],
)
def test_a_database_that_cannot_be_opened_is_named_in_chinese(
    url: str, chinese: str, original: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``score`` on a folder, on a file that is no database, on a port where no PostgreSQL
    listens: our frame, the cause and what to do in Chinese, the driver's text after them, and a
    password in the address hidden."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 200)
    given = {"directory": f"sqlite:///{tmp_path}", "junk": f"sqlite:///{junk}"}.get(url, url)
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", given)
    get_settings.cache_clear()
    try:
        zh = runner.invoke(app, ["--lang", "zh-CN", "score", person(1)], env=WIDE)
        en = runner.invoke(app, ["--lang", "en", "score", person(1)], env=WIDE)
    finally:
        get_settings.cache_clear()
    line = " ".join(zh.stderr.split())
    assert zh.exit_code == 2 and line.startswith("错误： 无法打开数据库 ") and chinese in line, line
    assert original in line and "secret" not in line, line
    assert english_outside_the_drivers_text(line.removeprefix("错误： 无法打开数据库 " + given)) == [], line
    assert en.exit_code == 2 and "error: cannot open the database" in en.stderr and original in en.stderr
    assert "secret" not in en.stderr


def test_a_table_missing_mid_command_is_worded_not_a_traceback(env: Path) -> None:
    """A database whose ``api_keys`` table is gone (an older or a damaged database): ``keys
    list`` says so in Chinese, what to do and the driver's words, exit 2, no traceback; on
    SQLite and PostgreSQL (its SQLSTATE 42P01)."""
    store = Store(get_settings().url())  # the command line's database (``env``)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE api_keys"))
    store.close()
    zh = runner.invoke(app, ["--lang", "zh-CN", "keys", "list"], env=WIDE)
    line = " ".join(zh.stderr.split())
    assert zh.exit_code == 2 and isinstance(zh.exception, SystemExit), zh.exception
    assert line.startswith("错误： 数据库尚未为此版本建立") and "`socialcredit db upgrade`" in line, line
    assert "api_keys" in line and english_outside_the_drivers_text(line) == [], line


def test_the_purpose_the_check_writes_by_default_is_the_readers(env: Path) -> None:
    """``check`` with no ``--purpose`` audits the purpose its ``--help`` shows as the default: in
    Chinese under ``--lang zh-CN``, in English under ``--lang en``."""
    code = person(7)
    for lang, purpose in (("zh-CN", "命令行查询"), ("en", "command line check")):
        result = runner.invoke(app, ["--lang", lang, "check", code, "no-flights"], env=WIDE)
        assert result.exit_code in (0, 1), result.output
        store = Store(get_settings().url())
        try:
            newest = store.audit_entries(limit=1)[0]
        finally:
            store.close()
        assert newest["purpose"] == purpose, newest
