import ArgumentParser
import EdgeNode
import Foundation
import Logging

@main
struct Imgedge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgedge",
        abstract: "A self-hosted image CDN edge node speaking the imgix rendering API.",
        version: BuildInfo.description,
        subcommands: [Serve.self, CheckConfig.self, Sign.self, Purge.self])

    /// ArgumentParser exits 64 (EX_USAGE) on a usage error; the contract says 2, with a one-line reason.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

struct Options: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML).")
    var config = "conf/imgedge.yaml"

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: LogLevel = .info
}

enum LogLevel: String, ExpressibleByArgument { case trace, debug, info, notice, warning, error, critical }

enum LogFormat: String, ExpressibleByArgument { case text, json }

/// Exit 2 with a one-line reason (usage or configuration error).
func configurationFailure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("imgedge: " + message + "\n").utf8))
    return ExitCode(2)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a node.")
    @OptionGroup var options: Options

    func run() async throws {
        let level = Logger.Level(rawValue: options.logLevel.rawValue) ?? .info
        let json = options.logFormat == .json
        LoggingSystem.bootstrap { label in
            var h: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "imgedge")
        let config: NodeConfig
        do {
            config = try NodeConfig.load(file: options.config)
        } catch let e as ConfigError {
            throw configurationFailure("\(options.config): " + e.problems.map(\.description).joined(separator: "; "))
        }
        let server: EdgeNodeServer
        do {
            server = try await EdgeNodeServer.start(config: config, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["edge.error": "\(error)"])
            throw ExitCode(1)
        }
        await SignalWaiter.waitForTermination(onHangup: {
            logger.info("SIGHUP: reloading certificates")
            server.reloadCertificates()
        })
        logger.info("draining")
        await server.shutdown()
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Report every problem in a configuration file.")
    @OptionGroup var options: Options

    func run() throws {
        do {
            let c = try NodeConfig.load(file: options.config)
            let http = c.httpEnabled ? "\(c.httpHost):\(c.httpPort)" : "off"
            let https = c.https.isEnabled ? "\(c.https.host):\(c.https.port) (\(c.https.certificates.count) certificates)" : "off"
            print("\(options.config): ok (\(c.sources.count) sources, edge http \(http), https \(https), admin \(c.adminHost):\(c.adminPort))")
        } catch let e as ConfigError {
            for p in e.problems { FileHandle.standardError.write(Data("\(options.config): \(p)\n".utf8)) }
            throw ExitCode(2)
        }
    }
}

/// Waits for SIGTERM or SIGINT; SIGHUP meanwhile runs `onHangup` (it reloads the HTTPS certificates; sources
/// and keys are read only at start) and never ends the node.
enum SignalWaiter {
    static func waitForTermination(onHangup: @escaping @Sendable () -> Void) async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let queue = DispatchQueue(label: "imgedge.signals")
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let fired = Fired()
            var sources: [any DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                s.setEventHandler {
                    if fired.once() { c.resume() }
                }
                s.resume()
                sources.append(s)
            }
            let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
            hangup.setEventHandler(handler: onHangup)
            hangup.resume()
            sources.append(hangup)
            Retainer.keep(sources)
        }
    }

    /// True the first time only.
    final class Fired: @unchecked Sendable {
        private var done = false
        private let lock = NSLock()
        func once() -> Bool { lock.withLock { defer { done = true }; return !done } }
    }

    /// Keeps the signal sources alive for the life of the process.
    enum Retainer {
        nonisolated(unsafe) static var kept: [any DispatchSourceSignal] = []
        static func keep(_ s: [any DispatchSourceSignal]) { kept += s }
    }
}
