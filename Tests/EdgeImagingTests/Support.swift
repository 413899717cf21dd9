import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

/// The processor every imaging test uses (libvips starts once per process).
let processor: VipsImageProcessor = {
    do { return try VipsImageProcessor(concurrency: 1) } catch { fatalError("vips init: \(error)") }
}()

let generousLimits = ImageLimits(maxSourcePixels: 100_000_000)

/// Processes `bytes` for an imgix query; the format is negotiated with no Accept header.
func process(_ bytes: [UInt8], _ query: String, limits: ImageLimits = generousLimits) throws -> ProcessedImage {
    let spec = try TransformParser.parse(query: Substring(query))
    return try processor.process(source: bytes, spec: spec, format: NegotiatedFormat(spec: spec, accept: nil), limits: limits)
}

/// Processes a corpus file for an imgix query.
func process(corpus file: String, _ query: String, limits: ImageLimits = generousLimits) throws -> ProcessedImage {
    try process(Corpus.bytes(file), query, limits: limits)
}

/// The EdgeError processing throws, or nil when it succeeds.
func processError(_ bytes: [UInt8], _ query: String = "w=50", limits: ImageLimits = generousLimits) -> EdgeError? {
    do {
        _ = try process(bytes, query, limits: limits)
        return nil
    } catch let e as EdgeError {
        return e
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// Runs a tool and returns its exit status and standard output.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let r = try SpawnedProcess.run(executable, arguments)
    return (r.status, r.stdout)
}

/// Decoded pixels (8-bit), read back with the `vips` command-line tool through its native `.v` format.
struct Pixels {
    var width: Int
    var height: Int
    var bands: Int
    var data: [UInt8]

    /// Decodes an encoded image (any format vips reads).
    init(decoding bytes: [UInt8]) throws {
        let dir = try TemporaryDirectory(prefix: "imgedge-decode")
        defer { dir.remove() }
        let input = try dir.write("in", bytes: bytes)
        let output = dir.appending("out.v")
        let (status, _) = try run("/usr/bin/vips", ["copy", input.path, output.path])
        guard status == 0 else { throw DecodeFailed(reason: "vips copy exited \(status)") }
        let raw = [UInt8](try Data(contentsOf: output))
        func int(_ offset: Int) -> Int {
            Int(raw[offset]) | Int(raw[offset + 1]) << 8 | Int(raw[offset + 2]) << 16 | Int(raw[offset + 3]) << 24
        }
        guard raw.count >= 64, raw[0..<4].elementsEqual([0xb6, 0xa6, 0xf2, 0x08]) else {
            throw DecodeFailed(reason: "not a little-endian .v file")
        }
        width = int(4)
        height = int(8)
        bands = int(12)
        guard int(20) == 0 else { throw DecodeFailed(reason: "band format \(int(20)) is not uchar") }
        let size = width * height * bands
        guard raw.count >= 64 + size else { throw DecodeFailed(reason: "short pixel data") }
        data = Array(raw[64..<64 + size])
    }

    func pixel(_ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * width + x) * bands
        return Array(data[i..<i + bands])
    }

    /// Mean of each band over a rectangle.
    func mean(x: Int, y: Int, width w: Int, height h: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: bands)
        for yy in y..<y + h {
            for xx in x..<x + w {
                let i = (yy * width + xx) * bands
                for b in 0..<bands { sums[b] += Double(data[i + b]) }
            }
        }
        return sums.map { $0 / Double(w * h) }
    }

    /// Mean brightness of each cell of an n x n grid, row by row.
    func grid(_ n: Int) -> [Double] {
        var cells: [Double] = []
        for gy in 0..<n {
            for gx in 0..<n {
                let x0 = gx * width / n, x1 = (gx + 1) * width / n
                let y0 = gy * height / n, y1 = (gy + 1) * height / n
                let m = mean(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
                cells.append(m.prefix(3).reduce(0, +) / Double(min(3, bands)))
            }
        }
        return cells
    }
}

struct DecodeFailed: Error { var reason: String }

/// The largest difference between two equally long lists.
func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}

/// Mirrors an n x n grid left to right.
func mirrored(_ cells: [Double], _ n: Int) -> [Double] {
    (0..<n).flatMap { row in cells[row * n..<(row + 1) * n].reversed() }
}

/// Flips an n x n grid top to bottom.
func flipped(_ cells: [Double], _ n: Int) -> [Double] {
    (0..<n).reversed().flatMap { row in cells[row * n..<(row + 1) * n] }
}

extension Array where Element == UInt8 {
    func starts(with prefix: String) -> Bool { self.starts(with: Array(prefix.utf8)) }
}

/// JPEG frame markers (SOFn) in a JPEG stream, in order, up to the first scan.
func jpegFrames(_ b: [UInt8]) -> [(marker: UInt8, components: Int, precision: Int)] {
    var out: [(UInt8, Int, Int)] = []
    var i = 2
    while i + 4 <= b.count, b[i] == 0xff {
        let marker = b[i + 1]
        if marker == 0xda { break }  // start of scan
        let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
        if (0xc0...0xcf).contains(marker), marker != 0xc4, marker != 0xc8, marker != 0xcc, i + 9 < b.count {
            out.append((marker, Int(b[i + 9]), Int(b[i + 4])))
        }
        i += 2 + length
    }
    return out
}

/// PNG IHDR: width, height, bit depth, colour type.
func pngHeader(_ b: [UInt8]) -> (width: Int, height: Int, depth: Int, colorType: Int)? {
    guard b.count >= 33, b.starts(with: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          b[12..<16].elementsEqual("IHDR".utf8) else { return nil }
    func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
    return (u32(16), u32(20), Int(b[24]), Int(b[25]))
}

/// Builds a PNG from chunks, with correct CRCs.
func png(_ chunks: [(type: String, data: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
    for c in chunks {
        let typed = Array(c.type.utf8) + c.data
        out += be32(UInt32(c.data.count)) + typed + be32(crc32(typed))
    }
    return out
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xffff_ffff
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xffff_ffff
}

/// An IHDR chunk body.
func ihdr(width: UInt32, height: UInt32, depth: UInt8 = 8, colorType: UInt8 = 2) -> [UInt8] {
    be32(width) + be32(height) + [depth, colorType, 0, 0, 0]
}
