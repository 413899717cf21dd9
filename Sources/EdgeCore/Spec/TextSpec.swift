/// imgix text parameters. (Filled in by the text work; empty until then.)
public struct TextSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
