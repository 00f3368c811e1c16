"""The words on the dashboard, in English (with the Chinese term beside key concepts) and in
Chinese (``--lang zh``).

The controls are the model's levers as the registry
([`ruralgov.model.params`][ruralgov.model.params]) defines them — bounds, default, meaning —
grouped and named here in the terms of the officials a trainer talks to. Only the label is the
dashboard's; everything else comes from the registry.
"""

from __future__ import annotations

from ruralgov.model.params import REGISTRY

__all__ = ["CONTROL_GROUPS", "control_label", "t", "LANGS"]

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
    ]),
]

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
    "escalated": ("escalated to the county (越级)", "越级上访"),
    "protesters": ("Protesters (群体性事件)", "抗议人数"),
    "legitimacy": ("Legitimacy of government (合法性), villagers", "政府合法性分布"),
    "substitution": ("Disputes settled by elders (制度权威替代)", "由乡贤解决的纠纷比例"),
    "network": ("Villagers' network", "村民社会网络"),
    "net_keeps": ("keeps every rule", "遵守全部规则"),
    "net_evades": ("evades a rule", "规避某项规则"),
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
}


def t(key: str, lang: str = "en") -> str:
    """A piece of the dashboard's text."""
    en, zh = _TEXT[key]
    return zh if lang == "zh" else en


def control_label(name: str, lang: str = "en") -> str:
    for _, items in CONTROL_GROUPS:
        for pname, en, zh in items:
            if pname == name:
                return zh if lang == "zh" else en
    return name


def _check() -> None:
    for _, items in CONTROL_GROUPS:
        for pname, _, _ in items:
            assert pname in REGISTRY, pname


_check()
