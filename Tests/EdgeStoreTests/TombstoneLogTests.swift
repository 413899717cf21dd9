import EdgeCore
import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

@Suite struct TombstoneLogTests {
    /// Should read back every tombstone appended, with awkward characters, skipping a torn last line.
    @Test func roundTripAndTornLine() throws {
        let dir = try TemporaryDirectory(prefix: "imgedge-tombstones")
        let path = dir.path + "/cache/tombstones.log"
        let written = [
            Tombstone(id: "n1-1", selector: .image(source: "web", path: "/a b/ç\tx\n%41.jpg"), time: 1),
            Tombstone(id: "n1-2", selector: .prefix(source: "web", prefix: "/photos/"), time: 2),
            Tombstone(id: "n1-3", selector: .tag("summer"), time: 3),
            Tombstone(id: "n1-4", selector: .sourceTag(source: "web", tag: "mine"), time: 4),
            Tombstone(id: "n1-5", selector: .source("old"), time: UInt64.max),
        ]
        do {
            let (log, none) = try TombstoneLog.open(path: path)
            #expect(none.isEmpty)
            try log.append(Array(written.prefix(2)))
            try log.append(Array(written.dropFirst(2)))
        }
        // A crash mid-write leaves a partial line.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("v1\tn1-6\t7\tima".utf8))
        try handle.close()
        let (log, read) = try TombstoneLog.open(path: path)
        #expect(read == written)
        try log.append([Tombstone(id: "n1-7", selector: .tag("t"), time: 9)])
        let (_, again) = try TombstoneLog.open(path: path)
        #expect(again.count == 6 && again.last?.id == "n1-7")
    }

    /// Should keep source switches with the tombstones and read back the latest per source.
    @Test func sourceSwitches() throws {
        let dir = try TemporaryDirectory(prefix: "imgedge-tombstones")
        let path = dir.path + "/tombstones.log"
        do {
            let (log, _) = try TombstoneLog.open(path: path)
            try log.append(switches: [SourceSwitch(source: "web\tx", enabled: false, time: 5)])
            try log.append([Tombstone(id: "n-1", selector: .source("web"), time: 6)])
            try log.append(switches: [SourceSwitch(source: "web\tx", enabled: true, time: 4),
                                      SourceSwitch(source: "files", enabled: false, time: 7)])
        }
        let (log, tombstones) = try TombstoneLog.open(path: path)
        #expect(tombstones.map(\.id) == ["n-1"])
        #expect(log.switches == [SourceSwitch(source: "files", enabled: false, time: 7),
                                 SourceSwitch(source: "web\tx", enabled: false, time: 5)])
    }
}
