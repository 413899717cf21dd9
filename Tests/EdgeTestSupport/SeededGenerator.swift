public import EdgeCore

/// A small deterministic random generator: tests that explore many cases explore the same ones on every run, so
/// a failure reproduces. The one the node's own seeded choices use.
public typealias SeededGenerator = SplitMix64
