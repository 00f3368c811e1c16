"""The schedule: the one ordered tuple of submodels that makes a step (docs/ODD.md section 3).

``RuralGovernanceModel.step()`` runs these functions in this order, each with the model and the
step's [`Scratch`][ruralgov.model.state.Scratch] (one, made fresh at the start of the step); ODD
section 3, the benchmark's per-submodel shares and the tests read this tuple. Villagers update
*synchronously*: every villager decides from the state at the end of the last step, then the
submodels apply their effects in order (``random_sequential`` changes only
``compliance_decision``).
"""

from __future__ import annotations

from ruralgov.model.observe import collect
from ruralgov.model.submodels.attitudes import update_grievance, update_legitimacy
from ruralgov.model.submodels.compliance import compliance_decision, enforcement, informal_signal
from ruralgov.model.submodels.contention import county_review, petitions, protest
from ruralgov.model.submodels.disputes import disputes
from ruralgov.model.submodels.government import schedule, township_plan, township_report
from ruralgov.model.submodels.welfare import participation, services

__all__ = ["SCHEDULE"]

SCHEDULE = (
    schedule,             # 7.1  scheduled events; which rules are live
    township_plan,        # 7.2  townships set fidelity, effort, capacities
    services,             # 7.3  services and assistance relieve hardship
    informal_signal,      # 7.4  peers' and elders' norm toward each rule
    compliance_decision,  # 7.5  comply or evade, per villager and rule
    enforcement,          # 7.6  detection and graduated responses
    participation,        # 7.7  deliberation
    update_grievance,     # 7.8  grievance stock
    petitions,            # 7.9  petitions to the township
    county_review,        # 7.10 escalated petitions, inspection
    protest,              # 7.11 protest cascade, detention
    disputes,             # 7.12 disputes to the township or the elders
    update_legitimacy,    # 7.13 legitimacy stock
    township_report,      # 7.14 reports upward, county pressure
    collect,              # 7.15 observation
)
"""The submodels of one step, in order: the only copy of the schedule (ODD section 3)."""
