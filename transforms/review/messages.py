"""The words of each finding, in English and Chinese: rule -> (message, suggestion); ``{...}`` are filled in
from what the rule found. A suggestion of None means the rule has none to give."""

from __future__ import annotations

EN: dict[str, tuple[str, str | None]] = {
    "task.verb": ("is a task (\u201c{word}\u201d), not a result: it says what to do, not what should change",
                  "Write the result the task is for, with a number, e.g. \u201cafter-sale feedback shows 85% of "
                  "customers satisfied\u201d rather than \u201cseek feedback after the sale\u201d"),
    "task.milestone": ("is graded as a milestone (done or not done): a task, not a measured result",
                       "Measure what finishing it should change, e.g. the orders or visits it brings"),
    "no_number.title": ("has no number: nothing says how much counts as done",
                        "Add the count, share or threshold that counts as done"),
    "no_number.only_target": ("names no number; the target ({target}) is only in the plan's column",
                              "Put the target in the words too, so the KR reads as what it measures"),
    "vague.word": ("uses a vague word (\u201c{word}\u201d) where a measure belongs",
                   "Replace \u201c{word}\u201d with a number: {hint}"),
    "vague.state": ("names a state (\u201c{word}\u201d) without saying how it is measured",
                    "Say which share or count shows it, e.g. \u201c85% of customers {word} in the after-sale "
                    "survey\u201d"),
    "dilution.word": ("\u201c{word}\u201d softens the bar: a target to aim at is not a result to reach",
                      "{rewrite}"),
    "attempts.words": ("counts attempts (\u201c{word}\u201d) rather than outcomes: tries that did not work count too",
                       "Count only the ones that worked: {rewrite}"),
    "attempts.metric": ("counts every {table} row whatever its {column}: attempts, not outcomes",
                        "Filter the metric on {column} (e.g. only positive outcomes) and say so in the KR"),
    "effort.words": ("measures effort (\u201c{word}\u201d), which cannot be graded: say what the effort should bring",
                     "Name the result, e.g. \u201cgrow revenue by re-engaging existing customers\u201d instead of "
                     "\u201cmore cross-selling effort\u201d"),
    "mismatch.topic": ("its KRs measure \u201c{topic}\u201d, which the objective does not name; none of them measures "
                       "\u201c{words}\u201d",
                       "Reword the objective to name what its KRs measure (\u201c{topic}\u201d), or choose KRs that "
                       "measure \u201c{words}\u201d"),
    "mismatch.input": ("measures a resource put in (\u201c{word}\u201d), not whether the objective is reached",
                       "Measure the result the resource should bring, e.g. leads handled or deals won"),
    "other_team.words": ("is delivered by {function} (\u201c{word}\u201d), not by {own}",
                         "Agree it with {function} and put it in their plan, or keep the part {own} controls"),
    "structure.no_baseline": ("has no baseline: a growth KR is then graded from zero",
                              "Give the value it starts from (last quarter's actual)"),
    "structure.no_baseline_column": ("the plan has no baseline column: growth KRs will be graded from zero",
                                     "Add a baseline column with each KR's starting value"),
    "structure.same": ("has a target equal to its baseline ({target}): there is nothing to reach",
                       "Set a target beyond the baseline"),
    "structure.wrong_side": ("aims to {direction} but its target ({target}) is on the wrong side of its baseline "
                             "({baseline})", "Swap the direction or the target"),
    "structure.no_krs": ("has no key results: it cannot be graded", "Give it two to five measurable KRs"),
    "structure.too_many": ("has {n} key results; more than {most} blur what matters",
                           "Keep the {most} that best measure the objective"),
    "structure.weights": ("its KR weights sum to {total}, not {whole}", "Make them sum to {whole}"),
    "structure.weights_missing": ("gives weights to some of its KRs but not to {n} of them",
                                  "Give every KR a weight, or none"),
    "structure.due": ("is due in quarter {due}, past the fiscal year's {quarters} quarters",
                      "Use a quarter from 1 to {quarters}"),
    "structure.parent": ("names parent objective \u201c{parent}\u201d, which is not in the plan",
                         "Use an objective id the plan has, or leave it blank"),
    "structure.duplicate": ("appears {n} times under one objective", "Give each KR its own id"),
}

ZH: dict[str, tuple[str, str | None]] = {
    "task.verb": ("是一项任务（\u201c{word}\u201d），不是结果：说的是做什么，而不是要带来什么变化",
                  "写出这项任务要带来的结果并给出数字，例如用\u201c售后反馈表明85%的客户感到满意\u201d代替\u201c寻求反馈\u201d"),
    "task.milestone": ("按里程碑（完成或未完成）打分：是一项任务，而不是可衡量的结果",
                       "衡量完成后要带来的变化，例如由此带来的订单或访问量"),
    "no_number.title": ("没有数字：看不出达到多少算完成", "写明算作完成的数量、比例或界限"),
    "no_number.only_target": ("措辞中没有数字，目标值（{target}）只写在计划表的列里",
                              "把目标值也写进关键结果，让人一看就知道衡量什么"),
    "vague.word": ("用了含糊的词（\u201c{word}\u201d）代替衡量标准", "把\u201c{word}\u201d换成数字：{hint}"),
    "vague.state": ("只说了状态（\u201c{word}\u201d），没说怎么衡量",
                    "写明由哪个比例或数量体现，例如\u201c售后调查中85%的客户{word}\u201d"),
    "dilution.word": ("\u201c{word}\u201d削弱了关键结果：要瞄准的目标不等于要达到的结果", "{rewrite}"),
    "attempts.words": ("统计的是尝试（\u201c{word}\u201d），而不是结果：没有成功的尝试也算在内",
                       "只统计有结果的：{rewrite}"),
    "attempts.metric": ("统计了{table}表中的每一行，不论{column}如何：是尝试次数，而不是结果",
                        "按{column}筛选指标（例如只算积极结果），并在关键结果中写明"),
    "effort.words": ("衡量的是投入力度（\u201c{word}\u201d），无法评分：应写明投入要带来什么",
                     "写出结果，例如用\u201c通过重新吸引现有客户来增加收入\u201d代替\u201c加大交叉销售的力度\u201d"),
    "mismatch.topic": ("各关键结果衡量的是\u201c{topic}\u201d，目标却没有提到；"
                       "也没有一个关键结果衡量\u201c{words}\u201d",
                       "把目标改成关键结果实际衡量的内容（\u201c{topic}\u201d），或换成衡量\u201c{words}\u201d的关键结果"),
    "mismatch.input": ("衡量的是投入的资源（\u201c{word}\u201d），而不是目标是否达成",
                       "衡量这些资源要带来的结果，例如处理的线索或赢得的订单"),
    "other_team.words": (
        "要由{function}交付（\u201c{word}\u201d），而不是{own}",
        "与{function}商定并写入其计划，或只保留{own}能掌控的部分",
    ),
    "structure.no_baseline": ("没有基线：增长类关键结果将从零开始计算", "填写起始值（上季度的实际值）"),
    "structure.no_baseline_column": (
        "计划表没有基线列：增长类关键结果将从零开始计算",
        "增加基线列，填写每个关键结果的起始值",
    ),
    "structure.same": ("目标值等于基线（{target}）：没有需要达成的进展", "把目标值定在基线之外"),
    "structure.wrong_side": (
        "方向为{direction}，但目标值（{target}）在基线（{baseline}）的另一侧",
        "调换方向或修改目标值",
    ),
    "structure.no_krs": ("没有关键结果：无法评分", "为它设定两到五个可衡量的关键结果"),
    "structure.too_many": ("有{n}个关键结果；超过{most}个会冲淡重点", "只保留最能衡量目标的{most}个"),
    "structure.weights": ("关键结果的权重合计为{total}，而不是{whole}", "让权重合计为{whole}"),
    "structure.weights_missing": ("部分关键结果有权重，另有{n}个没有", "给每个关键结果都设权重，或都不设"),
    "structure.due": ("截止于第{due}季度，超出了财年的{quarters}个季度", "使用1到{quarters}之间的季度"),
    "structure.parent": ("上级目标\u201c{parent}\u201d不在计划中", "使用计划中已有的目标编号，或留空"),
    "structure.duplicate": ("在同一目标下出现了{n}次", "为每个关键结果使用不同的编号"),
}

DIRECTIONS = {
    "en": {"increase": "increase", "decrease": "decrease", "at_least": "stay at or above",
           "at_most": "stay at or below"},
    "zh-CN": {"increase": "增加", "decrease": "减少", "at_least": "不低于", "at_most": "不高于"},
}


def words(rule: str, locale: str, **fields: object) -> tuple[str, str | None]:
    """The message and suggestion of ``rule`` in ``locale``, filled in."""
    message, suggestion = (ZH if locale == "zh-CN" else EN)[rule]
    return message.format(**fields), None if suggestion is None else suggestion.format(**fields)
