"""``--help`` in the command's language (issue 18.2: "`--lang` or `LANG` for the CLI"; decision
0084): every command's and group's help, its arguments' and options' help, and Click's own words
("Usage:", "Options", "Show this message and exit.", a usage error) in Chinese under ``--lang
zh-CN`` or a Chinese ``LANG``, with no English sentence left; in English with no Chinese.
Command, option and argument names stay as they are; Typer's type labels and usage placeholders
are checked by ``test_i18n_cli_labels.py`` (decision 0098)."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest
from typer import rich_utils

from socialcredit import i18n
from socialcredit.cli import app
from socialcredit.cli.helpwords import WORDS, fold, help_texts
from socialcredit.cli.oswords import problem
from tests.support.cli import runner
from tests.support.english import english_in
from tests.support.helppages import CJK, PATHS, WIDE, a_value

ENGLISH = sorted({p for text, _f, _l in help_texts() for p in text.split("\n\n")}, key=len, reverse=True)
"""Every paragraph of every help text, in English as the code writes it."""


def flat(output: str) -> str:
    """What a reader reads of a help page: its text without the panels' borders, spaces folded."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


DEFAULT = re.compile(r"\[默认：([^\]]*)\]")
"""A default value as a Chinese page shows it."""


def sentences_left(output: str) -> list[str]:
    """English left in a page meant to be Chinese: a help text (or Click's own words) whole, or
    three English words in a row on a line other than the usage line (command and option names
    are the machine's), outside a command line quoted (``请运行 'root keys revoke --help'``);
    and any default value that is English words rather than a number, a path or a value the
    user types (``[默认：command line check]``: decision 0095)."""
    text = flat(output)
    whole = [p for p in ENGLISH if len(p.split()) >= 2 and p in text]
    whole += [str(w) for w in WORDS.values() if len(str(w)) > 3 and str(w).strip() in text]
    whole += [f"[默认：{d}]" for d in DEFAULT.findall(text) if not a_value(d)]
    lines = [
        re.sub(r"[│╭╮╰╯─]|'root [^']*'", " ", line)
        for line in output.splitlines()
        if not line.strip().startswith("用法")
    ]
    return whole + english_in(lines)


def test_the_tree_is_walked_whole() -> None:
    """Every command and group is visited, nested ones too (a walk that missed a level would let
    its texts go untested)."""
    assert len(PATHS) > 40
    assert {(), ("cases",), ("cases", "decide"), ("checkpoint", "verify"), ("score",)} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "socialcredit")
def test_every_help_page_is_chinese_under_lang_zh(path: tuple[str, ...]) -> None:
    """``--help`` of every group and command in Chinese: no help text, no word of Click's left in
    English; the usage line keeps the command's and options' names."""
    result = runner.invoke(app, ["--lang", "zh-CN", *path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    said = result.stdout
    assert CJK.search(said) and "用法： root" in said and "显示本帮助并退出。" in said, said
    assert sentences_left(said) == [], said
    assert "--help" in said and "Usage:" not in said and "Options" not in said


@pytest.mark.slow  # every page again: CI; the loop asks the root page in English below
@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "socialcredit")
def test_every_help_page_is_english_under_lang_en(path: tuple[str, ...]) -> None:
    """The same pages in English, as the code writes them: no Chinese at all."""
    result = runner.invoke(app, ["--lang", "en", *path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Usage: root" in result.stdout and "Show this message and exit." in result.stdout
    assert CJK.search(result.stdout) is None, result.stdout


def test_the_root_help_page_is_english_under_lang_en() -> None:
    """The English walk's check on the root page, in the loop (decision 0106): a Chinese word
    leaking into English help shows on the page that lists every command."""
    result = runner.invoke(app, ["--lang", "en", "--help"], env=WIDE)
    assert result.exit_code == 0 and "Usage: root" in result.stdout, result.output
    assert CJK.search(result.stdout) is None, result.stdout


def test_a_default_that_is_a_word_is_in_the_readers_language() -> None:
    """``check --purpose``'s default is a phrase (written to the audit log): shown, and used, in
    the reader's language; a default the user types (``--engine duckdb``, ``--due-process on``,
    a path) is shown as typed. The scan fails on a default left in English words."""
    zh = runner.invoke(app, ["--lang", "zh-CN", "check", "--help"], env=WIDE).stdout
    assert "[默认：命令行查询]" in zh and "command line check" not in zh, zh
    en = runner.invoke(app, ["--lang", "en", "check", "--help"], env=WIDE).stdout
    assert "[default: command line check]" in en, en
    rescore = runner.invoke(app, ["--lang", "zh-CN", "rescore", "--help"], env=WIDE).stdout
    assert "[默认：duckdb]" in rescore, rescore
    simulate = runner.invoke(app, ["--lang", "zh-CN", "simulate", "--help"], env=WIDE).stdout
    assert "[默认：on]" in simulate and "[默认：simulation]" in simulate, simulate
    assert "[默认：command line check]" in sentences_left("--purpose 查询目的 [默认：command line check]")
    assert sentences_left("--x 某值 [默认：on] [默认：0.01] [默认：命令行查询]") == []


def test_a_switch_that_is_neither_on_nor_off_is_said_in_chinese() -> None:
    """``simulate --due-process maybe`` (a value the user types, on or off): refused before
    anything runs, the option and the value as given, the rest in Chinese."""
    zh = runner.invoke(app, ["--lang", "zh-CN", "simulate", "--due-process", "maybe"], env=WIDE)
    assert zh.exit_code == 2 and "--due-process：'maybe' 不是 on 或 off" in zh.stderr, zh.stderr
    assert english_in([zh.stderr]) == []
    en = runner.invoke(app, ["--lang", "en", "simulate", "--feedback", "maybe"], env=WIDE)
    assert en.exit_code == 2 and "--feedback: 'maybe' is not on or off" in en.stderr, en.stderr


def test_a_subject_keys_bad_code_is_said_in_chinese(env: Path) -> None:
    """``keys create subject CODE`` with a code of the wrong length or check character: the
    code's refusal in Chinese (it was passed on as its English text), the argument named."""
    for code, chinese in (
        ("123", "共 3 位，身份代码应为 18 位"),
        ("110105194912310021", "校验码错误（应为 'X'）"),
    ):
        zh = runner.invoke(app, ["--lang", "zh-CN", "keys", "create", "subject", code], env=WIDE)
        assert zh.exit_code == 2 and "PRINCIPAL" in zh.stderr and chinese in zh.stderr, zh.stderr
        assert english_in([zh.stderr]) == [], zh.stderr
    en = runner.invoke(app, ["--lang", "en", "keys", "create", "subject", "123"], env=WIDE)
    assert "PRINCIPAL: code '123': has 3 characters, an identity code has 18" in en.stderr, en.stderr


def test_help_follows_lang_and_the_environment_wherever_it_is_asked() -> None:
    """``LANG`` alone, ``LC_ALL`` over it, ``--lang=zh-CN`` written with its value, and a group
    with no arguments (which prints its help); the run after a Chinese one is English again, and
    Typer's words are put back."""
    by_env = runner.invoke(app, ["cases", "decide", "--help"], env={**WIDE, "LANG": "zh_CN.UTF-8"})
    assert "对案件作出决定。" in by_env.stdout and "[必填]" in by_env.stdout
    overruled = runner.invoke(
        app, ["cases", "--help"], env={**WIDE, "LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB"}
    )
    assert "Objections, appeals, human reviews" in overruled.stdout and not CJK.search(overruled.stdout)
    equals = runner.invoke(app, ["--lang=zh-CN", "keys"], env=WIDE)
    assert "创建、列出和吊销 API 密钥。" in equals.stdout and "命令" in equals.stdout
    top = runner.invoke(app, ["--lang", "zh-CN", "--help"], env=WIDE)
    assert "socialcredit：一个公开、可审计的社会信用系统。" in top.stdout
    again = runner.invoke(app, ["keys", "--help"], env=WIDE)
    assert "Create, list and revoke API keys." in again.stdout and not CJK.search(again.stdout)
    assert "Create, list and revoke API keys." in sentences_left(again.stdout)  # the scan finds English
    assert rich_utils.OPTIONS_PANEL_TITLE == "Options" and rich_utils.ERRORS_PANEL_TITLE == "Error"
    assert "[default: command line check]" in runner.invoke(app, ["check", "--help"], env=WIDE).stdout


def test_a_usage_error_is_worded_in_chinese() -> None:
    """Click's own usage errors (a missing argument, an unknown option or command, a missing
    option's value, an extra argument) in Chinese, the argument's and option's names kept; in
    English as Click words them."""
    cases = [
        (["score"], "缺少参数 'code'。", "Missing argument 'code'."),
        (["score", "--nope", "x"], "没有这个选项：--nope", "No such option: --nope"),
        (["cases", "file"], "没有这个命令：'file'。", "No such command 'file'."),
        (
            ["cases", "lst"],
            "没有这个命令：'lst'。您是否要找 'list'？",
            "No such command 'lst'. Did you mean 'list'?",
        ),
        (["score", "x", "--at"], "选项 '--at' 需要一个值。", "Option '--at' requires an argument."),
        (["keys", "revoke", "a", "b"], "收到多余的参数（b）", "Got unexpected extra argument(s) (b)"),
        (["simulate", "--years", "x"], "'--years' 的值无效：应为有效的整数", "be a valid integer"),
        (["demo", "--residents", "5"], "'--residents' 的值无效：应不小于 100", "or equal to 100"),
    ]
    for args, chinese, english in cases:
        zh = runner.invoke(app, ["--lang", "zh-CN", *args], env=WIDE)
        assert zh.exit_code == 2 and chinese in zh.stderr, zh.stderr
        assert "错误" in zh.stderr and sentences_left(zh.stderr) == [], zh.stderr
        en = runner.invoke(app, ["--lang", "en", *args], env=WIDE)
        assert en.exit_code == 2 and english in en.stderr and "Error" in en.stderr, en.stderr
        assert CJK.search(en.stderr) is None
        # the usage line and the hint, where Click gives them (not for an option's missing value)
        assert ("用法： root" in zh.stderr) == ("Usage: root" in en.stderr)
        assert ("请运行 'root" in zh.stderr) == ("Try 'root" in en.stderr)
    assert "用法： root score" in runner.invoke(app, ["--lang", "zh-CN", "score"], env=WIDE).stderr


def test_every_help_text_is_in_both_catalogues_as_rendered() -> None:
    """The catalogue's key is the text as ``--help`` shows it (paragraphs on one line), and each
    has its Chinese: the extraction and the rendering read the same tree."""
    texts = {text for text, _f, _l in help_texts()}
    assert "Show this message and exit." in texts and len(texts) > 150
    zh = i18n.catalogue("zh_CN")
    for text in texts:
        assert text == fold(text) and zh.gettext(text) != text, text


@pytest.mark.parametrize(
    ("number", "chinese"),
    [
        (errno.ENOENT, "没有该文件或目录"),
        (errno.EACCES, "权限不足"),
        (errno.EISDIR, "这是一个目录"),
        (errno.ENOTDIR, "不是目录"),
        (errno.EEXIST, "文件已存在"),
        (errno.ENOSPC, "设备上没有剩余空间"),
        (errno.ENOTEMPTY, "目录非空"),
        (errno.ENAMETOOLONG, "文件名过长"),
        (errno.EMFILE, "打开的文件过多"),
        (errno.ETIMEDOUT, "连接超时"),
        (errno.ECONNRESET, "连接被对方重置"),
        (errno.EPIPE, "管道已断开"),
        (errno.EBUSY, "设备或资源忙"),
        (errno.EXDEV, "无效的跨设备链接"),
        (errno.ELOOP, "符号链接层数过多"),
        (errno.EINVAL, "参数无效"),
        (errno.EIO, "输入/输出错误"),
    ],
)
def test_the_systems_common_reasons_are_worded_by_their_errno(number: int, chinese: str) -> None:
    """An operating-system error a command quotes is worded by its number in Chinese, whatever
    language the system's own message is in; in English by the catalogue too."""
    exc = OSError(number, os.strerror(number), "/x")
    assert problem(exc) == os.strerror(number).lower()  # the C library's English, in lower case
    with i18n.using("zh_CN"):
        assert problem(exc) == chinese
        assert problem(OSError(number, "Message in the system's own locale")) == chinese


ERRNO_NAMES = """
EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN EWOULDBLOCK ENOMEM
EACCES EFAULT EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY
EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY
ELOOP EOVERFLOW EILSEQ EPROTO EBADMSG ENOTSOCK EMSGSIZE EPROTONOSUPPORT EOPNOTSUPP ENOTSUP
EAFNOSUPPORT EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED
ECONNRESET ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETIMEDOUT ECONNREFUSED EHOSTDOWN
EHOSTUNREACH EALREADY EINPROGRESS ESTALE EDQUOT ECANCELED EREMOTEIO ENOMEDIUM
"""
WORDED_ERRNOS = ERRNO_NAMES.split()
"""The reasons a command line can meet on Linux, named by the test, not read from the table
under test (a reason dropped from the table fails here)."""


@pytest.mark.parametrize("name", WORDED_ERRNOS)
def test_every_errno_a_command_can_meet_is_chinese(name: str) -> None:
    """Each of them, given in the system's English, is worded in Chinese with no English word
    left; in English as the C library words it."""
    number = getattr(errno, name)
    exc = OSError(number, os.strerror(number), "/x")
    assert problem(exc) == os.strerror(number).lower()
    with i18n.using("zh_CN"):
        said = problem(exc)
    assert CJK.search(said) and not re.search(r"[a-z]{3,}", said.replace("ioctl", "")), (name, said)


def test_other_reasons_keep_the_systems_words_in_a_translated_frame() -> None:
    """A reason we do not know by number is named (its errno) in a translated frame, the
    system's words kept after it; a timeout with no number is worded; a JSON parser's and a
    codec's keep their own words, framed with where they are."""
    with i18n.using("zh_CN"):
        rare = OSError(errno.ENOKEY, "Required key not available")
        assert problem(rare) == f"系统错误 ENOKEY（{errno.ENOKEY}）：Required key not available"
        assert problem(TimeoutError("timed out")) == "超时"
        try:
            json.loads("{\n  x")
        except json.JSONDecodeError as exc:
            assert (
                problem(exc) == "不是 JSON：第 2 行第 3 列：Expecting property name enclosed in double quotes"
            )
        try:
            b"\xff".decode("utf-8")
        except UnicodeDecodeError as exc:
            assert problem(exc) == "不是 UTF-8 文本：第 0 字节：invalid start byte"


def test_a_file_a_command_cannot_read_is_named_in_chinese(tmp_path: Path) -> None:
    """``proof verify`` given a missing file, a directory, or a file that is no JSON: the frame and
    the system's reason in Chinese (the parser's own detail kept); the path as it is."""
    pem = tmp_path / "log.pem"
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    cases = [
        (tmp_path / "missing.json", "：没有该文件或目录", "No such file or directory"),
        (tmp_path, "：这是一个目录", "Is a directory"),
        (bad, "：不是 JSON：第 1 行第 2 列：Expecting property name", "not JSON: line 1, column 2"),
    ]
    for path, chinese, english in cases:
        args = ["proof", "verify", str(path), "--key", str(pem)]
        zh = runner.invoke(app, ["--lang", "zh-CN", *args], env=WIDE)
        assert zh.exit_code == 2 and f"PROOF: 无法读取 {path}{chinese}" in zh.stderr, zh.stderr
        en = runner.invoke(app, ["--lang", "en", *args], env=WIDE)
        assert f"PROOF: cannot read {path}: " in en.stderr and english.lower() in en.stderr.lower(), en.stderr
