"""Price alert evaluation: an indexed rule engine, its naive reference, and their firings.

`engine.RuleEngine` is what runs; `reference.ReferenceEngine` scans every rule on every
tick and exists to check the engine (property tests) and to measure it against (bench).
"""
