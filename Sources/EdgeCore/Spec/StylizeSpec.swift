/// imgix stylize parameters. (Filled in by the stylize work; empty until then.)
public struct StylizeSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
