/// The client-hint request headers a URL may opt into with imgix `ch`: `Width` (or `Sec-CH-Width`) overrides
/// `w`, `DPR` (or `Sec-CH-DPR`) overrides `dpr`, `Save-Data: on` lowers quality to 45.
public struct ClientHints: Sendable, Hashable {
    /// Width of the image slot in device pixels (the header already includes the device pixel ratio).
    public var width: Double?
    public var dpr: Double?
    public var saveData: Bool

    public init(width: Double? = nil, dpr: Double? = nil, saveData: Bool = false) {
        self.width = width
        self.dpr = dpr
        self.saveData = saveData
    }

    /// From request header values; malformed or out-of-range hints are ignored, as a browser hint may be.
    public init(width: Substring?, dpr: Substring?, saveData: Substring?) {
        let w = width.flatMap { NumberText.parse(String($0)) }
        self.width = w.flatMap { $0 >= 1 && $0 <= 1_000_000 ? $0.rounded() : nil }
        let d = dpr.flatMap { NumberText.parse(String($0)) }
        self.dpr = d.flatMap { $0 > 0 && $0 <= 5 ? $0 : nil }
        self.saveData = saveData.map { $0.trimmingSpaces.lowercased() == "on" } ?? false
    }

    /// The hints imgix names in `ch`, in the order their headers are listed in `Vary`.
    public enum Name: String, Sendable, CaseIterable {
        case dpr, width, saveData = "save-data"
        public var header: String {
            switch self {
            case .dpr: "DPR"
            case .width: "Width"
            case .saveData: "Save-Data"
            }
        }
    }
}
