public import Foundation

/// The test images in `Tests/Fixtures/corpus`: a copy of the project's shared corpus (real images written by
/// others, each with its source and licence in MANIFEST.tsv), kept in the repository so a clean clone tests alone.
public enum Corpus {
    /// The package root: the nearest folder above this source file that holds Package.swift.
    public static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The corpus folder.
    public static let root: URL = packageRoot.appendingPathComponent("Tests/Fixtures/corpus", isDirectory: true)

    /// The URL of a corpus file, e.g. `Corpus.url("basics/jpeg_baseline_testorig.jpg")`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The bytes of a corpus file; throws when it is missing.
    public static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }

    /// Names of the files in a corpus folder (e.g. `"pngsuite"`), sorted.
    public static func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(folder).path).sorted()
    }
}
