// Offline benchmarks of EdgeCore's pure parts, run by the scripts in tools/bench (release builds only).
// Usage: EdgeBench eviction [--requests N] [--objects N] [--seed N] [--quick]
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    fputs("usage: EdgeBench eviction [--requests N] [--objects N] [--seed N] [--quick]\n", stderr)
    exit(2)
}
arguments.removeFirst()
switch command {
case "eviction":
    do {
        try EvictionBenchmark(arguments: arguments).run()
    } catch {
        fputs("EdgeBench: \(error)\n", stderr)
        exit(2)
    }
default:
    fputs("EdgeBench: unknown benchmark \(command)\n", stderr)
    exit(2)
}
