"""Great Expectations suites generated from the agreements, and the judgement of the scorecard.

`compile` turns `sla/` into suites (pure Python: no great_expectations import, so
`funnelpact compile --check` stays fast); `validate` runs them with GX against
`marts.scorecard` and maps GX's results onto the statuses of SPEC section 4.
"""
