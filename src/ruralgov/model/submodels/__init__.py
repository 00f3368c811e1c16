"""The submodels of docs/ODD.md section 7, one function each, grouped by process:

* [`government`][ruralgov.model.submodels.government] — schedule, township_plan, township_report;
* [`welfare`][ruralgov.model.submodels.welfare] — services, participation;
* [`compliance`][ruralgov.model.submodels.compliance] — informal_signal, compliance_decision,
  enforcement;
* [`attitudes`][ruralgov.model.submodels.attitudes] — update_grievance, update_legitimacy;
* [`contention`][ruralgov.model.submodels.contention] — petitions, county_review, protest;
* [`disputes`][ruralgov.model.submodels.disputes] — disputes.

The order in which they run is [`SCHEDULE`][ruralgov.model.schedule.SCHEDULE].
"""
