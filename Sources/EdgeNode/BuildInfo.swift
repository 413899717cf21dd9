import Foundation

/// What this binary is: the release it was built from, the linker's build ID (which tells two builds of one
/// release apart), and the build configuration. `imgedge --version` and `/metrics` (`imgedge_build_info`) report it.
public enum BuildInfo {
    public static let version = "0.6.0"

    #if DEBUG
    public static let configuration = "debug"
    #else
    public static let configuration = "release"
    #endif

    /// The GNU build ID of the running executable (hex), read once from its ELF notes; "unknown" when it has none.
    public static let build: String = buildID(path: "/proc/self/exe") ?? "unknown"

    /// `imgedge 0.6.0 (build 1a2b3c4d5e6f, release)`.
    public static var description: String {
        "imgedge \(version) (build \(build.prefix(12)), \(configuration))"
    }

    /// The NT_GNU_BUILD_ID note of a 64-bit little-endian ELF file, found through its program headers (PT_NOTE).
    public static func buildID(path: String) -> String? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count > 0, count <= 1 << 20, (try? file.seek(toOffset: offset)) != nil,
                  let data = try? file.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func word<T: FixedWidthInteger>(_ bytes: [UInt8], _ at: Int, _: T.Type) -> T? {
            guard at >= 0, at + MemoryLayout<T>.size <= bytes.count else { return nil }
            return bytes[at..<at + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        guard let header = read(0, 64), header.starts(with: [0x7F, 0x45, 0x4C, 0x46]), header[4] == 2, header[5] == 1,
              let phoff = word(header, 32, UInt64.self), let phentsize = word(header, 54, UInt16.self),
              let phnum = word(header, 56, UInt16.self), phentsize >= 56,
              let table = read(phoff, Int(phentsize) * Int(phnum)) else { return nil }
        for i in 0..<Int(phnum) {
            let base = i * Int(phentsize)
            guard word(table, base, UInt32.self) == 4,   // PT_NOTE
                  let offset = word(table, base + 8, UInt64.self), let size = word(table, base + 32, UInt64.self),
                  let notes = read(offset, Int(size)) else { continue }
            var at = 0
            while at + 12 <= notes.count {
                guard let namesz = word(notes, at, UInt32.self), let descsz = word(notes, at + 4, UInt32.self),
                      let type = word(notes, at + 8, UInt32.self) else { break }
                let name = at + 12
                let desc = name + (Int(namesz) + 3) / 4 * 4
                let next = desc + (Int(descsz) + 3) / 4 * 4
                guard next <= notes.count else { break }
                if type == 3, namesz == 4, notes[name..<name + 3] == [0x47, 0x4E, 0x55] {   // "GNU"
                    return notes[desc..<desc + Int(descsz)].map { String(format: "%02x", $0) }.joined()
                }
                at = next
            }
        }
        return nil
    }
}
