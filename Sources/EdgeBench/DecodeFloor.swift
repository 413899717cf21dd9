import EdgeCore
import EdgeImaging
import Foundation

/// `EdgeBench decode-floor FILE --width W [--runs N]`: the in-process cost of only decoding a JPEG at the scale the
/// pipeline chooses for a W-px-wide output (libjpeg-turbo through libvips' shrink-on-load, into memory; libvips
/// decodes on one worker thread): the floor no JPEG server can beat on a cold original; and the whole transform in
/// process (q75 JPEG, no HTTP, no cache). Prints one JSON line: the shrink, the decoded size and each run's
/// milliseconds (the floor's wall and CPU, the transform's CPU; CPU of the process).
struct DecodeFloor {
    var file: String
    var width: Int
    var runs = 15

    init(arguments: [String]) throws {
        var file: String?, width: Int?
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            func value() throws -> String {
                guard i + 1 < arguments.count else { throw UsageError(description: "\(a) needs a value") }
                i += 1
                return arguments[i]
            }
            switch a {
            case "--width": width = Int(try value())
            case "--runs": runs = Int(try value()) ?? runs
            default:
                guard file == nil, !a.hasPrefix("--") else { throw UsageError(description: "unexpected \(a)") }
                file = a
            }
            i += 1
        }
        guard let file, let width, width > 0, runs > 0 else { throw UsageError(description: "decode-floor FILE --width W [--runs N]") }
        self.file = file
        self.width = width
    }

    func run() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let processor = try VipsImageProcessor(concurrency: 1)
        let spec = try TransformParser.parse(query: Substring("w=\(width)"))
        let limits = ImageLimits(maxSourcePixels: 1 << 40)
        let shrink = try processor.loadShrink(source: bytes, spec: spec, format: NegotiatedFormat(spec: spec, accept: nil), limits: limits)
        var wall: [Double] = [], cpu: [Double] = [], transform: [Double] = []
        var size = (width: 0, height: 0)
        // The whole transform in process (decode, resize, encode; no HTTP, no cache), as the node's miss runs it.
        let full = try TransformParser.parse(query: Substring("w=\(width)&q=75&fm=jpg"))
        let fullFormat = NegotiatedFormat(spec: full, accept: nil)
        for run in 0..<(runs + 2) {
            let c0 = Self.processCPU(), t0 = DispatchTime.now().uptimeNanoseconds
            size = try processor.decodeFloor(source: bytes, shrink: shrink)
            let t1 = DispatchTime.now().uptimeNanoseconds, c1 = Self.processCPU()
            _ = try processor.process(source: bytes, spec: full, format: fullFormat, limits: limits)
            let c2 = Self.processCPU()
            // Two warm-up runs.
            if run >= 2 {
                wall.append(Double(t1 - t0) / 1e6)
                cpu.append((c1 - c0) * 1000)
                transform.append((c2 - c1) * 1000)
            }
        }
        let list = { (v: [Double]) in v.map { String(format: "%.3f", $0) }.joined(separator: ",") }
        print(#"{"shrink":\#(shrink),"width":\#(size.width),"height":\#(size.height),"wall":[\#(list(wall))],"cpu":[\#(list(cpu))],"transform":[\#(list(transform))]}"#)
    }

    /// The process's CPU time, seconds (libvips decodes on a worker thread of its own).
    static func processCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
