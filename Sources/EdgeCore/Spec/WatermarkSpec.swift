/// imgix watermark parameters. (Filled in by the watermark work; empty until then.)
public struct WatermarkSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
