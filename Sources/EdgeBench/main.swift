// Offline benchmarks of EdgeCore's pure parts and of the LMDB store, run by the scripts in tools/bench (release
// builds only).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `message` to standard error (through the descriptor: the C `stderr` global is not concurrency-safe)
/// and exits with status 2.
func fail(_ message: String) -> Never {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

let usage = """
    usage: EdgeBench eviction [--requests N] [--objects N] [--seed N] [--only default,...] [--quick]
           EdgeBench churn [--max-mb N] [--factor N] [--objects N] [--open-entries N] [--seed N] [--dir D]
                           [--only scan,trace,open] [--scan-runs N] [--quick]
           EdgeBench gossip [--nodes N] [--purges N] [--losses 0,0.1,0.3] [--seed N]
           EdgeBench serve-floor --port N --file PATH [--decode]
           EdgeBench serve-h2-floor --port N --cert PEM --key PEM --dir FOLDER
           EdgeBench decode-floor FILE --width W [--runs N]
    """
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "eviction":
    do {
        try EvictionBenchmark(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
case "churn":
    do {
        try await ChurnBenchmark(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
case "gossip":
    do {
        try GossipBenchmark(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
case "serve-floor":
    do {
        try FloorServer(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
case "serve-h2-floor":
    do {
        try H2FloorServer(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
case "decode-floor":
    do {
        try DecodeFloor(arguments: Array(arguments.dropFirst())).run()
    } catch {
        fail("EdgeBench: \(error)\n\(usage)")
    }
default:
    fail(usage)
}
