"""Keyword checks in English and Chinese: the linter's second line.

The first line is an item's ``category`` (:mod:`.categories`): an item is judged by what it says
it is about. The words are checked as well, because a category is the author's claim: a political
item filed under a harmless category ("public services: spreading rumours") is caught here, and
the linter reports it as filed under one category while its words say another.

The patterns are phrases on word boundaries rather than bare substrings, so that ordinary words do
not trip them ("apolitical", "cultural", "assembly line", "good faith", a "Volunteer Association"
named in a title, a "bankruptcy petition", a "third party", "consumer complaints"). Bare words that
are mostly innocent are left out on purpose ("family", "online", "network", "party", 家庭 or 网络
alone), for the same reason: a match here is an error, and a false positive would teach authors
to ignore the linter, which is worse than the false negative a determined author can always
achieve by renaming a thing. Chinese has no word boundaries, so its terms are chosen to be specific
on their own, with a following context where the bare term is too broad.

Sources are agency ids and are not scanned at all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _en(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for p in patterns]


def _zh(*terms: str) -> list[re.Pattern[str]]:
    # plain terms, or a term with a context written as a regular expression
    return [re.compile(t) for t in terms]


_GOVT = (
    r"(?:the\s+)?(?:local\s+)?(?:government|party|state|authorities|officials|leaders(?:hip)?|cadres|police)"
)

_OFFICIALS = r"(?:the\s+)?(?:local\s+)?(?:government|authorities|officials|leaders(?:hip)?|cadres)"
"""The government and its officials, without "party" or "state", which are also a contract's
party and a state of affairs ("the opposing party", "statements on the state of its accounts")."""

NEVER: dict[str, list[re.Pattern[str]]] = {
    "political-expression": [
        *_en(
            r"politic(?:s|al|ally)",
            r"dissent(?:s|ed|ing|er|ers)?",
            r"dissidents?",
            r"freedom\s+of\s+(?:speech|expression|the\s+press|thought)",
            r"free\s+speech",
            r"(?:expressing|expression\s+of)\s+(?:views|opinions)",
            r"improper\s+(?:remarks|speech|comments)",
            r"sensitive\s+(?:posts?|speech|content|topics?)",
            r"human\s+rights\s+(?:defen[cs]e|activis[mt]s?|lawyers?)",
            r"subversi(?:on|ve)",
            r"separatis(?:m|ts?)",
            r"inappropriate\s+(?:remarks|speech|comments)",
            r"human\s+rights\s+(?:cases?|work|defenders?)",
            r"oppos(?:e|es|ed|ing|ition)\s+(?:to\s+)?" + _OFFICIALS,
        ),
        *_zh("政治", "言论", "异见", "颠覆", "反动", "分裂国家", r"反对(?:党|政府|国家|社会主义|领导)"),
    ],
    "criticism-of-officials": [
        *_en(
            r"criticis(?:e|es|ed|ing|m)\s+(?:of\s+)?" + _GOVT,
            r"criticiz(?:e|es|ed|ing)\s+(?:of\s+)?" + _GOVT,
            r"critical\s+of\s+" + _GOVT,
            r"(?:mock(?:s|ed|ing)?|insult(?:s|ed|ing)?|slander(?:s|ed|ing)?|satiri[sz](?:e|es|ed|ing))\s+"
            + _GOVT,
            r"(?:online\s+)?opinions?\s+(?:about|on)\s+" + _GOVT,
            r"complain(?:s|ed|ing|ts?)?\s+(?:about|against)\s+" + _GOVT,
            r"(?:comments?|remarks|statements|views)\s+(?:about|on|against)\s+" + _OFFICIALS,
        ),
        *_zh(
            "批评政府",
            "批评官员",
            "批评领导",
            "妄议",
            r"(?:诋毁|丑化|攻击|辱骂)(?:党|国家|政府|领导|英烈|干部|官员)",
        ),
    ],
    "online-speech": [
        *_en(
            r"rumou?rs?",
            r"rumou?r-?mongering",
            r"spreading\s+(?:false\s+)?information",
            r"fake\s+news",
            r"online\s+(?:speech|posts?|comments?|content|opinions?|remarks)",
            r"(?:posting|posts?|comments?|commenting)\s+(?:online|on\s+(?:the\s+)?internet|on\s+social\s+media)",
            r"social\s+media\s+(?:posts?|accounts?|activity|comments?)",
            r"internet\s+(?:posts?|speech|comments?)",
            r"weibo",
            r"wechat\s+(?:moments|posts?|groups?)",
            r"forward(?:s|ed|ing)?\s+(?:a\s+)?posts?",
            r"(?:remarks|comments|opinions|posts?|articles?|statements)\s+on\s+(?:the\s+)?"
            r"(?:internet|web|social\s+media|microblogs?|weibo|wechat|douyin|tiktok|twitter)",
            r"(?:micro)?blog(?:s|ging|gers?|ged|posts?)?",
            r"vlog(?:s|ging|gers?)?",
            r"tweet(?:s|ed|ing)?|twitter",
            r"douyin|tiktok",
        ),
        *_zh(
            "造谣",
            "谣言",
            "传谣",
            "网络言论",
            "网上言论",
            "发帖",
            "转发",
            "微博",
            "朋友圈",
            "散布虚假信息",
            r"(?:网上|网络上?|互联网上?|微信|论坛)(?:发表|评论|留言|散布)",
            "不当评论",
            "博客",
            "推特",
            "抖音",
            r"(?:发布|散布|传播)负面",
        ),
    ],
    "news-reporting": [
        *_en(
            r"journalis(?:m|ts?|tic)",
            r"reporters?",
            r"news\s+(?:reports?|reporting|coverage|articles?|stories|media)",
            r"press\s+(?:coverage|reports?|freedom|interviews?)",
            r"(?:media|press)\s+interviews?",
            r"interviews?\s+(?:with|to|for)\s+(?:the\s+)?(?:foreign\s+)?(?:media|journalists|press|reporters)",
            r"foreign\s+(?:media|press|news)",
            r"(?:speak(?:s|ing)?|spoke|talk(?:s|ed|ing)?)\s+to\s+(?:the\s+)?(?:foreign\s+)?"
            r"(?:press|media|journalists|reporters)",
        ),
        *_zh("新闻", "记者", "报道", "采访", "媒体"),
    ],
    "religion-or-belief": [
        *_en(
            r"religio(?:n|ns|us|sly)",
            r"church(?:es)?",
            r"mosques?",
            r"temples?",
            r"monaster(?:y|ies)",
            r"worship(?:s|ped|ping|pers)?",
            r"pray(?:s|ed|ing|er|ers)?",
            r"cults?",
            r"falun(?:\s*gong)?",
            r"bibles?",
            r"qur'?an|koran",
            r"clergy|imams?|priests?|pastors?|monks?|nuns?",
            r"faith\s+(?:group|community|activit(?:y|ies)|practice)s?",
            r"missionar(?:y|ies)|proselyti[sz](?:e|es|ed|ing)",
            r"ramadan",
            r"(?:long|abnormal)\s+beards?",
            r"(?<!corporate\s)veils?|hijabs?|headscar(?:f|ves)|burqas?",
            r"christian(?:s|ity)?|catholic(?:s|ism)?|protestant(?:s|ism)?|evangelical",
            r"muslims?|islam(?:ic)?|buddhis(?:m|ts?)|taois(?:m|ts?)|daois(?:m|ts?)|hindu(?:s|ism)?|sikhs?",
            r"jews|jewish|judaism|synagogues?",
            r"(?:attend(?:s|ed|ing)?|going\s+to|goes\s+to|went\s+to)\s+mass",
            r"sermons?|scriptures?|baptis(?:m|ed|es|ing)|baptiz(?:ed|es|ing)",
            r"(?:sunday|church|religious|worship)\s+services?",
            r"spiritual\s+(?:practices?|beliefs?|groups?|activit(?:y|ies))",
        ),
        *_zh(
            "宗教",
            "信仰",
            "教会",
            "寺庙",
            "寺院",
            "清真寺",
            "邪教",
            "传教",
            "礼拜活动",
            "法轮功",
            "斋月",
            "蒙面",
            "异常胡须",
            "基督",
            "佛教",
            "道教",
            "伊斯兰",
            "穆斯林",
            "天主教",
            "祈祷",
            "祷告",
            "烧香",
            "拜佛",
            "念经",
            "诵经",
            "教堂",
            "圣经",
            "古兰经",
            "受洗",
            "牧师",
            "神父",
            "阿訇",
            "喇嘛",
            "做礼拜",
            "聚礼",
        ),
    ],
    "petitioning": [
        *_en(
            # not a court filing: "bankruptcy petition", "petition for divorce"
            r"(?<!bankruptcy\s)(?<!divorce\s)petition(?:s|er|ers|ing|ed)?"
            r"(?!\s+(?:the\s+court\s+)?for\s+(?:bankruptcy|divorce|retrial|review|winding))",
            r"letters\s+and\s+visits",
            r"xinfang",
            r"shangfang",
            r"complain(?:s|ed|ing|ts?)?\s+(?:to|with)\s+(?:the\s+)?(?:higher\s+)?"
            r"(?:authorities|government|officials|leaders(?:hip)?|cadres|party)",
            r"(?:vexatious|malicious)\s+complaints?",
            r"(?:appeal(?:s|ed|ing)?|complain(?:s|ed|ing|ts?)?|visits?|going|went|travel(?:s|led|ling)?)\s+"
            r"to\s+(?:the\s+)?(?:higher(?:[\s-]level)?\s+)?(?:authorities|government|officials|"
            r"leaders(?:hip)?|the\s+cent(?:re|er))",
            r"(?:appeal(?:s|ed|ing)?|complain(?:s|ed|ing|ts?)?)\s+(?:to|in)\s+beijing",
            r"skip[\s-]level\s+(?:visits?|petitions?|complaints?|appeals?)",
        ),
        *_zh(
            "上访",
            "信访",
            "请愿",
            "缠访",
            "闹访",
            "集体访",
            "进京访",
            "恶意投诉",
            "恶意举报",
            r"越级(?:访|反映|投诉)",
            r"赴京(?:上访|访|非正常)",
            "非正常访",
            "重复访",
            "访民",
        ),
    ],
    "association-and-assembly": [
        *_en(
            r"assembl(?:y|ies)(?!\s+lines?\b)",
            r"demonstrat(?:ion|ions|or|ors)(?!\s+(?:cit(?:y|ies)|zones?|projects?|sites?|areas?))",
            r"protest(?:s|ed|ing|er|ers)?",
            r"rall(?:y|ies)",
            r"sit-?ins?",
            r"strikes?\s+(?:by|of)\s+workers",
            r"(?:going|went|goes|go)\s+on\s+strike",
            r"freedom\s+of\s+association",
            # "associating with", "her association with": not "run in association with the Red Cross"
            r"associat(?:ing|es?)\s+with",
            r"(?:his|her|their|one's|a\s+person's|the\s+subject's)\s+associations?\s+with",
            r"(?:join(?:s|ed|ing)?|form(?:s|ed|ing)?|founding|membership\s+(?:of|in)|"
            r"members?\s+of)\s+(?:an?\s+|the\s+)?(?:unregistered\s+|illegal\s+|banned\s+|"
            r"independent\s+)?(?:associations?|societ(?:y|ies)|organi[sz]ations?|unions?)",
            r"(?:unregistered|illegal|banned|unauthori[sz]ed|independent)\s+"
            r"(?:associations?|societ(?:y|ies)|organi[sz]ations?|(?:trade\s+)?unions?|groups?|ngos?)",
            r"(?:membership\s+(?:of|in)|members?\s+of|join(?:s|ed|ing)?|form(?:s|ed|ing)?)\s+"
            r"(?:an?\s+|the\s+)?(?:unregistered\s+|illegal\s+|banned\s+|independent\s+)?ngos?",
            r"(?:join(?:s|ed|ing)?|form(?:s|ed|ing)?|found(?:s|ed|ing)?|organi[sz](?:e|es|ed|ing))\s+"
            r"(?:an?\s+|the\s+)?(?:independent\s+)?(?:workers['\u2019]?|labou?r|trade)\s+unions?",
            r"(?:illegal|unlawful|unauthori[sz]ed|unapproved|mass)\s+gatherings?",
            r"work\s+stoppages?|strike\s+action",
            r"(?:organi[sz](?:e|es|ed|ing)|lead(?:s|ing)?|led|join(?:s|ed|ing)?|call(?:s|ed|ing)?)\s+"
            r"(?:an?\s+|the\s+)?strikes?",
        ),
        *_zh(
            "集会",
            "游行",
            "示威",
            "抗议",
            "罢工",
            "结社",
            "非法组织",
            "非法社会组织",
            "独立工会",
            "非法聚集",
            "聚集上访",
            "群体性事件",
        ),
    ],
    "family-and-private-life": [
        *_en(
            r"family\s+(?:life|planning|affairs|relationships?|matters|virtues?)",
            r"private\s+life|personal\s+life",
            r"marri(?:age|ages|ed)|marital",
            r"divorc(?:e|es|ed|ing)",
            r"(?<!back-)(?<!back\s)dating|romantic",
            r"sex(?:ual)?\s+(?:orientation|life|partners?|conduct)",
            r"cohabit(?:s|ing|ation)?",
            r"pregnan(?:t|cy|cies)|childbirth|giving\s+birth",
            r"having\s+(?:a\s+|more\s+|too\s+many\s+)?(?:child|children|baby|babies)",
            r"visit(?:s|ed|ing)?\s+(?:one's\s+|their\s+|his\s+|her\s+)?(?:elderly\s+|aged\s+)?parents",
            r"filial(?:\s+piety)?",
            r"nappies|diapers",
            r"parenthood",
            r"extra-?marital|adulter(?:y|ous|er|ers)|infidelity|mistress(?:es)?",
            r"(?:love|extramarital)\s+affairs?|having\s+an\s+affair",
        ),
        *_zh(
            r"家庭(?:生活|关系|成员|情况|矛盾|和睦|美德)",
            "婚姻",
            "离婚",
            "结婚",
            "恋爱",
            "婚恋",
            "相亲",
            r"生育(?!保险|津贴)",
            "超生",
            "私生活",
            "个人生活",
            "孝道",
            "孝顺",
            "看望父母",
            "常回家看看",
            "尿布",
            "纸尿裤",
            "性取向",
            "婚外",
            "出轨",
            "通奸",
            "包养",
            "情人",
            "非婚生",
            "私生子",
        ),
    ],
    "ethnicity": [
        *_en(
            r"ethnic(?:ity|ities|ally)?",
            r"racial(?:ly)?",
            r"minority\s+nationalit(?:y|ies)|national\s+minorit(?:y|ies)",
            r"u[iy]gh?urs?",
            r"tibetans?",
            r"kazakhs?",
            r"minority\s+languages?|mother\s+tongue",
        ),
        *_zh("民族", "种族", "维吾尔", "维族", "藏族", "回族", "哈萨克"),
    ],
    "contacts": [
        *_en(
            r"(?:contacts|friends|relatives|family\s+members|associates|followers|"
            r"acquaintances|connections)['\u2019]?\s+(?:scores?|ratings?|grades?|credit|"
            r"records?|behaviou?r|conduct|posts?|views|opinions|statements|speech|says?|said|reports?)",
            r"(?:scores?|ratings?|grades?)\s+of\s+(?:one's\s+|a\s+person's\s+|their\s+|his\s+|"
            r"her\s+|the\s+subject's\s+)?(?:contacts|friends|relatives|associates|connections)",
            r"friends?\s+with",
            r"(?:low|poorly|badly)[-\s](?:scored|scoring|rated|graded)\s+(?:friends|contacts|people|persons|relatives)",
            r"(?:one's|their|his|her|a\s+person's|the\s+subject's)\s+(?:contacts|friends|acquaintances)",
            r"social\s+circle",
            r"interpersonal\s+relationships?",
            r"social\s+(?:graph|network\s+scor(?:e|es|ing))",
            r"guilt\s+by\s+association",
            r"(?:people|persons|those|everyone)\s+(?:the\s+subject|one|a\s+person|he|she|they)\s+"
            r"(?:knows?|associates?\s+with|is\s+connected\s+to|mixes\s+with)",
            r"(?:scores?|ratings?|grades?|credit)\s+of\s+(?:the\s+)?(?:people|persons|those)\s+"
            r"(?:around|close\s+to|known\s+to|connected\s+to)",
        ),
        *_zh(
            "人际关系",
            "社交关系",
            "社交圈",
            "好友",
            "联系人",
            "亲友信用",
            "交友",
            "人脉",
            r"(?:朋友|亲友|熟人|亲戚)的?(?:信用|评分|分数|行为|记录|等级)",
        ),
    ],
    "party-membership": [
        *_en(
            r"(?<!third[\s-])(?<!relying\s)(?<!other\s)(?<!contracting\s)(?<!injured\s)"
            r"party\s+(?:membership|members?|dues|branch(?:es)?|cadres?|loyalty|organi[sz]ations?)",
            r"communist\s+party",
            r"cpc|ccp",
            r"youth\s+league",
            r"political\s+donations?",
            r"donat(?:ions?|ing|es?|ed)\s+to\s+(?:a|the)\s+(?:political\s+)?party",
            r"join(?:s|ed|ing)?\s+the\s+party",
        ),
        *_zh("党员", "党费", "入党", "共产党", "党组织", "共青团", "党性", "党建"),
    ],
}
"""The never-scorable categories of the shipped vocabulary, each with the words that say an item
is about it (``tests/test_lint_categories.py`` holds the keys to the vocabulary's)."""


_PINYIN: dict[str, list[re.Pattern[str]]] = {
    "political-expression": _en(r"yanlun", r"fandong"),
    "criticism-of-officials": _en(r"wangyi", r"piping\s*(?:zhengfu|guanyuan|lingdao)"),
    "online-speech": _en(r"zaoyao", r"yaoyan", r"chuanyao", r"fatie", r"pengyouquan", r"weibo"),
    "news-reporting": _en(r"xinwen", r"jizhe", r"caifang"),
    "religion-or-belief": _en(
        r"zongjiao",
        r"jiaohui",
        r"fojiao",
        r"jidujiao",
        r"yisilan",
        r"tianzhujiao",
        r"xiejiao",
        r"chuanjiao",
        r"libai",
    ),
    "petitioning": _en(r"yuejifang", r"chanfang", r"naofang"),
    "association-and-assembly": _en(r"bagong", r"jieshe", r"youxing\s*shiwei", r"jihui\s*youxing"),
    "family-and-private-life": _en(r"hunyin", r"lihun", r"jiehun", r"lianai", r"chaosheng", r"hunwaiqing"),
    "ethnicity": _en(r"minzu", r"zhongzu"),
    "contacts": _en(r"haoyou", r"renji\s*guanxi", r"shejiao\s*(?:guanxi|quan)", r"lianxiren"),
    "party-membership": _en(r"dangyuan", r"dangfei", r"rudang", r"gongchandang", r"gongqingtuan"),
}
"""Pinyin of the Chinese terms, as a Chinese catalogue may write an item's code
(``zongjiao.huodong`` is 宗教活动); only terms that mean nothing else (not ``zhengzhi``, also 整治
"rectification", ``kangyi``, also 抗疫, ``jidu``, also 季度 "quarter", ``xinyang`` and
``qingyuan``, also cities, ``dianfu``, also 垫付 "advance payment")."""
for _category, _patterns in _PINYIN.items():
    NEVER[_category].extend(_patterns)

THIRD_PARTY: list[re.Pattern[str]] = [
    *_en(
        r"child(?:ren|'s|ren's)?",
        r"sons?|daughters?",
        r"spouses?|husbands?|wi(?:fe|ves)",
        r"family\s+members|relatives|dependants?|dependents?",
        r"parents",
    ),
    *_zh("子女", "配偶", "家属", "亲属", "父母", "家人", "孩子", "亲友"),
]
"""Words saying that a measure falls on someone other than its subject (a debtor's children)."""


PURCHASE_INFERENCE: list[re.Pattern[str]] = [
    *_en(
        # health read from purchases
        r"medicines?|medications?|prescriptions?|pharmac(?:y|ies)|drugstores?",
        r"illness(?:es)?|diseases?|disabilit(?:y|ies)|chronic(?:ally)?\s+ill",
        r"pregnancy\s+tests?|contracepti(?:on|ves?)|condoms?|fertility",
        r"insulin|antidepressants?|hiv|mental\s+health|therapy|rehab(?:ilitation)?",
        r"health\s+(?:products?|supplements?|conditions?|status)",
        # the inference itself
        r"taken\s+(?:to|as)\s+(?:show|mean|indicate|suggest|reveal|a\s+sign)",
        r"(?:considered|regarded|seen)\s+as\s+(?:probably\s+)?(?:an?\s+)?(?:parent|idle|responsible|irresponsible)",
        r"(?:responsible|good|bad|irresponsible)\s+(?:parents?|mothers?|fathers?)",
        r"(?:a\s+)?sign\s+of\s+(?:being\s+)?(?:a\s+)?(?:parent|religious|believer|ill|sick)",
        r"baby\s+(?:products?|formula|food|clothes)|infant\s+formula|prams?|strollers?",
    ),
    *_zh("药品", "药店", "处方", "疾病", "残疾", "避孕", "验孕", "母婴", "奶粉", "负责任的父母"),
]
"""Words saying that a consumption item reads a purchase as a sign of family, health or belief:
refused on consumption items (``lint._inference_findings``), where the never-scorable words for
family and belief already apply everywhere."""


def _normalise(text: str) -> str:
    # Codes and ids separate words with dots, hyphens and underscores: read them as spaces.
    return re.sub(r"[._\-]+", " ", text)


_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝАВЕКМНОРСТХУІЅЈαεικνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧΖ",
    "aeopcyxijsdqwABEKMHOPCTXYISJaeikvoptuxABEHIKMNOPTYXZ",
)
"""Cyrillic and Greek letters drawn like Latin ones, read as those ("Pеtitioning" with a Cyrillic
е is petitioning)."""

_TRADITIONAL = str.maketrans(
    "論異見顛動國評員領導議詆毀醜擊黨謠傳網絡發轉佈虛聞記報採訪體會廟禮輪齋鬍鬚請願級纏鬧進惡訴舉遊罷結組織獨"
    "關係況離戀愛親險貼個順紙褲種維爾薩際聯繫費產團屬藥處殘驗嬰負責蘭禱燒經誦聖師姦養軌脈幹對議辱罵敎",
    "论异见颠动国评员领导议诋毁丑击党谣传网络发转布虚闻记报采访体会庙礼轮斋胡须请愿级缠闹进恶诉举游罢结组织独"
    "关系况离恋爱亲险贴个顺纸裤种维尔萨际联系费产团属药处残验婴负责兰祷烧经诵圣师奸养轨脉干对议辱骂教",
)
"""Traditional characters of the Chinese terms below, read as the simplified ones (a catalogue
written in Hong Kong or Taiwan: 上訪 is 上访)."""

_HIDDEN = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])[\s\u3000·・]+(?=[\u3400-\u9fff])")


def _fold(text: str) -> str:
    """``text`` as its reader reads it: compatibility forms folded (full-width letters, NFKC),
    invisible characters dropped, look-alike letters read as Latin, traditional characters as
    simplified, and no gaps between Chinese characters (上 访 is 上访)."""
    folded = _HIDDEN.sub("", unicodedata.normalize("NFKC", text))
    return _CJK_GAP.sub("", folded.translate(_LOOKALIKES).translate(_TRADITIONAL))


def first_match(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    """The first term of ``text`` (as written, or with a code's separators read as spaces, each
    also as :func:`_fold` reads it) that one of ``patterns`` matches."""
    folded = _fold(text)
    candidates = (
        (text, _normalise(text)) if folded == text else (text, _normalise(text), folded, _normalise(folded))
    )
    for candidate in candidates:
        for pat in patterns:
            m = pat.search(candidate)
            if m:
                return m.group(0)
    return None


def never_terms(text: str) -> list[tuple[str, str]]:
    """(never-scorable category id, matched term) for every such category the text is about."""
    return list(_never_terms(text))


@lru_cache(maxsize=8192)
def _never_terms(text: str) -> tuple[tuple[str, str], ...]:
    # Cached: the same scheme texts are scanned each time an API app is built (the safeguards
    # check at startup, a third of building one: decision 0067); the answer depends on nothing
    # but the text; bounded, as a served process lints schemes it is given too.
    out: list[tuple[str, str]] = []
    for category, patterns in NEVER.items():
        term = first_match(text, patterns)
        if term is not None:
            out.append((category, term))
    return tuple(out)
