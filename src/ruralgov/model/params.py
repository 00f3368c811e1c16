"""The parameter registry: the one home of every model parameter.

Each [`Param`][ruralgov.model.params.Param] carries its default, type, bounds, unit, meaning, the
ODD submodel it belongs to, its role (a policy *lever*, a behavioural *uncertainty*, a *structure*
setting or a mechanism *switch*) and, where it implements a phrase of the source paper, that
phrase.

Everything else reads from here: the scenario schema
([`ruralgov.io.scenario`][ruralgov.io.scenario]), the ``--set`` overrides of the command line, the
model's constructor and the ODD parameter table (``python -m ruralgov.model.params`` prints it as
Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Param", "PARAMS", "REGISTRY", "defaults", "markdown_table", "MECHANISMS",
           "FIRST_FORMS", "GENERATOR", "AT_START", "CALIBRATED", "UNCALIBRATED",
           "TOWNSHIP_LEVERS"]


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Args:
        name: keyword name used in scenario files, ``--set`` and the model constructor.
        default: default value (the baseline county).
        type: ``"int"``, ``"float"`` or ``"bool"``.
        lo: inclusive lower bound (``None`` for booleans).
        hi: inclusive upper bound (``None`` for booleans).
        unit: unit or scale of the value.
        section: ODD submodel (section 7 of docs/ODD.md) the parameter belongs to.
        role: ``"lever"`` (what a county or township chooses), ``"uncertainty"`` (villager
            behaviour, not known precisely), ``"structure"`` (size and shape) or ``"switch"``
            (turns a mechanism on or off).
        doc: one-line meaning.
        paper: the source paper's phrase the parameter implements, if any.
    """

    name: str
    default: Any
    type: str
    lo: float | None
    hi: float | None
    unit: str
    section: str
    role: str
    doc: str
    paper: str = ""

    @property
    def python_type(self) -> type:
        return {"int": int, "float": float, "bool": bool}[self.type]

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.type == "bool":
            return "true or false"
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} from {_fmt(self.lo)} to {_fmt(self.hi)}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:g}"


def _p(name, default, type_, lo, hi, unit, section, role, doc, paper=""):
    return Param(name, default, type_, lo, hi, unit, section, role, doc, paper)


# Bounds are wide enough for any sensible sweep and narrow enough to keep every quantity a
# probability or a rate where the equations in docs/ODD.md need one.
PARAMS: tuple[Param, ...] = (
    # ---------------------------------------------------------------- structure and scale
    _p("n_villagers", 20000, "int", 10, 20_000_000, "villagers", "initialisation", "structure",
       "Number of villagers in the county."),
    _p("n_townships", 4, "int", 1, 100_000, "townships", "initialisation", "structure",
       "Number of township governments (乡镇政府)."),
    _p("villages_per_township", 5, "int", 1, 10_000, "villages", "initialisation", "structure",
       "Villages in each township."),
    _p("lineages_per_village", 4, "int", 1, 1_000, "lineages", "initialisation", "structure",
       "Lineages (宗族) per village; villagers are split evenly between them."),
    # ---------------------------------------------------------------- social network
    _p("ties_within_lineage", 6.0, "float", 0, 200, "ties/villager", "network", "structure",
       "Mean number of ties a villager has inside their own lineage."),
    _p("ties_within_village", 2.0, "float", 0, 200, "ties/villager", "network", "structure",
       "Mean number of ties to villagers drawn uniformly from the whole village (own lineage "
       "included)."),
    _p("ties_between_villages", 1.0, "float", 0, 200, "ties/villager", "network", "structure",
       "Mean number of wider ties (market, marriage, migration): partners drawn uniformly from "
       "the township, or from the whole county for a cross_township_share of them."),
    _p("cross_township_share", 0.2, "float", 0, 1, "share", "network", "structure",
       "Share of wider ties whose partner is drawn from the whole county, not the township."),
    _p("elder_share", 0.03, "float", 0, 0.5, "share", "network", "structure",
       "Share of villagers who are informal leaders (elders, 乡贤)."),
    _p("elder_extra_ties", 10.0, "float", 0, 500, "ties/elder", "network", "structure",
       "Extra ties each elder has inside their village (elders are well connected)."),
    _p("elder_weight", 4.0, "float", 1, 100, "weight", "informal_signal", "uncertainty",
       "Weight of an elder's behaviour in the peer norm of the villagers tied to them."),
    # ---------------------------------------------------------------- villager initial state
    _p("hardship_mean", 0.4, "float", 0.01, 0.99, "0-1", "initialisation", "uncertainty",
       "Mean economic hardship (Beta distributed, concentration 4)."),
    _p("risk_aversion_mean", 0.5, "float", 0.01, 0.99, "0-1", "initialisation", "uncertainty",
       "Mean risk aversion (Beta distributed, concentration 4)."),
    _p("legitimacy_initial", 0.3946, "float", 0.01, 0.99, "0-1", "initialisation", "uncertainty",
       "Mean initial perceived legitimacy of formal institutions (Beta, concentration 10).",
       "制度权威…取决于…多元主体对制度合法性的认同"),
    _p("norm_attachment_initial", 0.5, "float", 0.01, 0.99, "0-1", "initialisation",
       "uncertainty", "Mean initial attachment to informal norms (Beta, concentration 10)."),
    _p("opportunism", 0.2, "float", 0, 1, "share", "initialisation", "uncertainty",
       "Initial share of villagers whose habit is to evade (free-riders, 搭便车).",
       "搭便车的投机行为"),
    # ---------------------------------------------------------------- formal rules
    _p("n_departments", 4, "int", 1, 20, "departments", "rules", "lever",
       "County departments issuing routine rules to every township (条块分割).", "条块分割"),
    _p("rules_per_department", 1, "int", 1, 5, "rules", "rules", "structure",
       "Routine rules issued by each department."),
    _p("rules_total", 0, "int", 0, 40, "rules", "rules", "structure",
       "A fixed set of routine rules split among the departments (rule k issued by department "
       "k mod n_departments), so that the number of departments changes who issues the rules, "
       "not how many there are; at least n_departments. 0: each department issues "
       "rules_per_department (the first form)."),
    _p("rule_cost", 0.3, "float", 0, 1, "0-1", "rules", "uncertainty",
       "Mean cost to a villager of complying with a routine rule."),
    _p("cost_heterogeneity", 0.5, "float", 0, 2, "sd of log", "rules", "uncertainty",
       "Spread of the villager-specific cost multiplier (log-normal, mean 1)."),
    _p("enforcement", 0.2, "float", 0, 1, "probability", "enforcement", "lever",
       "Detection probability of evasion at full fidelity and effort (the power side of "
       "authority).", "有权迫使人们服从的正式制度"),
    _p("sanction_severity", 1.0, "float", 0, 5, "utility", "compliance_decision", "lever",
       "Severity of a sanction as felt by a villager of average risk aversion."),
    _p("norm_compatibility", 0.2, "float", -1, 1, "-1..1", "rules", "uncertainty",
       "Mean compatibility of routine rules with lineage norms (-1 opposed, +1 supported).",
       "正式制度与非正式制度缺乏相容性"),
    _p("norm_compatibility_sd", 0.3, "float", 0, 2, "-1..1", "rules", "uncertainty",
       "Spread of compatibility between lineages and rules."),
    _p("village_compact", 0.0, "float", 0, 1, "share", "rules", "lever",
       "Embedding rules in village compacts (村规民约): moves elders' stance this share of "
       "the way towards support at the start.", "将正式制度嵌入非正式制度的文化土壤之中"),
    # ---------------------------------------------------------------- campaign rule
    _p("campaign", False, "bool", None, None, "on/off", "schedule", "lever",
       "Run a campaign rule (拆违, 征地拆迁) in addition to the routine rules."),
    _p("campaign_start", 50, "int", 0, 1_000_000, "step", "schedule", "lever",
       "Steps before the campaign starts: it is active from step campaign_start + 1."),
    _p("campaign_duration", 50, "int", 1, 1_000_000, "steps", "schedule", "lever",
       "Length of the campaign."),
    _p("campaign_cost", 0.7, "float", 0, 1, "0-1", "schedule", "uncertainty",
       "Cost of the campaign rule to the villagers it targets (before compensation)."),
    _p("campaign_enforcement", 0.7, "float", 0, 1, "probability", "schedule", "lever",
       "Detection probability of the campaign rule at full fidelity and effort."),
    _p("campaign_target_share", 0.3, "float", 0.001, 1, "share", "schedule", "lever",
       "Share of villagers the campaign rule applies to (owners of the targeted structures)."),
    _p("campaign_compatibility", -0.3, "float", -1, 1, "-1..1", "schedule",
       "uncertainty", "Mean compatibility of the campaign rule with lineage norms."),
    _p("compensation", 0.0, "float", 0, 1, "share", "schedule", "lever",
       "Share of the campaign rule's cost compensated (征地补偿)."),
    # ---------------------------------------------------------------- other scheduled events
    _p("withdrawal_step", 0, "int", 0, 1_000_000, "step", "schedule", "lever",
       "Enforcement of the routine rules is withdrawn (detection 0) from step "
       "withdrawal_step + 1 on; 0: never. Tests whether compliance was only coerced (H7).",
       "被动的强制性服从意识"),
    _p("scandal", False, "bool", None, None, "on/off", "schedule", "lever",
       "A scandal: officials' visible misconduct rises to scandal_misconduct for a while "
       "(a shock to legitimacy, H8)."),
    _p("scandal_start", 100, "int", 0, 1_000_000, "step", "schedule", "lever",
       "Steps before the scandal: it lasts from step scandal_start + 1."),
    _p("scandal_duration", 20, "int", 1, 1_000_000, "steps", "schedule", "lever",
       "Length of the scandal."),
    _p("scandal_misconduct", 0.6, "float", 0, 1, "0-1", "schedule", "lever",
       "Officials' visible misconduct during the scandal (instead of official_misconduct)."),
    # ---------------------------------------------------------------- fragmentation
    _p("mech_fragmentation", True, "bool", None, None, "on/off", "fragmentation", "switch",
       "Conflicting directives and arbitrary enforcement from uncoordinated departments."),
    _p("coordination", 0.5, "float", 0, 1, "0-1", "fragmentation", "lever",
       "Coordination between departments (one-window service 一门受理, joint enforcement "
       "联合执法, grid management 网格化管理).", "无缝隙的整体性政府"),
    _p("conflict_probability", 0.3, "float", 0, 1, "share", "fragmentation",
       "uncertainty", "Share of the pairs of rules from different departments that conflict "
       "when departments do not coordinate at all (文件打架); scaled by (1 - coordination).",
       "文件打架"),
    _p("arbitrariness", 0.02, "float", 0, 1, "probability", "enforcement", "uncertainty",
       "Chance, per detection attempt, that enforcement hits a complier (inconsistent "
       "enforcement) even with full coordination."),
    _p("fragmentation_arbitrariness", 0.1, "float", 0, 1, "probability", "fragmentation",
       "uncertainty", "Extra arbitrariness of enforcement at full fragmentation."),
    _p("mech_pairwise_conflict", True, "bool", None, None, "on/off", "fragmentation",
       "switch", "Conflict between departments, pair by pair: each pair of rules from "
       "different departments (bureaus) conflicts with chance conflict_probability x "
       "(1 - coordination), and a villager's exposure is the share of their live rules that "
       "contradict another of them, so it grows with the number of departments. Off: the "
       "first form (a fixed share of the pairs conflicts; exposure is the share of pairs).",
       "文件打架"),
    _p("department_reach", 1.0, "float", 0.01, 1, "share", "fragmentation", "structure",
       "Share of villagers each department's routine rules reach (drawn once per villager "
       "and department): departments are separate levers from rules per department."),
    _p("burden_total", False, "bool", None, None, "on/off", "grievance", "structure",
       "Burden grievance from the total cost of the rules a villager keeps (more rules, more "
       "burden); off: from their mean cost, so the number of departments leaves the burden "
       "per villager unchanged."),
    _p("bureaus", 0, "int", 0, 20, "bureaus", "fragmentation", "lever",
       "Big-department reform (大部门体制): departments merged into this many bureaus "
       "(department j into bureau j mod bureaus); conflicts inside a bureau are settled "
       "inside. The rules stay. 0: no merger.", "大部门体制"),
    _p("joint_enforcement", 0.0, "float", 0, 1, "share", "fragmentation", "lever",
       "Joint enforcement (联合执法): share of fragmentation's extra arbitrariness removed "
       "(enforcement consistent across departments).", "联合执法"),
    _p("grid_management", 0.0, "float", 0, 1, "share", "fragmentation", "lever",
       "Grid management (网格化管理, 一张网): grid workers see grievances before they "
       "become petitions (cases opened at grievance down to petition_threshold x "
       "(1 - grid_early x grid_management)) and inspections are targeted (arbitrary hits on "
       "compliers x (1 - grid_management)).", "网格化管理"),
    _p("grid_early", 0.5, "float", 0, 1, "share", "fragmentation", "uncertainty",
       "How far below the petition threshold a full grid sees grievances."),
    _p("one_window", 0.0, "float", 0, 1, "share", "fragmentation", "lever",
       "One-window acceptance (一门受理, 协同办理): share of misrouting removed, so "
       "fragmentation no longer wastes township case capacity.", "一门受理，协同办理"),
    _p("misrouting", 0.2, "float", 0, 1, "share", "fragmentation", "uncertainty",
       "Share of township case capacity lost to requests sent to the wrong desk at full "
       "fragmentation (scaled by the fragmentation index)."),
    # ---------------------------------------------------------------- transmission
    _p("mech_transmission", True, "bool", None, None, "on/off", "transmission", "switch",
       "Level-by-level loss of rule content and resources (层层过滤)."),
    _p("transmission_levels", 2, "int", 0, 10, "levels", "transmission", "structure",
       "Administrative levels a directive passes (county to township to village = 2).",
       "层层过滤"),
    _p("transmission_fidelity", 0.9, "float", 0, 1, "share/level", "transmission",
       "uncertainty", "Share of content and resources kept at each level.",
       "在不同层级的执行中，资源损失和效率损失不断放大，制度不断变形"),
    # ---------------------------------------------------------------- township government
    _p("township_capacity", 5.0, "float", 0, 100, "cases/100 villagers/step", "township_plan",
       "lever", "Cases a township can handle per step, per 100 villagers."),
    _p("responsiveness", 0.5, "float", 0, 1, "share", "township_plan", "lever",
       "Share of a township's case capacity given to answering petitions (回应性).",
       "回应性原则"),
    _p("self_interest", 0.3, "float", 0, 1, "0-1", "township_plan", "lever",
       "Weight of the township's own interests over villagers' welfare (自利).",
       "乡镇政府的自利行为选择"),
    _p("self_interest_sd", 0.0, "float", 0, 0.5, "0-1", "township_plan", "uncertainty",
       "Spread of self-interest across townships."),
    _p("evaluation_stability", 0.5, "float", 0, 1, "share", "township_plan", "lever",
       "Weight of the stability target (petitions reaching the county; with veto power, "
       "一票否决) in cadre evaluation, against implementing the county's rules (O'Brien & Li "
       "1999; Zhou Xueguang 2010). Townships put effort where evaluation weighs: petition "
       "capacity and suppression x (0.5 + w), enforcement effort x (1.5 - w); 0.5 weighs both "
       "alike.", "压力型体制; 一票否决"),
    _p("fiscal_dependence", 0.0, "float", 0, 1, "share", "township_plan", "lever",
       "Fiscal marginalisation of townships after the tax-fee reform (周飞舟 2006: 悬浮): "
       "dependence on transfers; case capacity x (1 - f/2) and deliberation x (1 - f) (less "
       "means and less reason to engage villagers), apart from self-interest.", "悬浮"),
    _p("campaign_draw", 0.3, "float", 0, 1, "share", "schedule", "uncertainty",
       "Share of routine enforcement effort a running campaign draws away (运动式治理 "
       "crowds out routine work)."),
    _p("mech_cadres", True, "bool", None, None, "on/off", "township_plan", "switch",
       "Village cadres (村干部) between the township and villagers (Oi & Rozelle 2000): "
       "cadres who answer to villagers soften enforcement in their village, carry grievances "
       "up (cases opened earlier) and mediate disputes; to whom they answer depends on "
       "elections and on how strong the village's lineages are (Tsai 2007). Off: the first "
       "form (the township reaches villagers directly)."),
    _p("elections", 0.3, "float", 0, 1, "share", "township_plan", "lever",
       "How far village cadres answer to villagers rather than to the township (村民自治, "
       "换届选举: 0 appointed in effect, 1 fully accountable to villagers).", "村民自治"),
    _p("lineage_accountability", 0.5, "float", 0, 2, "share", "township_plan", "uncertainty",
       "How much a village's lineage strength (above or below 1) holds its cadres to "
       "villagers informally (Tsai 2007)."),
    _p("cadre_self_interest", 0.0, "float", 0, 1, "0-1", "township_plan", "uncertainty",
       "Village cadres' own interests (截留, 优亲厚友): serving themselves, they serve neither "
       "side (their orientation's shield, voice and mediation shrink by this share) and their "
       "villagers lose deviation_loss x this legitimacy per step."),
    _p("cadre_shield", 0.3, "float", 0, 1, "share", "township_plan", "uncertainty",
       "Share by which cadres answering fully to villagers soften enforcement in their "
       "village."),
    _p("cadre_voice", 0.3, "float", 0, 1, "share", "petitions", "uncertainty",
       "Share of the petition threshold below which cadres answering fully to villagers "
       "carry grievances up to the township."),
    _p("cadre_mediation", 0.3, "float", 0, 1, "probability", "disputes", "uncertainty",
       "Chance that a cadre answering fully to villagers settles a dispute brought to the "
       "formal channel in the village (调解), without using township capacity."),
    _p("mech_discretion", True, "bool", None, None, "on/off", "discretion", "switch",
       "Discretion fits rules to need (aligned townships) or becomes deviation "
       "(self-interested ones)."),
    _p("discretion", 0.5, "float", 0, 1, "0-1", "discretion", "lever",
       "Room a township has to adapt rules (弹性); rigidity is 1 - discretion.",
       "适度刚性; 治理的“灵活性”与制度“偏离”常常是同一现象的不同标签"),
    _p("discretion_fit", 0.5, "float", 0, 1, "share", "discretion", "uncertainty",
       "Largest share of a rule's cost an aligned township with full discretion removes by "
       "fitting the rule to local conditions."),
    _p("rigidity_penalty", 0.5, "float", 0, 1, "share", "discretion", "uncertainty",
       "Share of a petition answer's relief lost under full rigidity (rigid rules cannot "
       "accommodate claims).", "制度的刚性程度越高…回应民众需求的有效治理程度就会越低"),
    _p("deviation_loss", 0.01, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step at full deviation (discretion x self-interest) of one's "
       "township.", "制度偏离"),
    _p("suppression", 0.2, "float", 0, 1, "probability", "petitions", "lever",
       "Chance per step, at full pressure, that a township suppresses a pending petition "
       "instead of answering it (维稳, 劝返); protest is policed by suppression_force."),
    _p("mech_trust_levels", True, "bool", None, None, "on/off", "petitions", "switch",
       "Hierarchical trust (Li Lianjiang 2004): trust in the township and in higher levels "
       "are separate stocks, each moved by that level's own actions; a petition goes to the "
       "township when local trust is at least petition_trust, over its head to the county "
       "(越级上访) when local trust is lower but trust above is not. Off: the first form "
       "(the one legitimacy stock decides whether one petitions; escalation only by waiting)."),
    _p("trust_local_initial", 0.3904, "float", 0.01, 0.99, "0-1", "initialisation",
       "uncertainty", "Mean initial trust in the township (Beta, concentration 10).",
       "乡镇政府"),
    _p("trust_upper_initial", 0.4332, "float", 0.01, 0.99, "0-1", "initialisation",
       "uncertainty", "Mean initial trust in the county and the centre (Beta, concentration "
       "10): villagers trust higher levels more (Li Lianjiang 2004)."),
    _p("diffuse_support", 0.0, "float", 0, 1, "share/step", "legitimacy", "uncertainty",
       "Diffuse support (Easton 1965): the share per step by which trust in the township and "
       "trust in the county and above return toward the villager's own standing support for "
       "the regime, a level their experience of either level does not change. 0: trust in "
       "each level is moved only by that level's actions (the first form). With "
       "mech_trust_levels and mech_legitimacy."),
    _p("diffuse_support_level", 0.5, "float", 0, 1, "0-1", "initialisation", "uncertainty",
       "Mean of the villagers' diffuse support (each drawn once, normal with sd "
       "diffuse_support_sd, clipped to [0, 1]); read only with diffuse_support > 0."),
    _p("diffuse_support_sd", 0.0, "float", 0, 0.5, "0-1", "initialisation", "uncertainty",
       "Spread of the villagers' diffuse support around diffuse_support_level."),
    _p("strategic_escalation", 0.0, "float", 0, 1, "net grievance", "protest", "uncertainty",
       "Making trouble to be heard (闹大; O'Brien & Li 2006): a villager whose petition waits "
       "at the county is willing to protest at this much less net grievance, and a "
       "concession to their protest answers it."),
    _p("mech_interception", True, "bool", None, None, "on/off", "petitions", "switch",
       "Suppression intercepts petitions before they are answered (截访, 劝返), at a routine "
       "rate even without county pressure, and silences the petitioner for "
       "suppression_quiet steps: fewer visible petitions now, a hidden backlog later. Off: "
       "the first form (only petitions left unanswered are suppressed, in proportion to "
       "pressure)."),
    _p("mech_answer_speed", True, "bool", None, None, "on/off", "petitions", "switch",
       "Responsiveness is also how fast a township answers: each month it takes up each "
       "pending petition with chance responsiveness (a petition waits 1/responsiveness months "
       "on average, and goes to the county after escalation_wait months untaken), then spends "
       "its petition capacity on those taken up. Off: the first form (every petition is "
       "taken up at once; responsiveness acts only through capacity).", "回应性原则"),
    _p("suppression_routine", 0.5, "float", 0, 1, "share", "petitions", "uncertainty",
       "Share of the suppression rate applied without county pressure (the rest scales with "
       "pressure)."),
    _p("suppression_quiet", 6, "int", 0, 1000, "steps", "petitions", "uncertainty",
       "Steps a suppressed petitioner stays silent (cannot petition) while the claim waits "
       "unseen."),
    _p("responsiveness_budget", False, "bool", None, None, "on/off", "township_plan",
       "structure", "Responsiveness as a split of fixed capacity between petitions and "
       "disputes (the first form). Off: responsiveness adds petition capacity (welfare "
       "capacity x responsiveness) and disputes keep half the welfare capacity."),
    _p("priority_handling", 0.0, "float", 0, 1, "share", "petitions", "lever",
       "Leaders take personal charge of cases (领导包案): share of petition capacity given "
       "first to the longest-waiting petitions, at the township and at the county.",
       "领导包案"),
    _p("mech_state_response", True, "bool", None, None, "on/off", "protest", "switch",
       "The state answers each protest event: concession (grievance relieved, legitimacy "
       "gained) with chance 1 - exp(-concession_k x protesters / (1 + force)), likelier as "
       "the protest is larger and costlier to repress; repression otherwise (every "
       "protester suffers suppression)."),
    _p("concession_k", 0.1, "float", 0, 100, "-", "protest", "uncertainty",
       "Steepness of the chance of concession in protesters per (1 + stability force): an "
       "event ten times (1 + force) strong is conceded with chance 1 - 1/e = 0.63."),
    _p("suppression_force", 1.0, "float", 0, 100, "officers/100 villagers", "protest", "lever",
       "Stability-maintenance force a township can deploy against protest, per 100 villagers."),
    _p("misreporting", 0.5, "float", 0, 1, "share", "township_report", "uncertainty",
       "Share of the compliance gap a fully self-interested township hides in its report."),
    _p("reprimand_pressure", 0.2, "float", 0, 10, "pressure/escalation per 100 villagers",
       "township_report", "lever", "Pressure a township receives from county reprimands for "
       "escalated petitions (压力型体制)."),
    _p("pressure_decay", 0.1, "float", 0, 1, "share/step", "township_report", "uncertainty",
       "Share of pressure that fades each step."),
    _p("compact_rate", 0.0, "float", 0, 1, "share/step", "informal_signal", "lever",
       "Village compacts (村规民约) as an ongoing participatory process: each step elders' stance "
       "moves this share x participation of the way towards support (village_compact is the "
       "one-off shift at the start).", "将正式制度嵌入非正式制度的文化土壤之中"),
    _p("lineage_strength_sd", 0.0, "float", 0, 1, "sd", "initialisation", "structure",
       "Spread of lineage strength between villages (Tsai 2007): each village's strength g "
       "~ clip(Normal(1, sd), 0, 2) scales its villagers' attachment to informal norms."),
    _p("key_person_management", 0.0, "float", 0, 1, "share", "protest", "lever",
       "Four-colour key-person management (重点人员红橙黄绿四色管理): villagers with grievance "
       "above the petition threshold are classified and watched; their felt arrest risk "
       "rises by this share of the gap to 1, and the label costs them stigma_loss "
       "legitimacy per step.", "四色管理"),
    _p("stigma_loss", 0.005, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step by a villager labelled a key person, at full management."),
    _p("social_credit", 0.0, "float", 0, 1, "share", "compliance_decision", "lever",
       "Social credit (社会信誉制度): a record of non-compliance adds this share to the felt "
       "severity of being caught, and costs every villager credit_loss legitimacy per step "
       "(surveillance resented).", "社会信誉"),
    _p("credit_loss", 0.002, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step by every villager at full social credit."),
    _p("habit_memory", 0.5, "float", 0, 0.95, "share", "compliance_decision", "uncertainty",
       "Habit as a decaying stock (路径依赖): h' = m h + (1 - m) x kept, and the decision uses "
       "h; 0 is one step of memory (the first form)."),
    _p("cooptation", 0.0, "float", 0, 1, "0-1", "informal_signal", "lever",
       "Informal operation of formal power (正式权力的非正式运作, 党员联户): townships co-opt "
       "elders, turning their stance towards the rules but spreading informal rules.",
       "正式权力的非正式运作…消极的扩散"),
    _p("cooptation_rate", 0.02, "float", 0, 1, "share/step", "informal_signal", "uncertainty",
       "Rate at which co-optation turns elders' stance towards support."),
    _p("cooptation_spread", 0.005, "float", 0, 1, "attachment/step", "informal_signal",
       "uncertainty", "Rise of villagers' norm attachment per step at full co-optation."),
    _p("official_misconduct", 0.0, "float", 0, 1, "0-1", "compliance_decision", "lever",
       "Visible rule-breaking by officials (政府行为…社会行动的标杆和表率).",
       "作为社会行动的标杆和表率，政府行为规范与否对社会行为规范化至关重要"),
    # ---------------------------------------------------------------- county
    _p("county_capacity", 0.5, "float", 0, 100, "cases/100 villagers/step", "county_review",
       "lever", "Escalated petitions the county departments answer per step, per 100 "
       "villagers."),
    _p("escalation_wait", 3, "int", 1, 1000, "steps", "petitions", "uncertainty",
       "Steps a petition waits unanswered at the township before the petitioner goes to the "
       "county (越级上访)."),
    _p("petition_patience", 12, "int", 1, 10_000, "steps", "county_review", "uncertainty",
       "Steps an escalated petition waits unanswered at the county before the petitioner gives "
       "up (every step of waiting costs wait_loss legitimacy and wait_grievance)."),
    _p("petition_persistence", 0.7644, "float", 0, 1, "probability", "county_review",
       "uncertainty",
       "Chance that a petitioner whose case at the county has just closed (answered, or given "
       "up) and who is still aggrieved goes back to the county next month, each visit a new "
       "person-time there (persistent petitioners, 缠访). 0: every case reaches the county "
       "once (the first form)."),
    _p("inspection_rate", 0.05, "float", 0, 1, "share/step", "county_review", "lever",
       "Share of villagers whose compliance county inspectors check each step (隐患排查)."),
    # ---------------------------------------------------------------- compliance decision
    _p("mech_enforcement", True, "bool", None, None, "on/off", "enforcement", "switch",
       "Detection, sanctions and the enforced side of compliance."),
    _p("mech_graduated", True, "bool", None, None, "on/off", "enforcement", "switch",
       "Graduated enforcement: persuade, then warn, then sanction (劝阻 → 警告 → 处罚); a "
       "villager who keeps every live rule starts again at persuasion."),
    _p("mech_informal", True, "bool", None, None, "on/off", "informal_signal", "switch",
       "Informal norms (peers, elders, lineage custom) in decisions and dispute routing."),
    _p("mech_habit", True, "bool", None, None, "on/off", "compliance_decision", "switch",
       "Path dependence: last step's behaviour pulls this step's (路径依赖)."),
    _p("random_sequential", False, "bool", None, None, "on/off", "compliance_decision",
       "structure",
       "Update scheme of the compliance decision: false = synchronous (everyone decides from "
       "last step's behaviour); true = random-sequential by independent sets of a graph "
       "colouring, in a random order each step, each set seeing the choices already made."),
    _p("base_compliance", 0.5, "float", -10, 10, "log-odds", "compliance_decision",
       "uncertainty", "Log-odds of complying for a neutral villager facing a costless rule."),
    _p("w_legitimacy", 2.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of legitimacy in the decision (voluntary compliance)."),
    _p("w_enforcement", 2.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of the perceived sanction (enforced compliance)."),
    _p("w_norm", 1.5, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of the informal signal, scaled by norm attachment."),
    _p("w_habit", 1.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of habit (did the same last step)."),
    _p("w_cost", 3.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of the rule's cost, felt more under hardship."),
    _p("w_conflict", 2.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of the conflict load (complying with this rule breaks others one keeps)."),
    _p("w_misconduct", 1.0, "float", 0, 20, "log-odds", "compliance_decision", "uncertainty",
       "Weight of officials' visible misconduct (why should I comply?)."),
    _p("peer_weight", 0.5, "float", 0, 1, "share", "informal_signal", "uncertainty",
       "Share of the informal signal that comes from neighbours' behaviour; the rest is the "
       "lineage elders' stance."),
    _p("record_memory", 9.84, "float", 0, 120, "months", "enforcement", "uncertainty",
       "Mean months an evader's record (the stage of graduated enforcement) is remembered when "
       "not renewed: each month it lapses with chance 1/record_memory. 0: never (the first "
       "form; a record is still cleared in a month every live rule is kept)."),
    _p("deterrence_decay", 0.1, "float", 0, 1, "share/step", "enforcement", "uncertainty",
       "Share of a villager's remembered enforcement experience that fades each step."),
    # ---------------------------------------------------------------- legitimacy
    _p("mech_legitimacy", True, "bool", None, None, "on/off", "legitimacy", "switch",
       "Legitimacy changes with experience; off keeps it at its initial value."),
    _p("loss_weight", 1.0, "float", 0.1, 10, "ratio", "legitimacy", "uncertainty",
       "How much more losses weigh than gains (trust asymmetry; 1 = symmetric).",
       "制度权威是多次认同效果的积加"),
    _p("social_influence", 0.05, "float", 0, 1, "share/step", "legitimacy", "uncertainty",
       "Pull of a villager's legitimacy towards their neighbours' mean."),
    _p("answer_gain", 0.05, "float", 0, 1, "legitimacy", "legitimacy", "uncertainty",
       "Legitimacy gained when one's petition is answered."),
    _p("fair_gain", 0.01, "float", 0, 1, "legitimacy", "legitimacy", "uncertainty",
       "Legitimacy gained from a fair, graduated enforcement encounter (persuasion, warning)."),
    _p("unfair_loss", 0.05, "float", 0, 1, "legitimacy", "legitimacy", "uncertainty",
       "Legitimacy lost when enforcement hits a complier."),
    _p("policy_credit", 0.3389, "float", 0, 1, "share", "legitimacy", "uncertainty",
       "Share of the gains from services and assistance that villagers credit to the levels "
       "above (the centre's policies, 惠农政策, which the township only delivers). 0: all to "
       "the township (the first form). With mech_trust_levels."),
    _p("conflict_loss", 0.01, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step at full exposure to conflicting directives."),
    _p("conflict_blame_upper", 0.1556, "float", 0, 1, "share", "legitimacy", "uncertainty",
       "Share of the loss from contradictory directives charged to trust in the county and "
       "above (who issued them); the rest is charged to trust in the township (who enforces "
       "them: 'good scriptures read crooked by the monks'). Legitimacy loses the whole. 1: the "
       "issuers bear it all (the first form; mech_trust_levels)."),
    _p("wait_loss", 0.005, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step while one's petition waits unanswered."),
    _p("suppression_loss", 0.05, "float", 0, 1, "legitimacy", "legitimacy", "uncertainty",
       "Legitimacy lost when one's petition or protest is suppressed."),
    _p("misconduct_loss", 0.01, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step at full official misconduct."),
    _p("dispute_gain", 0.01, "float", 0, 1, "legitimacy", "legitimacy", "uncertainty",
       "Legitimacy gained when the township resolves one's dispute (lost if it fails to)."),
    # ---------------------------------------------------------------- grievance and contention
    _p("mech_contention", True, "bool", None, None, "on/off", "petitions", "switch",
       "Petitions, escalation, collective petitions and protest."),
    _p("grievance_decay", 0.1, "float", 0, 1, "share/step", "grievance", "uncertainty",
       "Share of grievance that fades each step."),
    _p("hardship_grievance", 0.1, "float", 0, 1, "grievance/step", "grievance", "uncertainty",
       "Grievance inflow per step from hardship not offset by legitimacy (Epstein: H(1-L))."),
    _p("burden_grievance", 0.05, "float", 0, 1, "grievance/step", "grievance", "uncertainty",
       "Grievance inflow per step from the cost of the rules one complies with."),
    _p("sanction_grievance", 0.2, "float", 0, 1, "grievance", "grievance", "uncertainty",
       "Grievance from a (deserved) sanction."),
    _p("unfair_grievance", 0.3, "float", 0, 1, "grievance", "grievance", "uncertainty",
       "Grievance from enforcement that hits a complier."),
    _p("wait_grievance", 0.02, "float", 0, 1, "grievance/step", "grievance", "uncertainty",
       "Grievance inflow per step while one's petition waits."),
    _p("suppression_grievance", 0.3, "float", 0, 1, "grievance", "grievance", "uncertainty",
       "Grievance from being suppressed: quiet now, aggrieved later.",
       "依据制度所负载的权力资源…形成的只是被动的强制性服从意识"),
    _p("answer_relief", 0.6, "float", 0, 1, "share", "petitions", "uncertainty",
       "Share of grievance an answered petition removes (before the rigidity penalty)."),
    _p("petition_threshold", 0.5, "float", 0, 1, "grievance", "petitions", "uncertainty",
       "Grievance above which a villager who still trusts the formal channel petitions."),
    _p("petition_propensity", 0.07786, "float", 0, 1, "probability", "petitions", "uncertainty",
       "Chance that a villager ready to petition (aggrieved, trusting, nothing pending) files "
       "this month: petitioning costs time, money and risk. 1: every ready villager files "
       "(the first form)."),
    _p("answer_acceptance", 0.8113, "float", 0, 1, "probability", "petitions", "uncertainty",
       "Chance that a petitioner accepts the township's answer; one who does not takes the "
       "petition to the county at once (越级上访). 1: every answer is accepted (the first "
       "form)."),
    _p("petition_trust", 0.3, "float", 0, 1, "legitimacy", "petitions", "uncertainty",
       "Legitimacy below which villagers stop using the formal petition channel."),
    _p("collective_threshold", 0.3143, "float", 0, 1, "share", "petitions", "uncertainty",
       "Share of (weighted) neighbours also aggrieved above which a petition is collective "
       "(集体上访)."),
    _p("protest_threshold", 0.1, "float", 0, 1, "net grievance", "protest", "uncertainty",
       "Net grievance (grievance x (1 - legitimacy) - risk aversion x arrest probability) above "
       "which a villager is willing to protest (Epstein 2002's threshold)."),
    _p("protest_trigger", 0.01606, "float", 0, 1000, "incidents/1,000 villagers/month", "protest",
       "uncertainty",
       "Incidents (导火索) that can spark a protest, per 1,000 villagers a month: a village "
       "protests only in a month it has one, each protest a new episode (no carry-over from "
       "last month's protesters). 0: no incident needed, willingness alone decides and a "
       "protest carries over (the first form)."),
    _p("matter_window", 16, "int", 0, 120, "months", "petitions", "uncertainty",
       "Months after a matter (事由: a land deal, the village's accounts, a subsidy withheld) "
       "arises in their village during which its villagers can petition about it: no matter, "
       "no new petition, however aggrieved. 0: a grievance alone is enough (the first form). "
       "Needs matter_rate > 0."),
    _p("matter_rate", 0.01309, "float", 0, 1000, "matters/1,000 villagers/month", "petitions",
       "uncertainty",
       "Matters villagers can petition about, per 1,000 villagers a month: each village has "
       "one this month with chance 1 - exp(-matter_rate x size / 1,000). Read only with "
       "matter_window > 0."),
    _p("mobilisation_max", 0.5, "float", 0, 1, "share", "protest", "uncertainty",
       "Personal mobilisation thresholds are uniform on [0, this]: the share of weighted "
       "neighbours that must protest before one joins (Granovetter 1978)."),
    _p("cascade_rounds", 3, "int", 1, 50, "rounds", "protest", "structure",
       "Rounds of threshold cascade within one step."),
    _p("arrest_k", 2.3, "float", 0, 20, "-", "protest", "uncertainty",
       "Epstein's k in P = 1 - exp(-k x force/protesters)."),
    _p("detention_term", 3, "int", 0, 1000, "steps", "protest", "lever",
       "Maximum detention of a detained protester; each detainee is held a uniform 1..this "
       "many steps and can neither protest nor petition meanwhile (Epstein's jail term)."),
    _p("protest_event_min", 5, "int", 1, 100_000, "protesters", "measures", "structure",
       "Protesters a village needs in a step for it to count as a protest event "
       "(collective incident)."),
    # ---------------------------------------------------------------- disputes / substitution
    _p("dispute_rate", 0.002877, "float", 0, 1, "probability/step", "disputes", "uncertainty",
       "Chance per step that a villager of average hardship has a dispute to resolve."),
    _p("mediation_success", 0.9719, "float", 0, 1, "probability", "disputes", "uncertainty",
       "Chance that a formal dispute the township handles (within its capacity) is settled; "
       "one not settled falls back to the elders, as one left unhandled. 1: every handled "
       "dispute is settled (the first form)."),
    _p("w_formal_legitimacy", 10.28, "float", 0, 20, "log-odds", "disputes", "uncertainty",
       "Weight of legitimacy in taking a dispute to the township rather than to elders."),
    _p("w_formal_bias", -0.4022, "float", -20, 20, "log-odds", "disputes", "uncertainty",
       "Log-odds of taking a dispute to the formal channel for a villager of neutral "
       "legitimacy and attachment (½) whose elders are neutral: below 0, disputes stay among "
       "kin and elders unless there is a reason to go formal. 0: even odds (the first form)."),
    _p("w_formal_attachment", 2.0, "float", 0, 20, "log-odds", "disputes", "uncertainty",
       "Weight of norm attachment in taking a dispute to elders instead."),
    _p("w_formal_stance", 1.0, "float", 0, 20, "log-odds", "disputes", "uncertainty",
       "Weight of elders' opposition to the formal rules in taking a dispute to elders."),
    _p("attachment_rate", 0.02, "float", 0, 1, "attachment", "disputes", "uncertainty",
       "Change of norm attachment after a dispute is resolved informally (+) or formally (-).",
       "制度权威替代"),
    _p("elder_resolution", 0.9, "float", 0, 1, "probability", "disputes", "uncertainty",
       "Chance that elders resolve a dispute brought to them."),
    # ---------------------------------------------------------------- services, participation
    _p("mech_services", True, "bool", None, None, "on/off", "services", "switch",
       "Public services and minimum-income assistance (低保) relieve hardship."),
    _p("service_coverage", 0.3, "float", 0, 1, "share", "services", "lever",
       "Coverage of equalised public services (公共服务均等化: care, health, education).",
       "加快城乡公共服务均等化过程…消除乡村社会成员基本社会生活忧虑"),
    _p("service_relief", 0.5, "float", 0, 1, "share", "services", "uncertainty",
       "Share of hardship full service coverage removes."),
    _p("poverty_line", 0.7, "float", 0, 1, "hardship", "services", "lever",
       "Hardship above which a villager is eligible for minimum-income assistance."),
    _p("targeting_accuracy", 0.9, "float", 0, 1, "probability", "services", "lever",
       "Chance a review keeps an eligible villager on the assistance rolls at zero "
       "self-interest; ineligible ones are added at a matching rate (应保尽保、应退尽退)."),
    _p("assistance_relief", 0.5, "float", 0, 1, "share", "services", "uncertainty",
       "Share of hardship assistance removes."),
    _p("assistance_review", 12, "int", 0, 1_000_000, "steps", "services", "lever",
       "Steps between reviews of the assistance rolls (dynamic management 动态管理); 0 never "
       "reviews after the start."),
    _p("service_gain", 0.002, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy gained per step by an assisted villager, and by all at full service "
       "coverage."),
    _p("exclusion_loss", 0.002, "float", 0, 1, "legitimacy/step", "legitimacy", "uncertainty",
       "Legitimacy lost per step by an eligible villager left off the assistance rolls."),
    _p("hardship_shock", 0.01, "float", 0, 1, "share/step", "services", "uncertainty",
       "Share of villagers hit by a hardship shock each step (illness, crop failure, loss of "
       "work): hardship rises by shock_size, then recovers, so eligibility for assistance "
       "changes between reviews of the rolls (应保尽保、应退尽退 as a targeting problem)."),
    _p("shock_size", 0.3, "float", 0, 1, "hardship", "services", "uncertainty",
       "Rise of hardship in a shock (capped at 1)."),
    _p("hardship_recovery", 0.05, "float", 0, 1, "share/step", "services", "uncertainty",
       "Share of the gap between current and structural hardship closed each step."),
    _p("mech_participation", True, "bool", None, None, "on/off", "participation", "switch",
       "Deliberation and villager self-governance channels (民主参与, 村民自治)."),
    _p("participation", 0.1, "float", 0, 1, "share/step", "participation", "lever",
       "Share of villagers who take part in a deliberation each step.",
       "多元民主参与…减少非制度化行为"),
    _p("participation_gain", 0.01, "float", 0, 1, "legitimacy", "participation", "uncertainty",
       "Legitimacy gained by taking part."),
    _p("participation_relief", 0.1, "float", 0, 1, "share", "participation", "uncertainty",
       "Share of grievance taking part relieves (疏导情绪)."),
)

REGISTRY: dict[str, Param] = {p.name: p for p in PARAMS}

#: The parameters of the population generator (ODD 7.16): field data (ODD 6) give the county
#: itself, so with field data these have no effect and may not be set.
GENERATOR: tuple[str, ...] = (
    "n_villagers", "n_townships", "villages_per_township", "lineages_per_village",
    "ties_within_lineage", "ties_within_village", "ties_between_villages",
    "cross_township_share", "elder_share", "elder_extra_ties")

AT_START: frozenset[str] = frozenset({
    *GENERATOR, "elder_weight", "hardship_mean", "risk_aversion_mean", "legitimacy_initial",
    "norm_attachment_initial", "trust_local_initial", "trust_upper_initial", "opportunism",
    "diffuse_support_level", "diffuse_support_sd",
    "mobilisation_max", "lineage_strength_sd", "rules_per_department", "rules_total",
    "rule_cost",
    "cost_heterogeneity", "enforcement", "norm_compatibility", "norm_compatibility_sd",
    "village_compact", "department_reach", "campaign_cost", "campaign_enforcement",
    "campaign_target_share", "campaign_compatibility", "compensation", "self_interest",
    "self_interest_sd", "random_sequential", "n_departments", "campaign"})
"""The parameters read only when the county is built (ODD 5.3): the structure and the network,
the initial distributions, the rules' own costs, enforcement and compatibility, the campaign
rule's make-up, the townships' self-interest — and the two that fix the shape of the model's
arrays (``n_departments``: the number of rules; ``campaign``: whether there is a campaign
rule). Setting one of these in a running model would do nothing (or break the arrays), so an
intervention (ODD 7.1) may not change them; every other parameter is read from ``model.p``
every step and may. (tests/test_interventions.py checks this list against the code: a name here
is read only by the initialisation, a name not here by a submodel.)"""

TOWNSHIP_LEVERS: tuple[str, ...] = ("responsiveness", "suppression", "discretion", "misreporting")
"""The levers a township head chooses for their own township (ODD 7.1, 7.2): an intervention
with a ``township`` sets them for that township only (the training room's township heads);
every other township keeps the county's value."""

#: The first forms (ODD section 7, "first forms"): the values that turn every structural change
#: of the second model generation back into the first model's rules. With these settings the
#: model reproduces the first generation's results exactly (tests/test_golden.py).
FIRST_FORMS: dict[str, Any] = {
    "mech_pairwise_conflict": False, "misrouting": 0.0, "mech_interception": False,
    "responsiveness_budget": True, "mech_state_response": False, "mech_trust_levels": False,
    "campaign_draw": 0.0, "hardship_shock": 0.0, "habit_memory": 0.0, "mech_cadres": False,
    "mech_answer_speed": False, "diffuse_support": 0.0,
}

#: The parameters whose defaults are the calibration's point estimate (docs/calibration.md;
#: ``results/calibration/targets/point.json``, held to these defaults by a test).
CALIBRATED: tuple[str, ...] = (
    "petition_propensity", "answer_acceptance", "collective_threshold", "protest_trigger",
    "record_memory", "policy_credit", "dispute_rate", "w_formal_legitimacy",
    "mediation_success", "conflict_blame_upper", "matter_window", "matter_rate", "w_formal_bias",
    "petition_persistence",
)

#: The defaults before the calibrated county became the default (ruralgov 0.x, issue 28):
#: ``RuralGovernanceModel(**UNCALIBRATED)`` (or ``--set`` each) is the county of the results
#: made before — a county of 2,000 villagers in villages of 100, every calibrated mechanism in
#: its first form and the stocks at their first guesses.
UNCALIBRATED: dict[str, Any] = {
    "n_villagers": 2000, "petition_propensity": 1.0, "answer_acceptance": 1.0,
    "collective_threshold": 0.3, "protest_trigger": 0.0, "record_memory": 0.0,
    "policy_credit": 0.0, "dispute_rate": 0.02, "w_formal_legitimacy": 2.0,
    "mediation_success": 1.0, "legitimacy_initial": 0.5, "trust_local_initial": 0.45,
    "trust_upper_initial": 0.7, "conflict_blame_upper": 1.0, "matter_window": 0, "matter_rate": 0.0,
    "w_formal_bias": 0.0, "petition_persistence": 0.0, "mech_answer_speed": False,
}

#: The mechanism switches of docs/hypotheses.md section 5, in ODD order.
MECHANISMS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.role == "switch")


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every parameter's default value."""
    return {p.name: p.default for p in PARAMS}


def markdown_table() -> str:
    """The parameter table of docs/ODD.md, generated from the registry."""
    rows = [
        "| parameter | default | allowed | unit | role | submodel | set | meaning |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in PARAMS:
        default = str(p.default).lower() if p.type == "bool" else f"{p.default}"
        if p.name in CALIBRATED:
            default += " (calibrated)"
        elif p.name in UNCALIBRATED and UNCALIBRATED[p.name] != p.default:  # set with the
            # calibrated county (the stocks, the size)
            default += " (calibrated county)"
        doc = p.doc + (f" Paper: {p.paper}" if p.paper else "")
        allowed = "true/false" if p.type == "bool" else f"{_fmt(p.lo)} to {_fmt(p.hi)}"
        rows.append(
            f"| `{p.name}` | {default} | {allowed} | {p.unit} | {p.role} | {p.section} | "
            f"{'at start' if p.name in AT_START else 'any step'} | {doc} |"
        )
    return "\n".join(rows)


def _check_registry() -> None:
    for p in PARAMS:
        if p.type == "bool":
            assert isinstance(p.default, bool), p.name
            continue
        assert not isinstance(p.default, bool), p.name
        assert p.lo <= p.default <= p.hi, p.name


_check_registry()

if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(markdown_table())
