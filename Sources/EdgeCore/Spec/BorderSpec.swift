/// imgix border and padding parameters. (Filled in by the border work; empty until then.)
public struct BorderSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
