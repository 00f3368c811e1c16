"""The words on the dashboard, in English (with the Chinese term beside key concepts) and in
Chinese (``--lang zh``).

The controls are the model's levers as the registry
([`ruralgov.model.params`][ruralgov.model.params]) defines them — bounds, default, meaning —
grouped and named here in the terms of the officials a trainer talks to. Only the label is the
dashboard's; everything else comes from the registry.
"""

from __future__ import annotations

from ruralgov.model.params import REGISTRY

__all__ = ["CONTROL_GROUPS", "MEANING_ZH", "SERIES_ZH", "control_label", "format_value",
           "meaning", "t", "series_header", "measure_label", "preferred_lang", "LANGS"]

LANGS = ("en", "zh")

#: (group, [(parameter, English label, Chinese label)]) in the order they appear.
CONTROL_GROUPS: list[tuple[tuple[str, str], list[tuple[str, str, str]]]] = [
    (("Institutional authority", "制度权威"), [
        ("enforcement", "Formal power: chance that evasion is detected (执法力度)", "执法力度"),
        ("legitimacy_initial", "Trust: initial legitimacy of government (合法性)",
         "初始政府信任（合法性）"),
        ("official_misconduct", "Officials' visible misconduct (政府行为失范)", "政府行为失范"),
    ]),
    (("Fragmentation", "条块分割"), [
        ("n_departments", "County departments issuing rules (条块部门)", "发文部门数"),
        ("coordination", "Coordination between departments (部门协同)", "部门协同程度"),
        ("one_window", "One-window acceptance (一门受理)", "一门受理"),
        ("joint_enforcement", "Joint enforcement (联合执法)", "联合执法"),
        ("grid_management", "Grid management (网格化管理)", "网格化管理"),
        ("bureaus", "Big-department reform: bureaus, 0 none (大部门体制)",
         "大部门体制（合并后的部门数，0为不合并）"),
    ]),
    (("Townships", "乡镇政府"), [
        ("responsiveness", "Township responsiveness to petitions (回应性)", "乡镇对信访的回应性"),
        ("self_interest", "Township self-interest (自利)", "乡镇自利程度"),
        ("discretion", "Township discretion, 1 − rigidity (弹性)", "乡镇自由裁量（弹性）"),
        ("suppression", "Suppression of petitions (劝返)", "压制信访（劝返）"),
        ("priority_handling", "Leaders in charge of long cases (领导包案)", "领导包案"),
        ("evaluation_stability", "Weight of stability in cadre evaluation (一票否决)",
         "考核中稳定的权重（一票否决）"),
        ("fiscal_dependence", "Townships living on transfers (悬浮)",
         "乡镇财政依赖转移支付（悬浮）"),
    ]),
    (("Stability maintenance", "维稳手段"), [
        ("key_person_management", "Key-person management (四色管理)", "重点人员四色管理"),
        ("social_credit", "Social credit records (社会信誉)", "社会信誉制度"),
    ]),
    (("Informal institutions", "非正式制度"), [
        ("norm_compatibility", "Fit of rules with local custom (相容性)", "正式与非正式制度相容性"),
        ("village_compact", "Rules embedded in village compacts (村规民约)", "村规民约嵌入"),
        ("cooptation", "Co-opting elders (正式权力的非正式运作)",
         "吸纳乡贤（正式权力的非正式运作）"),
        ("compact_rate", "Village compacts as an ongoing process (村规民约)", "村规民约持续协商"),
        ("elections", "Elected cadres answer to villagers (村民自治)",
         "村干部对村民负责（村民自治）"),
    ]),
    (("Services and participation", "服务与参与"), [
        ("service_coverage", "Equal public services (公共服务均等化)", "公共服务均等化覆盖"),
        ("participation", "Deliberation and participation (民主参与)", "民主参与比例"),
    ]),
    (("Campaign", "运动式治理"), [
        ("campaign", "Demolition / land campaign (拆违、征地)", "拆违、征地运动"),
        ("campaign_enforcement", "Campaign enforcement", "运动执法力度"),
        ("compensation", "Compensation of the campaign's cost (补偿)", "补偿比例"),
        ("campaign_start", "Campaign begins after step", "运动开始于第几期之后"),
        ("campaign_duration", "Campaign length, steps", "运动持续期数"),
    ]),
]

#: What each control means, in Chinese (the English meaning is the registry's ``doc``).
MEANING_ZH: dict[str, str] = {
    "n_villagers": "县内村民总数。",
    "enforcement": "在执行保真度和执法努力都充分时，规避行为被发现的概率（权威的强制一面）。",
    "legitimacy_initial": "村民起初对正式制度合法性的平均认同程度。",
    "official_misconduct": "官员公开违规的程度（政府行为是社会行动的标杆和表率）。",
    "n_departments": "向每个乡镇发布常规规定的县级部门数（条块分割）。",
    "coordination": "部门之间的协同程度（一门受理、联合执法、网格化管理）。",
    "one_window": "一门受理、协同办理：消除找错部门造成的浪费，条块分割不再占用乡镇的办案能力。",
    "joint_enforcement": "联合执法：消除各部门各自检查带来的额外随意性，执法标准一致。",
    "grid_management": "网格化管理：网格员在诉求变成上访之前发"
                       "现问题，检查更有针对性，少误罚守规者。",
    "bureaus": "大部门体制：把部门合并为这么多个大部门，部"
               "门内部的规定冲突在内部化解；0 表示不合并。",
    "responsiveness": "乡镇办案能力中用于答复信访的比例（回应性）。",
    "self_interest": "乡镇自身利益相对村民福利的权重（自利）。",
    "discretion": "乡镇因地制宜调整规定的空间（弹性）；刚性等于 1 减去弹性。",
    "suppression": "在问责压力最大时，乡镇每期压制（劝返）一件待处理信访而不是答复的概率。",
    "priority_handling": "领导包案：优先处理等待最久的信访所占的办案能力比例（乡镇和县两级）。",
    "evaluation_stability": "干部考核中稳定指标（到县的上访，一票否决）相对执行县里规定的权重；"
                            "0.5 表示两者同等。",
    "fiscal_dependence": "税费改革后乡镇对转移支付的依赖（悬浮"
                         "）：办案能力和组织协商的意愿随之下降。",
    "key_person_management": "重点人员四色管理：对怨气超过上访门槛的村民分类盯控，"
                             "他们感到的被拘风险上升，标签也让他们对政府的认同下降。",
    "social_credit": "社会信誉制度：违规记录加重被查处的后果，"
                     "但被监控的感受使每位村民的认同略有下降。",
    "norm_compatibility": "常规规定与宗族规范的平均相容程度（-1 相抵触，+1 相支持）。",
    "village_compact": "把规定写入村规民约：开始时把乡贤的态度向支持方向推动这一比例。",
    "cooptation": "正式权力的非正式运作（党员联户）：乡镇吸纳"
                  "乡贤，使其转向支持规定，但也扩散非正式规则。",
    "compact_rate": "村规民约作为持续的协商过程：每期乡贤态度按此比例乘以参与度向支持方向移动。",
    "elections": "村干部在多大程度上对村民而非乡镇负责（村民自治、"
                 "换届选举：0 实际上为任命，1 完全对村民负责）。",
    "service_coverage": "均等化公共服务（养老、医疗、教育）的覆盖程度。",
    "participation": "每期参加协商议事的村民比例（民主参与）。",
    "campaign": "在常规规定之外开展一项运动式任务（拆违、征地拆迁）。",
    "campaign_enforcement": "在执行保真度和执法努力都充分时，运动规定下规避行为被发现的概率。",
    "compensation": "运动规定成本中得到补偿的比例（征地补偿）。",
    "campaign_start": "运动开始前的期数：运动自第（该值＋1）期起生效；运行中可随时改变。",
    "campaign_duration": "运动持续的期数；运行中可随时改变（缩短即提前结束）。",
}

#: Chinese column names of the county series (the CSV's headers in Chinese, an option).
SERIES_ZH: dict[str, str] = {
    "scenario": "情景", "seed": "随机种子", "side": "对比组", "intervention": "干预",
    "villagers": "村民人数",
    "step": "期", "compliance": "遵从率", "evasion": "规避率",
    "voluntary_share": "自愿遵从占比", "compliance_reported": "上报遵从率",
    "assisted_share": "救助覆盖率", "inclusion_error": "错保率", "exclusion_error": "漏保率",
    "persuasions": "劝阻数", "warnings": "警告数", "sanctions": "处罚数",
    "unfair_hits": "误罚守规者数", "participants": "参与协商人数",
    "hardship_shocks": "遭受困难冲击人数", "key_persons": "重点人员数",
    "petitions_new": "新增信访", "petitions_collective": "集体上访",
    "petitions_individual": "个人上访", "response_time": "信访平均等待期数",
    "petitions_over_head": "越过乡镇直接到县上访", "petitions_answered": "乡镇已答复信访",
    "petitions_suppressed": "被劝返信访", "hidden_backlog": "被压制而未被看见的诉求",
    "petitions_escalated": "越级上访", "petition_backlog": "乡镇积压信访",
    "petitions_abandoned": "放弃的越级上访", "county_answered": "县级已答复",
    "county_backlog": "县级积压", "compliance_inspected": "抽查遵从率",
    "protesters": "抗议人数", "protest_events": "群体性事件数",
    "protest_episodes": "新发群体性事件数",
    "protest_max_size": "最大抗议规模", "detained": "被拘留人数", "concessions": "让步次数",
    "repressions": "压制次数", "disputes": "新发纠纷", "disputes_formal": "提交乡镇的纠纷",
    "disputes_resolved_formally": "乡镇调解的纠纷",
    "disputes_resolved_informally": "乡贤调解的纠纷", "substitution_index": "制度权威替代指数",
    "conflict_exposure": "规定冲突暴露", "legitimacy_mean": "平均合法性",
    "legitimacy_sd": "合法性标准差", "trust_local_mean": "对乡镇的平均信任",
    "trust_upper_mean": "对县及以上的平均信任", "hierarchical_trust": "差序信任比例",
    "trust_local_share": "信任乡镇的村民比例", "trust_upper_share": "信任县及以上的村民比例",
    "villages_petitioning": "一年内有人上访的村比例",
    "hardship_mean": "平均困难程度", "grievance_mean": "平均怨气",
    "burden_mean": "平均规定负担", "norm_attachment_mean": "平均非正式规范认同",
    "implementation_fidelity": "平均执行保真度", "capacity_use": "乡镇办案能力使用率",
    "pressure_mean": "县对乡镇的平均问责压力", "fragmentation_index": "条块分割指数",
    "conflicting_pairs": "相互冲突的规定对数", "campaign_active": "运动进行中",
    "enforcement_withdrawn": "常规执法已撤出", "scandal_active": "丑闻进行中",
    "enforced_share": "强制遵从占比", "reporting_gap": "上报与抽查遵从率之差",
    "compliance_campaign": "运动规定遵从率",
}

_TEXT = {
    "title": ("Rural governance simulator", "乡村治理模拟"),
    "scenario": ("Scenario", "情景"),
    "story": ("The story", "情景说明"),
    "seed": ("Seed (same seed, same run)", "随机种子（相同种子，相同结果）"),
    "new_seed": ("New seed", "新种子"),
    "villagers": ("Villagers", "村民人数"),
    "apply": ("Apply and reset", "应用并重置"),
    "step": ("Step", "第"),
    "compliance": ("Compliance (制度遵从)", "制度遵从率"),
    "evasion": ("Evasion", "规避率"),
    "petitions": ("Petitions (上访) per step", "每期上访"),
    "individual": ("individual", "个人上访"),
    "collective": ("collective (集体上访)", "集体上访"),
    "escalated": ("to the county (越级)", "越级上访"),
    "protesters": ("Protesters (群体性事件)", "抗议人数"),
    "legitimacy": ("Legitimacy of government (合法性), villagers", "政府合法性分布"),
    "legit_x": ("legitimacy (0 none, 1 full)", "合法性（0 为无，1 为完全）"),
    "legit_y": ("density of villagers", "村民分布密度"),
    "substitution": ("Disputes settled by elders (制度权威替代)", "由乡贤解决的纠纷比例"),
    "network": ("Villagers' network", "村民社会网络"),
    "net_keeps": ("keeps every rule", "遵守全部规则"),
    "net_half": ("keeps half", "遵守一半规则"),
    "net_evades": ("keeps none", "规则全不遵守"),
    "net_petition": ("petition pending", "上访待处理"),
    "net_protest": ("protesting", "抗议"),
    "townships": ("Townships (乡镇)", "乡镇"),
    "departments": ("County departments (县级部门)", "县级部门"),
    "events": ("What happened", "事件记录"),
    "download_csv": ("Download data (CSV)", "下载数据（CSV）"),
    "download_png": ("Download figure (PNG)", "下载图表（PNG）"),
    "download_network": ("Download network (PNG)", "下载网络图（PNG）"),
    "single": ("One county", "单一情景"),
    "compare": ("Compare two settings (同一种子)", "对比两种设置（同一种子）"),
    "left": ("A", "A"),
    "right": ("B", "B"),
    "error": ("Could not apply these settings", "无法应用这些设置"),
    "time": ("step", "期"),
    "play_ms": ("ms between steps when playing", "播放时每期间隔（毫秒）"),
    "render_every": ("steps between pictures", "每隔几期刷新图表"),
    "play_ms_value": ("= {ms:,} ms between steps", "当前每期间隔 {ms:,} 毫秒"),
    "render_every_value": ("= a picture every {n} step(s)", "当前每 {n} 期刷新一次图表"),
    "btn_step": ("Step", "下一期"),
    "btn_reset": ("Reset", "重置"),
    "intervention": ("intervention", "干预"),
    "intervene_title": ("Change now, without reset", "立即干预（不重置）"),
    "intervene": ("Change now (from step {step})", "立即生效（自第 {step} 期起）"),
    "intervene_help": ("Moves the levers you changed into the running county from the next "
                       "step; Reset replays the run with the change.",
                       "把已调整的政策杠杆从下一期起放进正在运行的县，不重新开始；"
                       "“重置”会连同干预一起重放。"),
    "intervene_none": ("Move a lever above, then change it here.",
                       "先在下方调整政策杠杆，再在此处立即生效。"),
    "needs_reset": ("Only with Apply and reset (the county is built with them)",
                    "需“应用并重置”才生效（县的初始设置）"),
    "will_change": ("To change now", "将立即改变"),
    "download_scenario": ("Download as a scenario file (YAML)", "下载为情景文件（YAML）"),
    "at_start": ("set when the county is built", "建县时设定，重置后生效"),
    "downloads": ("Downloads: data, figures, scenario file, handout",
                  "下载：数据、图表、情景文件、课堂讲义"),
    "handout_title": ("Rural governance simulator: session handout", "乡村治理模拟：课堂讲义"),
    "download_handout": ("Download the session handout (HTML)", "下载课堂讲义（HTML）"),
    "seed_short": ("Seed", "随机种子"),
    "steps_run": ("{steps} steps run", "已运行 {steps} 期"),
    "from_step": ("From step {step}", "自第 {step} 期起"),
    "interventions": ("Interventions", "干预"),
    "step_one": ("Step 1", "第 1 期"),
    "now_step": ("Step {step}", "第 {step} 期"),
    "reproduce": ("Reproduce it: ruralgov run on this scenario file",
                  "重现：对以下情景文件运行 ruralgov run"),
    "projector": ("Projector mode", "投影模式"),
    "press_step": ("Press Step or ▶", "请点击“下一期”或 ▶"),
    "changed": ("Changed from the scenario", "相对情景的改动"),
    "yes": ("on", "是"), "no": ("off", "否"),
    "csv_zh": ("CSV in Chinese (column names and cells)", "CSV 用中文（列名和内容）"),
    "sampled": ("{shown:,} of {total:,} villagers drawn", "显示 {total:,} 名村民中的 {shown:,} 名"),
    "rows_more": ("{shown} of {total} rows", "共 {total} 行，显示 {shown} 行"),
    # the township and department tables
    "col_township": ("township", "乡镇"), "col_self_interest": ("self-interest", "自利程度"),
    "col_capacity_use": ("capacity use", "办案能力使用率"), "col_backlog": ("backlog", "积案"),
    "col_escalations": ("escalations", "越级上访"),
    "col_effort": ("enforcement effort", "执法努力"),
    "col_pressure": ("reprimand pressure", "问责压力"),
    "col_true_reported": ("true vs reported compliance", "实际/上报遵从率"),
    "col_department": ("department", "部门"),
    "col_dept_compliance": ("compliance with its rules", "其规定的遵从率"),
    "col_received": ("escalations received", "收到的越级上访"),
    "col_answered": ("answered", "已答复"),
    # the campaign, started and ended live
    "campaign_start_now": ("Start the campaign now (from step {step})",
                           "立即开始运动（自第 {step} 期起）"),
    "campaign_end_now": ("End the campaign now (after step {step})",
                         "立即结束运动（第 {step} 期后）"),
    "campaign_none": ("A campaign starts and ends at any step in a county built with one: "
                      "tick the campaign (Campaign group) and Apply and reset.",
                      "建县时带有运动规定的县，可在任意一期开始或结束运动：请在“运动式治理”组中"
                      "勾选运动，然后“应用并重置”。"),
    # the handout's questions for the room
    "questions": ("Questions for the room", "讨论题"),
    "q_claim": ("The story says: {claim} — here: {status}. Why? Would it be so in your county?",
                "情景说明：{claim}——本次：{status}。为什么？在你们县也会这样吗？"),
    "q_story": ("The story says: {claim}. Why might that be? Would it be so in your county?",
                "情景说明：{claim}。为什么会这样？在你们县也会这样吗？"),
    "q_compare": ("Where do A and B differ most, and from which step? Which setting made the "
                  "difference?", "A 与 B 差别最大的是哪一项？从第几期开始？是哪项设置造成的？"),
    "q_lever": ("Which lever would you move first, and which number would tell you whether it "
                "worked?", "你会先动哪一个政策杠杆？看哪一个数字来判断它是否奏效？"),
    "q_county": ("What in your own county is not in this model, and how might it change the "
                 "result?", "你们县有哪些情况是这个模型没有的？它们会怎样改变结果？"),
    # what the story says to watch
    "watch_title": ("What the story says to watch", "情景说明中请观察的现象"),
    "watch_than": ("{measure}: {expect} than in “{than}”, steps {a}–{b}",
                   "{measure}：第 {a}–{b} 期{expect}“{than}”"),
    "watch_from": ("{measure}: {expect} from steps {s0}–{s1} to steps {a}–{b}",
                   "{measure}：第 {a}–{b} 期比第 {s0}–{s1} 期{expect}"),
    "exp_higher": ("higher", "高于"), "exp_lower": ("lower", "低于"),
    "exp_rises": ("rises", "上升"), "exp_falls": ("falls", "下降"),
    "st_holds": ("holds on this run ({d})", "本次运行成立（{d}）"),
    "st_fails": ("does not hold on this run ({d})", "本次运行不成立（{d}）"),
    "st_so_far": ("so far {d}; its window ends at step {b}", "目前 {d}；观察期至第 {b} 期"),
    "st_waiting": ("its window starts at step {a}", "观察期自第 {a} 期开始"),
    "st_compare": ("needs “{than}” beside it: compare", "需要与“{than}”对比"),
    "st_changed": ("settings changed from the scenario's", "设置已不同于情景"),
    "btn_compare_with": ("Compare with “{than}”", "与“{than}”对比"),
    "watch_note": ("One run, one seed: `ruralgov stories` checks each claim over ten seeds.",
                   "一次运行只是一个随机种子；每项说法都另用十个随机种子检验过（命令行工具可重做）。"),
}


def t(key: str, lang: str = "en") -> str:
    """A piece of the dashboard's text."""
    en, zh = _TEXT[key]
    return zh if lang == "zh" else en


def meaning(name: str, lang: str = "en") -> str:
    """What a control means: the registry's ``doc`` in English, ``MEANING_ZH`` in Chinese."""
    return MEANING_ZH[name] if lang == "zh" else REGISTRY[name].doc


def series_header(name: str, lang: str = "en") -> str:
    """A column name of the series as the CSV shows it (Chinese with ``lang="zh"``)."""
    return SERIES_ZH.get(name, name) if lang == "zh" else name


def preferred_lang(accept_language: str) -> str:
    """The page's language from a browser's ``Accept-Language`` header: English only where
    the browser asks for English before Chinese; Chinese by default."""
    ranked = []
    for k, item in enumerate(accept_language.lower().split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((-q, k, tag.split("-")[0]))  # by quality, then as listed
    for _, _, lang in sorted(ranked):
        if lang in ("en", "zh"):
            return lang
    return "zh"


def measure_label(name: str, lang: str = "en") -> str:
    """A measure of the series in words: its Chinese name, or the first clause of the
    observer's description of it."""
    if lang == "zh" and name in SERIES_ZH:
        return SERIES_ZH[name]
    from ruralgov.model.observe import SERIES

    if name in _MEASURE_EN:
        return _MEASURE_EN[name]
    doc = next((r.doc for r in SERIES if r.name == name), name)
    doc = doc.split(":")[0].split(" (")[0].strip()
    if "_" in doc:  # a formula of other measures: the name reads better
        doc = name.replace("_", " ")
    return doc[:1].upper() + doc[1:]


#: Measures whose description in the observer reads badly as a title.
_MEASURE_EN = {"compliance": "Compliance (share of live rules kept)",
               "compliance_campaign": "Compliance with the campaign rule"}


def control_label(name: str, lang: str = "en") -> str:
    """A parameter's name on the page (the parameter's own name if it has no control)."""
    if name == "n_villagers":
        return t("villagers", lang)
    for _, items in CONTROL_GROUPS:
        for pname, en, zh in items:
            if pname == name:
                return zh if lang == "zh" else en
    return name


def format_value(value, lang: str = "en") -> str:
    """A setting as the page, the log and the handout show it: on/off (是/否), 20,000, 0.9."""
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _check() -> None:
    for _, items in CONTROL_GROUPS:
        for pname, _, _ in items:
            assert pname in REGISTRY, pname
            assert pname in MEANING_ZH, pname


_check()
