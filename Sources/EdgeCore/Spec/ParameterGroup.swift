/// A group of related imgix parameters (one family of the docs: adjustment, stylize, watermark…), parsed
/// together, applied by one pipeline step, and written into the cache key together.
protocol ParameterGroup: Sendable, Hashable {
    /// Canonical names of the parameters this group reads (they count as implemented).
    static var parameters: Set<String> { get }
    /// Parses the group's parameters from a request; every parameter absent means the group's default.
    init(_ reader: ParameterReader) throws(EdgeError)
    /// Appends `name=value` items for every setting that changes the output, in a fixed order, values in
    /// canonical spelling; a group that changes nothing appends nothing.
    func canonical(into out: inout [String])
}
