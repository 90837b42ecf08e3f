"""Whole-scenario analyses on top of the chain, one module each: `sensitivity` (tornado + Sobol),
`plan` (layouts), `validate` (against published figures); `indices` holds the estimators."""
