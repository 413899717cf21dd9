/// imgix adjust parameters. (Filled in by the adjust work; empty until then.)
public struct AdjustSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
