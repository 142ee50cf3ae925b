"""The integrity commands and the demo in the command's language (issue 18.2: "All portal text,
CLI messages and API error messages go through gettext catalogues (Babel), with zh-CN and en
complete [...] `--lang` or `LANG` for the CLI"; decisions 0035, 0053, 0059): ``verify``,
``checkpoint``, ``backup``, ``restore``, ``proof verify``, ``witness`` and ``demo`` print their
lines and refusals in Chinese under ``--lang zh-CN``, in English as before under ``--lang en``;
``--json`` stays English data, and ids, codes, chain names and paths stay as they are."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from socialcredit import checkpoints
from socialcredit.cli import app
from socialcredit.service import System
from socialcredit.store import tables as t
from tests.conftest import person
from tests.support.api import h
from tests.support.cli import runner
from tests.support.english import english_in
from tests.support.tlog import fill

CJK = re.compile(r"[\u4e00-\u9fff]")


def both(*args: str) -> tuple[str, str]:
    """What a command says (standard output and error) in Chinese and in English; the same exit
    status in both."""
    zh = runner.invoke(app, ["--lang", "zh-CN", *args])
    en = runner.invoke(app, ["--lang", "en", *args])
    assert zh.exit_code == en.exit_code, (args, zh.output, en.output)
    return zh.stdout + zh.stderr, en.stdout + en.stderr


def chinese(said: str) -> str:
    """``said`` holds Chinese and no English sentence (the lines of a command run in Chinese)."""
    lines = [line for line in said.splitlines() if line.strip()]
    assert CJK.search(said) and english_in(lines) == [], said
    return said


def ingest_two(env: Path) -> None:
    (env / "home").mkdir(exist_ok=True)
    path = env / "feed.csv"
    path.write_text(
        "source_record_id,subject,item,source,occurred_on\n"
        f"1,{person(61)},traffic.red-light,traffic-police,2026-06-01\n"
        f"2,{person(62)},traffic.red-light,traffic-police,2026-06-02\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0


def test_verify_checkpoint_backup_and_restore_speak_the_commands_language(env: Path) -> None:
    """Each line of ``verify``, ``checkpoint`` (written, verified), ``backup`` and ``restore`` (a
    refusal of a database that is not empty, of a damaged file) in Chinese; in English as it was."""
    ingest_two(env)
    zh, en = both("verify")
    assert "完好" in chinese(zh) and "intact: 2 records and" in en
    zh, en = both("checkpoint", "--out", str(env / "cp"))
    assert "已将 4 个检查点写入" in chinese(zh) and "4 checkpoints written to" in en
    pem = env / "log.pem"
    signer = checkpoints.signer(env / "home", checkpoints.DEFAULT_ORIGIN)
    pem.write_text(checkpoints.public_pem(signer.public))
    zh, en = both("checkpoint", "verify", str(env / "cp" / "records.checkpoint"), "--key", str(pem))
    assert "延续了该检查点：records 2 -> 2" in chinese(zh) and "extends the checkpoint: records 2 -> 2" in en
    # a checkpoint of a longer log than this one, signed with its key: the log is not extending it
    cp = (env / "cp" / "records.checkpoint").read_text(encoding="utf-8").split("\n")
    longer = env / "longer.checkpoint"
    longer.write_text(signer.sign(f"{cp[0]}\n99\n{cp[2]}\n"), encoding="utf-8")
    zh, en = both("checkpoint", "verify", str(longer), "--key", str(pem))
    assert "被改写: records：检查点含 99 条，日志现在只有 2 条" in chinese(zh), zh
    assert "rewritten: records: the checkpoint holds 99 entries, the log now only 2" in en
    zh, en = both("backup", str(env / "b.gz"))
    assert "备份到" in chinese(zh) and "(2 records," in en and "audit entries) to" in en
    zh, en = both("restore", str(env / "b.gz"))
    assert "目标数据库不是空的" in chinese(zh) and "the target database is not empty" in en
    damaged = env / "damaged.gz"
    lines = gzip.decompress((env / "b.gz").read_bytes()).splitlines(keepends=True)
    damaged.write_bytes(gzip.compress(b"".join(lines[:-1])))  # its end marker cut off
    zh, en = both("restore", str(damaged))
    assert "damaged.gz：备份不完整" in chinese(zh) and "damaged.gz: the backup is truncated" in en


def test_a_broken_chain_is_named_in_the_commands_language(env: Path) -> None:
    """``verify`` names the altered entry by its seq and id in Chinese (exit 1), and ``checkpoint``
    refuses to sign a broken chain in Chinese; ``--json`` keeps the English problem."""
    ingest_two(env)
    from socialcredit.settings import get_settings
    from socialcredit.store import Store

    store = Store(get_settings().url())
    try:
        with store.engine.begin() as conn:  # behind the application's back
            conn.execute(update(t.records).where(t.records.c.seq == 2).values(item="traffic.minor"))
            rid = conn.execute(select(t.records.c.record_id).where(t.records.c.seq == 2)).scalar_one()
    finally:
        store.close()
    zh, en = both("verify")
    assert f"records: 被改动：seq 2 ({rid})" in chinese(zh) and f"records: altered: seq 2 ({rid})" in en
    as_json = json.loads(runner.invoke(app, ["--lang", "zh-CN", "verify", "--json"]).stdout)
    assert as_json["problems"]["records"][0]["problem"] == "altered: seq 2", as_json
    zh, en = both("checkpoint")
    assert "records 链已损坏" in chinese(zh) and "the records chain is broken" in en


def test_proof_verify_and_witness_speak_the_commands_language(
    system: System, client: TestClient, tmp_path: Path
) -> None:
    """``proof verify`` (verified, a forged proof, a checkpoint that is no signed note, a file that
    is no JSON object: the reasons of the proof's check too) and a witness given no http(s) URL,
    in Chinese; the origin, the key's name and id stay as they are."""
    fill(system, 4)
    with system.store.engine.connect() as conn:
        rid = conn.execute(select(t.records.c.record_id).where(t.records.c.seq == 2)).scalar_one()
    proof = client.get(f"/records/{rid}/proof", headers=h(system, "auditor")).json()
    path, pem = tmp_path / "proof.json", tmp_path / "log.pem"
    path.write_text(json.dumps(proof))
    pem.write_text(checkpoints.public_pem(system.tlog.signer.public))
    zh, en = both("proof", "verify", str(path), "--key", str(pem))
    assert "的第 2 条" in chinese(zh.split("\n")[0]) and "verified: entry 2 of" in en
    path.write_text(json.dumps({**proof, "leaf_index": 3}))
    zh, en = both("proof", "verify", str(path), "--key", str(pem))
    assert "核验未通过：该包含证明通向另一个根" in chinese(zh), zh
    assert "does not verify: the inclusion proof leads to another root" in en
    path.write_text(json.dumps({**proof, "checkpoint": "x"}))
    zh, en = both("proof", "verify", str(path), "--key", str(pem))
    assert "note: 不是签名笔记" in chinese(zh) and "note: not a signed note" in en
    path.write_text("[]")
    zh, en = both("proof", "verify", str(path), "--key", str(pem))
    assert "PROOF: 不是 JSON 对象" in chinese(zh) and "PROOF: not a JSON object" in en
    args = ("witness", "ftp://log.example/records", "--state", str(tmp_path / "w"), "--key", str(pem))
    zh, en = both(*args)
    assert "URL: 应为" in chinese(zh) and "an http(s) URL of a chain's log" in en


def test_the_demo_tells_its_city_in_the_commands_language(env: Path) -> None:
    """The demo's summary (the city, grades, lists, subjects to look up, timings, keys, what to
    try) and its notes on stderr (a city reused) in Chinese; codes, grades, list ids and keys
    stay; in English as it was. A database holding other data is refused in Chinese."""
    first = runner.invoke(app, ["--lang", "zh-CN", "demo", "--residents", "300", "--no-serve"])
    assert first.exit_code == 0, first.output
    said = chinese(first.stdout)
    for words in ("一座合成城市", "等级分布", "可查询的主体", "用时", "密钥（只显示这一次）", "试试："):
        assert words in said, said
    assert "等级 " in said and "court-dishonest-debtors/dishonest-debtors" in said
    again = runner.invoke(app, ["--lang", "en", "demo", "--residents", "300", "--no-serve"])
    assert "already in" in again.stderr and "A synthetic city" in again.stdout
    assert "Subjects to look up:" in again.stdout and "Try: " in again.stdout
    path = env / "r.csv"
    path.write_text(
        f"subject,item,source,source_record_id,occurred_on\n{person(63)},traffic.red-light,"
        "traffic-police,tp-9,2026-05-01\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    zh, en = both("demo", "--residents", "300", "--no-serve")
    origins = re.sub(r"（.*）", "", zh)  # the batches' origins it names are names of data, as stored
    assert "已有其他数据（demo city (residents=300" in zh and "请换一个" in chinese(origins)
    assert "already holds other data" in en
