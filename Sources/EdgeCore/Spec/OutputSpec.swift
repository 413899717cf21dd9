/// imgix format parameters beyond `fm`, `q` and `auto=format` (which TransformSpec holds): lossless,
/// chromasub, colorquant, dpi, jpg-progressive, cs, iptc, dl… (Filled in by the format work; empty until then.)
public struct OutputSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
