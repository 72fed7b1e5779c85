"""The lesson's paragraph in English, Chinese and Japanese: its shape, the words the checks look for, worked answers.

Each edition of the lesson words the exercise its own way, so the checker
(:mod:`helpers.decision.exercise`) needs each language's three sentences (:data:`SHAPES`,
loose enough for the edition's own wording and for :data:`TEMPLATES`) and each
language's words for evidence, failures and stopping. The checks themselves are
written once; only what they look for differs.
"""

from __future__ import annotations

import re

from helpers.core.i18n import SOURCE_LANGUAGE

TEMPLATE = (
    "For this project, I will start with _____ using _____ because _____.\n"
    "I will not use a larger model yet because _____.\n"
    "I will switch only if the fixed eval set shows _____."
)
#: The lesson's paragraph in each language, as the checker shows it.
TEMPLATES = {
    "en": TEMPLATE,
    "zh": "在这个项目里，我先用 _____ 搭配 _____，因为 _____。\n"
    "我暂时不换更大的模型，因为 _____。\n只有固定评估集显示 _____ 时，我才切换。",
    "ja": "このプロジェクトでは、まず _____ を _____ で動かします。理由は _____ です。\n"
    "まだ大きなモデルに移らない理由は _____ です。\n固定評価セットが _____ を示したときだけ切り替えます。",
}
#: The three sentences in each language, loose enough for the lesson's own wording in each edition.
SHAPES = {
    "en": re.compile(
        r"for this project,?\s+i will start with\s+(?P<model>.+?)\s+using\s+(?P<runtime>.+?)\s+because\s+(?P<because>.+?)[.\s]*"
        r"i will not use a larger model yet because\s+(?P<not_larger>.+?)[.\s]*"
        r"i will switch only if the fixed eval set shows\s+(?P<switch>.+?)[.\s]*$",
        re.I | re.S,
    ),
    "zh": re.compile(
        r"项目[里中]?[，,]?\s*我[会将]?\s*先用\s*(?P<model>.+?)\s*(?:和|与|搭配|配合|加上|加|跑在|在)\s*(?P<runtime>.+?)\s*(?:上|来)?"
        r"\s*[，,]?\s*是?因为\s*(?P<because>.+?)\s*[。.；;]\s*"
        r"我(?:暂时|现在|目前|还)*不(?:用|换|使用)更大的?模型\s*[，,]?\s*是?因为\s*(?P<not_larger>.+?)\s*[。.；;]\s*"
        r"只有(?:当|在)?\s*固定评估集\s*(?:显示出?|表明)\s*(?P<switch>.+?)\s*(?:时|的时候)\s*[，,]?\s*我才(?:切换|换|升级)",
        re.I | re.S,
    ),
    "ja": re.compile(
        r"(?:project|プロジェクト)\s*で(?:は)?[、,]?\s*(?:まず|最初に)\s*(?P<model>.+?)\s*を\s*(?P<runtime>.+?)\s*で\s*"
        r"(?:使い|動かし|実行し|試し|始め)ます\s*[。.]\s*理由は[、,]?\s*(?P<because>.+?)\s*(?:です)?\s*[。.]\s*"
        r"まだ\s*大きな\s*(?:model|モデル)\s*(?:を使わない|に移らない|へ移らない|に切り替えない)\s*理由は[、,]?\s*"
        r"(?P<not_larger>.+?)\s*(?:です)?\s*[。.]\s*"
        r"(?:fixed eval set|固定評価セット|固定の評価セット)\s*[がで]\s*(?P<switch>.+?)\s*を?\s*示した\s*"
        r"(?:とき|時|場合)に?だけ\s*切り替えます",
        re.I | re.S,
    ),
}
KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")

# The words each check looks for, in English, Chinese and Japanese (the checks are the same in every language).
REASON_WORDS = re.compile(
    r"eval|fail|case|cost|memory|gb|fit|budget|latency|evidence|pass"
    r"|评估|失败|用例|成本|内存|显存|预算|延迟|证据|通过|放不下|評価|失敗|ケース|コスト|メモリ|予算|遅延|レイテンシ|証拠|合格|収ま",
    re.I,
)
#: Words that say a case passed or failed: a named case with one of these is a condition the eval set can confirm.
OUTCOME_WORDS = re.compile(r"fail|pass|通过|失败|不合格|合格|失敗|落ち", re.I)
STOP_WORDS = re.compile(
    r"stop|shut ?down|budget|hour|cost|停止|关机|关闭|预算|小时|成本|シャットダウン|予算|時間|コスト|費用", re.I
)
#: A stop with its time ("within 2 hours", "2 小时内", "2 時間以内"), or the shutdown proof notebook 04 writes.
STOP_TIME = re.compile(r"\d+(?:\.\d+)?\s*(?:h\b|hours?|minutes?|min\b|小时|分钟|時間|分)", re.I)
PROOF_WORDS = re.compile(r"shutdown[ _]proof|关机证明|停止证明|シャットダウン(?:の)?証明|停止(?:の)?証明", re.I)
WORKFLOW_WORDS = re.compile(r"workflow|loop|random|noise|工作流|流程|随机|噪声|ワークフロー|ループ|ランダム|ノイズ", re.I)
CASE_WORDS = {
    "json": "stable_json",
    "chinese": "zh_en_answers",
    "zh-": "zh_en_answers",
    "extraction": "extraction",
    "refusal": "private_docs",
    "sop": "private_docs",
    "language": "zh_en_answers",
    "中文": "zh_en_answers",
    "中国語": "zh_en_answers",
    "抽取": "extraction",
    "抽出": "extraction",
    "拒绝": "private_docs",
    "拒否": "private_docs",
    "语言": "zh_en_answers",
    "言語": "zh_en_answers",
}

#: The worked answers in each language; ``STRONG_ANSWER`` and ``WEAK_ANSWER`` read the current one (``__getattr__``).
STRONG_ANSWERS = {
    "en": "For this project, I will start with Qwen2.5-0.5B-Instruct using Transformers because the estimator puts it at about "
    "2 GB of GPU memory against 8 GB, and it is the smallest catalogue model that answers in Chinese and English and returns "
    "JSON. I will not use a larger model yet because a 7B-class model does not fit 8 GB, and no fixed eval case has failed "
    "that a larger model would fix; the instance stops within 2 hours of boot. I will switch only if the fixed eval set shows "
    "zh-json-ticket or zh-sop-refund-days failing, or fewer than 13 of 16 cases passing.",
    "zh": "在这个项目里，我先用 Qwen2.5-0.5B-Instruct 搭配 Transformers，因为估算器算出它约需 2 GB GPU 显存，而我们有 8 GB，"
    "它也是目录里能用中英文作答并输出 JSON 的最小模型。我暂时不换更大的模型，因为 7B 级模型放不进 8 GB，"
    "而且还没有哪个固定评估用例的失败需要更大的模型来解决；实例启动后 2 小时内停止。"
    "只有固定评估集显示 zh-json-ticket 或 zh-sop-refund-days 失败，或 16 个用例里通过的不到 13 个时，我才切换。",
    "ja": "このプロジェクトでは、まず Qwen2.5-0.5B-Instruct を Transformers で動かします。理由は、見積もりでは GPU メモリ 8 GB "
    "のうち約 2 GB に収まり、カタログの中で中国語と英語で答えて JSON を返せる最小のモデルだからです。"
    "まだ大きなモデルに移らない理由は、7B クラスは 8 GB に収まらず、大きなモデルなら直る固定評価ケースの失敗もまだない"
    "からです。インスタンスは起動から 2 時間以内に停止します。固定評価セットが zh-json-ticket か zh-sop-refund-days "
    "の失敗、または 16 ケース中 13 未満の合格を示したときだけ切り替えます。",
}
WEAK_ANSWERS = {
    "en": "For this project, I will start with Qwen2.5-7B-Instruct using vLLM because it is a popular model. "
    "I will not use a larger model yet because 7B is big enough. I will switch only if the fixed eval set shows it is bad.",
    "zh": "在这个项目里，我先用 Qwen2.5-7B-Instruct 搭配 vLLM，因为它是很流行的模型。我暂时不换更大的模型，因为 7B 已经够大了。"
    "只有固定评估集显示它不好用时，我才切换。",
    "ja": "このプロジェクトでは、まず Qwen2.5-7B-Instruct を vLLM で動かします。理由は、人気のあるモデルだからです。"
    "まだ大きなモデルに移らない理由は、7B で十分大きいからです。固定評価セットがダメだと示したときだけ切り替えます。",
}

#: Keyword stuffing, as issue 23 found it passing: every word the old checks looked for, and no claim behind any of them.
STUFFED_ANSWERS = {
    "en": "For this project, I will start with Qwen2.5-0.5B-Instruct using Transformers because my boss passed by. "
    "I will not use a larger model yet because I fit in. I will switch only if the fixed eval set shows a json 1.",
    "zh": "在这个项目里，我先用 Qwen2.5-0.5B-Instruct 搭配 Transformers，因为老板路过时说评估通过了。"
    "我暂时不换更大的模型，因为我放得下心。只有固定评估集显示 json 1 时，我才切换。",
    "ja": "このプロジェクトでは、まず Qwen2.5-0.5B-Instruct を Transformers で動かします。理由は、上司が通りかかって合格と"
    "言ったからです。まだ大きなモデルに移らない理由は、気持ちが収まるからです。固定評価セットが json 1 を示したときだけ"
    "切り替えます。",
}


def language_of(text: str) -> str:
    """``ja`` when the text has kana, ``zh`` when it has Chinese characters and no kana, else ``en``."""
    return "ja" if KANA.search(text) else "zh" if HAN.search(text) else SOURCE_LANGUAGE
