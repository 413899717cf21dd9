/// imgix rotation parameters `flip`, `rot`, `rot-type` (`orient` is part of sizing). (Filled in by the
/// rotation work; empty until then.)
public struct RotationSpec: ParameterGroup {
    static let parameters: Set<String> = []
    public init() {}
    init(_ reader: ParameterReader) throws(EdgeError) {}
    func canonical(into out: inout [String]) {}
}
