import EdgeCore
import EdgePrivacy
import Foundation
import CYaml
import Yams

/// One problem found in a configuration, with the key it concerns.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "\(key): \(message)" }
}

/// All the problems found in a configuration (reported together, not one at a time).
public struct ConfigError: Error, CustomStringConvertible {
    public var problems: [ConfigProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

extension NodeConfig {
    /// Loads a YAML file; environment overrides (`IMGEDGE_HTTP_PORT=8090`) from `environment`.
    public static func load(file: String, environment: [String: String]? = nil) throws -> NodeConfig {
        let url = URL(fileURLWithPath: file)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigError(problems: [ConfigProblem(key: file, message: "cannot read the file")])
        }
        return try parse(yaml: text, baseDirectory: url.deletingLastPathComponent().path,
                         environment: environment ?? ProcessInfo.processInfo.environment)
    }

    /// Parses YAML text; relative paths resolve against `baseDirectory`. Throws `ConfigError` with every problem.
    public static func parse(yaml: String, baseDirectory: String, environment: [String: String] = [:],
                             cores: Int? = nil) throws -> NodeConfig {
        let node: Yams.Node?
        // Yams composes recursively, and the tree is walked with every alias expanded: a document nested thousands
        // deep would overflow the stack, aliases of aliases expand exponentially. libyaml's own parser is
        // iterative, so its events measure both first.
        if let message = ConfigReader.shapeProblem(yaml) {
            throw ConfigError(problems: [ConfigProblem(key: "(file)", message: message)])
        }
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(problems: [ConfigProblem(key: "(file)", message: "not valid YAML: \(error)")])
        }
        if let node, let message = ConfigReader.unconstructible(node) {
            throw ConfigError(problems: [ConfigProblem(key: "(file)", message: message)])
        }
        let root = node?.any
        var r = ConfigReader(environment: environment, baseDirectory: baseDirectory)
        let config = r.read(root, cores: cores ?? ProcessInfo.processInfo.activeProcessorCount)
        guard r.problems.isEmpty, let config else { throw ConfigError(problems: r.problems) }
        return config
    }
}

extension ConfigReader {
    /// The deepest nesting of lists and mappings a configuration may have, and the most values it may hold with
    /// every alias expanded.
    static let maxNesting = 64
    static let maxExpandedValues = 100_000

    /// Why `yaml` is refused before Yams sees it: nested deeper than `maxNesting`, or more than `maxExpandedValues`
    /// values once aliases are expanded (nil when neither, or when libyaml cannot read it: Yams reports that).
    /// Iterative: libyaml's event parser, no recursion.
    static func shapeProblem(_ yaml: String) -> String? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Per open collection: values so far (expanded) and its anchor; per anchor: its expanded size.
            var open: [(values: Int, anchor: String?)] = [(0, nil)]
            var anchors: [String: Int] = [:]
            func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            func add(_ n: Int) -> String? {
                open[open.count - 1].values += n
                let total = open.reduce(0) { $0 + $1.values }
                return total > maxExpandedValues ? "more than \(maxExpandedValues) values with aliases expanded" : nil
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                    let anchor = event.type == YAML_MAPPING_START_EVENT
                        ? name(event.data.mapping_start.anchor) : name(event.data.sequence_start.anchor)
                    open.append((1, anchor))
                    if open.count - 1 > maxNesting { return "nested more than \(maxNesting) deep" }
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    guard open.count > 1 else { return nil }
                    let closed = open.removeLast()
                    if let anchor = closed.anchor { anchors[anchor] = closed.values }
                    if let problem = add(closed.values) { return problem }
                case YAML_SCALAR_EVENT:
                    if let anchor = name(event.data.scalar.anchor) { anchors[anchor] = 1 }
                    if let problem = add(1) { return problem }
                case YAML_ALIAS_EVENT:
                    if let problem = add(name(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1) { return problem }
                case YAML_STREAM_END_EVENT:
                    return nil
                default:
                    break
                }
            }
        }
    }

    /// What in a parsed YAML tree Yams' constructor (5.0.1, `Node.any`, which `Yams.load` calls) would trap on
    /// rather than refuse: a mapping key that is not a plain value (it force-unwraps each key's string, `!!set`
    /// members included), or an integer in base 60 (`1:30`) that overflows `Int` as it multiplies it out. Found by
    /// FuzzConfig (Fuzz/Config/regressions/).
    static func unconstructible(_ node: Yams.Node) -> String? {
        switch node {
        case .scalar(let scalar):
            guard node.tag.description == Tag.Name.int.rawValue, scalar.style == .any || scalar.style == .plain,
                  sexagesimalOverflows(scalar.string) else { return nil }
            return "\(scalar.string) is too large an integer"
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard String.construct(from: key) != nil else {
                    let line = key.mark.map { " (line \($0.line))" } ?? ""
                    return "a mapping key must be a plain value, not a list or mapping\(line)"
                }
                if let message = unconstructible(value) { return message }
            }
            return nil
        case .sequence(let sequence):
            return sequence.lazy.compactMap(unconstructible).first
        }
    }

    /// Whether Yams reads an integer scalar in base 60 and overflows doing so, step for step as it does: `_`
    /// dropped, one sign, not after a leading `0` (octal and the like), places from the right, each running
    /// value and place value (60ⁿ: eleven places always overflow) and the sign's product checked.
    static func sexagesimalOverflows(_ text: String) -> Bool {
        let s = Substring(text.replacingOccurrences(of: "_", with: ""))
        let negative = s.hasPrefix("-")
        let digits = negative || s.hasPrefix("+") ? s.dropFirst() : s
        guard s != "0", !digits.hasPrefix("0"), digits.contains(":") else { return false }
        var (place, value) = (1, 0)
        for digit in digits.components(separatedBy: ":").compactMap({ Int($0, radix: 10) }).reversed() {
            let (term, o1) = digit.multipliedReportingOverflow(by: place)
            let (sum, o2) = value.addingReportingOverflow(term)
            let (next, o3) = place.multipliedReportingOverflow(by: 60)
            if o1 || o2 || o3 { return true }
            (place, value) = (next, sum)
        }
        return negative && value == .min
    }
}

/// Walks the YAML tree against the schema, collecting problems rather than stopping at the first.
struct ConfigReader {
    let environment: [String: String]
    let baseDirectory: String
    var problems: [ConfigProblem] = []

    /// Top-level sections and their scalar keys; anything else is an unknown key.
    static let schema: [String: Set<String>] = [
        "node": ["id", "defaultSource"],
        "http": ["host", "port", "enabled", "redirectToHTTPS", "sendTimeout", "headerTimeout", "maxConnections"],
        "https": ["host", "port", "certificates", "hsts", "reloadInterval", "handshakeTimeout", "maxConcurrentStreams"],
        "admin": ["host", "port", "keys"],
        "cache": ["path", "maxBytes", "originalsBytes", "memoryBytes", "defaultTTL", "negativeTTL", "sweepInterval", "shared"],
        "limits": ["maxSourceBytes", "maxSourcePixels", "decodeMemory", "decodeCopies", "maxConcurrentTransforms", "maxQueuedTransforms",
                   "maxConcurrentFetches", "maxQueuedFetches", "maxConnections", "fillTimeout"],
        "origin": ["connectTimeout", "timeout"],
        "log": ["access", "accessMaxBytes"],
        "gossip": ["host", "port", "peers", "secret", "syncTimeout", "retention", "lossRate", "blockedPeers", "faultInjection"],
        "cluster": ["port", "weight", "peerTimeout", "storeCopies", "retryAfter"],
    ]
    /// Keys of the contract that later versions implement: refused by name rather than silently ignored.
    static let notYetSupported: Set<String> = []
    static let sourceKeys: Set<String> = ["name", "customer", "kind", "hosts", "root", "baseURL", "enabled", "ttl",
                                          "staleWhileRevalidate", "staleIfError",
                                          "secureToken", "requireSignature", "defaultParams", "keepMetadata", "allowIPTC", "exposeLocation",
                                          "allowPrivateNetwork", "allowedHosts", "passRedirects", "passResponseHeaders",
                                          "stripResponseHeaders", "forwardRequestHeaders",
                                          "bucket", "region", "endpoint", "pathStyle", "prefix", "accessKeyId",
                                          "secretAccessKey", "sessionToken"]
    /// The keys only an `s3` source has.
    static let s3Keys: Set<String> = ["bucket", "region", "endpoint", "pathStyle", "prefix", "accessKeyId",
                                      "secretAccessKey", "sessionToken"]

    mutating func problem(_ key: String, _ message: String) { problems.append(ConfigProblem(key: key, message: message)) }

    mutating func read(_ root: Any?, cores: Int) -> NodeConfig? {
        var sections: [String: [String: Any]] = [:]
        var sourceList: [Any] = []
        var customerList: [Any] = []
        if let root {
            guard let top = root as? [String: Any] else {
                problem("(file)", "the top level must be a mapping")
                return nil
            }
            for (key, value) in top {
                if key == "sources" {
                    if let list = value as? [Any] { sourceList = list } else { problem("sources", "must be a list") }
                    continue
                }
                if key == "customers" {
                    if let list = value as? [Any] { customerList = list } else if !(value is NSNull) {
                        problem("customers", "must be a list of {id, name, email, company, plan}")
                    }
                    continue
                }
                if Self.notYetSupported.contains(key) {
                    problem(key, "not supported by this version of imgedge")
                    continue
                }
                guard let allowed = Self.schema[key] else {
                    problem(key, "unknown key")
                    continue
                }
                guard let map = value as? [String: Any] else {
                    if value is NSNull { continue }
                    problem(key, "must be a mapping")
                    continue
                }
                for sub in map.keys where !allowed.contains(sub) {
                    let full = "\(key).\(sub)"
                    problem(full, Self.notYetSupported.contains(full) ? "not supported by this version of imgedge" : "unknown key")
                }
                sections[key] = map
            }
        }

        var config = NodeConfig(nodeID: ProcessInfo.processInfo.hostName, cachePath: resolvePath("var/cache"),
                                sources: [], cores: cores)
        func value(_ section: String, _ key: String) -> Any? {
            let env = "IMGEDGE_" + section.uppercased() + "_" + key.uppercased()
            if let v = environment[env] { return v }
            return sections[section]?[key]
        }
        if let v = value("node", "id") { config.nodeID = string(v, "node.id") ?? config.nodeID }
        if let v = value("node", "defaultSource") { config.defaultSource = string(v, "node.defaultSource") }
        if let v = value("http", "host") { config.httpHost = string(v, "http.host") ?? config.httpHost }
        if let v = value("http", "port") { config.httpPort = port(v, "http.port") ?? config.httpPort }
        if let v = value("http", "enabled") { config.httpEnabled = bool(v, "http.enabled") ?? config.httpEnabled }
        if let v = value("http", "sendTimeout") { config.sendTimeout = duration(v, "http.sendTimeout").map { max(0.1, $0) } ?? config.sendTimeout }
        if let v = value("http", "redirectToHTTPS") { config.redirectToHTTPS = bool(v, "http.redirectToHTTPS") ?? false }
        config.https = https(sections["https"] ?? [:])
        if config.redirectToHTTPS && !config.https.isEnabled {
            problem("http.redirectToHTTPS", "needs https.certificates: there is no HTTPS listener to redirect to")
        }
        if !config.httpEnabled && !config.https.isEnabled {
            problem("http.enabled", "with http off, https.certificates must be set: the node would serve nothing")
        }
        if let v = value("admin", "host") { config.adminHost = string(v, "admin.host") ?? config.adminHost }
        if let v = value("admin", "port") { config.adminPort = port(v, "admin.port") ?? config.adminPort }
        if let v = sections["admin"]?["keys"] { config.adminKeys = adminKeys(v) }
        if let v = value("cache", "path") { config.cachePath = string(v, "cache.path").map(resolvePath) ?? config.cachePath }
        if let v = value("cache", "maxBytes") { config.cacheMaxBytes = size(v, "cache.maxBytes", min: 1 << 20) ?? config.cacheMaxBytes }
        if let v = value("cache", "originalsBytes") {
            config.originalsBytes = size(v, "cache.originalsBytes", min: 0) ?? config.originalsBytes
            if config.originalsBytes > 0 && config.originalsBytes < 1 << 20 {
                problem("cache.originalsBytes", "must be 0 (off) or at least 1MiB")
            }
        }
        if let v = value("cache", "memoryBytes") { config.cacheMemoryBytes = size(v, "cache.memoryBytes", min: 0) ?? config.cacheMemoryBytes }
        if let v = value("cache", "sweepInterval") { config.sweepInterval = duration(v, "cache.sweepInterval").map { max(0.05, $0) } ?? config.sweepInterval }
        if let v = value("cache", "defaultTTL") { config.defaultTTL = duration(v, "cache.defaultTTL") ?? config.defaultTTL }
        if let v = value("cache", "negativeTTL") { config.negativeTTL = duration(v, "cache.negativeTTL") ?? config.negativeTTL }
        if let v = value("limits", "maxSourceBytes") { config.maxSourceBytes = size(v, "limits.maxSourceBytes", min: 1) ?? config.maxSourceBytes }
        if let v = value("limits", "maxSourcePixels") { config.maxSourcePixels = integer(v, "limits.maxSourcePixels", 1...(1 << 40)) ?? config.maxSourcePixels }
        if let v = value("limits", "decodeCopies") { config.decodeCopies = size(v, "limits.decodeCopies", min: 0) ?? config.decodeCopies }
        if let v = value("limits", "decodeMemory") { config.decodeMemory = size(v, "limits.decodeMemory", min: 16 << 20) ?? config.decodeMemory }
        if let v = value("limits", "maxConcurrentTransforms") { config.maxConcurrentTransforms = integer(v, "limits.maxConcurrentTransforms", 1...256) ?? config.maxConcurrentTransforms }
        if let v = value("limits", "maxQueuedTransforms") { config.maxQueuedTransforms = integer(v, "limits.maxQueuedTransforms", 0...100_000) ?? config.maxQueuedTransforms }
        if let v = value("limits", "maxConcurrentFetches") { config.maxConcurrentFetches = integer(v, "limits.maxConcurrentFetches", 1...1024) ?? config.maxConcurrentFetches }
        if let v = value("limits", "maxQueuedFetches") { config.maxQueuedFetches = integer(v, "limits.maxQueuedFetches", 0...100_000) ?? config.maxQueuedFetches }
        if let v = value("limits", "maxConnections") { config.maxConnections = integer(v, "limits.maxConnections", 1...1_000_000) ?? config.maxConnections }
        if let v = value("http", "maxConnections") { config.maxConnections = integer(v, "http.maxConnections", 1...1_000_000) ?? config.maxConnections }
        if let v = value("http", "headerTimeout") { config.headerTimeout = duration(v, "http.headerTimeout").map { max(0.1, $0) } ?? config.headerTimeout }
        if let v = value("limits", "fillTimeout") { config.fillTimeout = duration(v, "limits.fillTimeout").map { max(0.05, $0) } ?? config.fillTimeout }
        if let v = value("origin", "connectTimeout") { config.originConnectTimeout = duration(v, "origin.connectTimeout") ?? config.originConnectTimeout }
        if let v = value("origin", "timeout") { config.originTimeout = duration(v, "origin.timeout") ?? config.originTimeout }
        config.gossip = gossip(sections["gossip"] ?? [:])
        if let v = sections["cache"]?["shared"], !(v is NSNull) { config.shared = sharedTier(v, retention: config.gossip.retention) }
        if let v = value("cluster", "port") { config.cluster.port = port(v, "cluster.port") }
        if let v = value("cluster", "weight") {
            let w = (v as? Double) ?? (v as? Int).map(Double.init) ?? (v as? String).flatMap(Double.init)
            if let w, w >= 0, w <= 1000 { config.cluster.weight = w } else { problem("cluster.weight", "must be a number from 0 to 1000") }
        }
        if let v = value("cluster", "peerTimeout") {
            config.cluster.peerTimeout = duration(v, "cluster.peerTimeout").map { min(30, max(0.005, $0)) } ?? config.cluster.peerTimeout
        }
        if let v = value("cluster", "storeCopies") { config.cluster.storeCopies = bool(v, "cluster.storeCopies") ?? true }
        if let v = value("cluster", "retryAfter") {
            config.cluster.retryAfter = duration(v, "cluster.retryAfter").map { min(3600, max(0.1, $0)) } ?? config.cluster.retryAfter
        }
        if config.cluster.isEnabled, config.gossip.secret == nil {
            problem("cluster.port", "peer fill needs gossip (gossip.secret authenticates peer requests)")
        }
        if let p = config.cluster.port, p != 0, p == config.gossip.port || p == config.httpPort || p == config.adminPort {
            problem("cluster.port", "must differ from the gossip, HTTP and admin ports")
        }
        if let v = value("log", "access"), let p = string(v, "log.access"), !p.isEmpty { config.accessLogPath = resolvePath(p) }
        if let v = value("log", "accessMaxBytes") { config.accessLogMaxBytes = size(v, "log.accessMaxBytes", min: 4096) ?? config.accessLogMaxBytes }

        var names = Set<String>()
        for (i, item) in sourceList.enumerated() {
            guard let s = source(item, "sources[\(i)]") else { continue }
            if !names.insert(s.name).inserted { problem("sources[\(i)].name", "duplicate source name \(s.name)") }
            config.sources.append(s)
        }
        if let d = config.defaultSource, !names.contains(d) {
            problem("node.defaultSource", "names no configured source (\(d))")
        }
        config.customers = customers(customerList)
        // With customers configured, every customer a source or key names must be one of them.
        if !config.customers.isEmpty {
            let ids = Set(config.customers.map(\.id))
            for (i, s) in config.sources.enumerated() {
                if let c = s.customer, !ids.contains(c) { problem("sources[\(i)].customer", "names no configured customer (\(c))") }
            }
            for (i, k) in config.adminKeys.enumerated() {
                if case .customer(let c) = k.scope, !ids.contains(c) {
                    problem("admin.keys[\(i)].scope", "names no configured customer (\(c))")
                }
            }
        }
        return config
    }

    /// `customers`: a list of `{id, name, email, company, plan}`; ids unique. Nothing else is read: there is no
    /// field for payment data, and an unknown key is an error.
    mutating func customers(_ list: [Any]) -> [CustomerConfig] {
        var out: [CustomerConfig] = []
        var ids = Set<String>()
        for (i, item) in list.enumerated() {
            let at = "customers[\(i)]"
            guard let map = item as? [String: Any] else {
                problem(at, "must be a mapping {id, name, email, company, plan}")
                continue
            }
            for key in map.keys where !["id", "name", "email", "company", "plan"].contains(key) {
                problem("\(at).\(key)", "unknown key")
            }
            guard let id = map["id"].flatMap({ string($0, "\(at).id") }), !id.isEmpty else {
                problem("\(at).id", "required")
                continue
            }
            if !ids.insert(id).inserted { problem("\(at).id", "duplicate id \(id)") }
            func text(_ key: String) -> String? { map[key].flatMap { string($0, "\(at).\(key)") } }
            out.append(CustomerConfig(id: id, name: text("name"), email: text("email"), company: text("company"),
                                      plan: text("plan")))
        }
        return out
    }

    /// `gossip.*`: endpoint, seed peers (`host:port`), the cluster secret (16+ characters; required with peers),
    /// and the testing-only loss and partition options.
    mutating func gossip(_ section: [String: Any]) -> GossipSettings {
        var g = GossipSettings()
        let environment = environment
        func value(_ s: String, _ key: String) -> Any? { environment["IMGEDGE_GOSSIP_" + key.uppercased()] ?? section[key] }
        if let v = value("gossip", "host") { g.host = string(v, "gossip.host") ?? g.host }
        if let v = value("gossip", "port") { g.port = port(v, "gossip.port") ?? g.port }
        if let v = value("gossip", "secret") { g.secret = string(v, "gossip.secret") }
        if let v = value("gossip", "retention") { g.retention = duration(v, "gossip.retention").map { max(60, $0) } ?? g.retention }
        if let v = value("gossip", "syncTimeout") { g.syncTimeout = duration(v, "gossip.syncTimeout") ?? g.syncTimeout }
        if let v = value("gossip", "lossRate") {
            let rate = (v as? Double) ?? (v as? Int).map(Double.init) ?? (v as? String).flatMap(Double.init)
            if let rate, rate >= 0, rate < 1 { g.lossRate = rate } else { problem("gossip.lossRate", "must be a number from 0 to below 1") }
        }
        if let v = value("gossip", "faultInjection") { g.faultInjection = bool(v, "gossip.faultInjection") ?? false }
        g.peers = peerList(value("gossip", "peers"), "gossip.peers")
        g.blockedPeers = peerList(value("gossip", "blockedPeers"), "gossip.blockedPeers")
        if ["0.0.0.0", "::", "[::]", ""].contains(g.host) {
            problem("gossip.host", "must be the address peers reach this node at, not a wildcard")
        }
        if let s = g.secret, s.count < 16 { problem("gossip.secret", "must be at least 16 characters") }
        if !g.peers.isEmpty && g.secret == nil { problem("gossip.secret", "required when gossip.peers are set") }
        return g
    }

    /// A list of `host:port` (a YAML list, or one comma-separated string from the environment).
    mutating func peerList(_ v: Any?, _ key: String) -> [String] {
        guard let v, !(v is NSNull) else { return [] }
        let items: [Any]
        if let list = v as? [Any] { items = list } else if let text = v as? String {
            items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else {
            problem(key, "must be a list of host:port")
            return []
        }
        var peers: [String] = []
        for item in items {
            guard let text = string(item, key) else { continue }
            guard let colon = text.lastIndex(of: ":"), colon > text.startIndex,
                  let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else {
                problem(key, "\(text) is not host:port")
                continue
            }
            peers.append(text)
        }
        return peers
    }

    /// `admin.keys`: a list of `{id, secret, scope}`; ids unique; secret as itself (16+ characters) or `sha256:<hex>`.
    mutating func adminKeys(_ v: Any) -> [AdminKey] {
        guard let list = v as? [Any] else {
            if !(v is NSNull) { problem("admin.keys", "must be a list of {id, secret, scope}") }
            return []
        }
        var keys: [AdminKey] = []
        var ids = Set<String>()
        for (i, item) in list.enumerated() {
            let at = "admin.keys[\(i)]"
            guard let map = item as? [String: Any] else {
                problem(at, "must be a mapping {id, secret, scope}")
                continue
            }
            for key in map.keys where !["id", "secret", "scope"].contains(key) { problem("\(at).\(key)", "unknown key") }
            let id = map["id"].flatMap { string($0, "\(at).id") }
            if id == nil { problem("\(at).id", "required") }
            if let id, !ids.insert(id).inserted { problem("\(at).id", "duplicate id \(id)") }
            let scopeText = map["scope"].flatMap { string($0, "\(at).scope") }
            let scope = scopeText.flatMap(AdminScope.init)
            if scope == nil { problem("\(at).scope", "required: operator or customer:<id>") }
            let secret = map["secret"].flatMap { string($0, "\(at).secret") }
            var key: AdminKey?
            if let id, let scope, let secret {
                key = AdminKey(id: id, secret: secret, scope: scope)
                if key == nil {
                    problem("\(at).secret", "must be at least \(AdminKey.minSecretLength) characters with no spaces, or sha256:<64 hex digits>")
                }
            } else if secret == nil {
                problem("\(at).secret", "required")
            }
            if let key { keys.append(key) }
        }
        return keys
    }

    mutating func source(_ item: Any, _ at: String) -> SourceConfig? {
        guard let map = item as? [String: Any] else {
            problem(at, "must be a mapping")
            return nil
        }
        for key in map.keys where !Self.sourceKeys.contains(key) { problem("\(at).\(key)", "unknown key") }
        let name = map["name"].flatMap { string($0, "\(at).name") }
        if name == nil { problem("\(at).name", "required") }
        let kindText = map["kind"].flatMap { string($0, "\(at).kind") }
        let kind = kindText.flatMap(SourceKind.init(rawValue:))
        if kind == nil {
            problem("\(at).kind", kindText == nil ? "required (folder, web, proxy or s3)" : "must be folder, web, proxy or s3 (\(kindText!))")
        }
        var hosts: [String] = []
        if let h = map["hosts"] {
            if let list = h as? [Any] {
                hosts = list.compactMap { string($0, "\(at).hosts") }
            } else {
                problem("\(at).hosts", "must be a list of host names")
            }
        }
        var root: String?
        var baseURL: String?
        var s3: S3Location?
        switch kind {
        case .folder?:
            root = map["root"].flatMap { string($0, "\(at).root") }.map(resolvePath)
            if root == nil { problem("\(at).root", "required for a folder source") }
            if let r = root {
                var isDir: ObjCBool = false
                if !FileManager.default.fileExists(atPath: r, isDirectory: &isDir) || !isDir.boolValue {
                    problem("\(at).root", "no such folder: \(r)")
                }
            }
            if map["baseURL"] != nil { problem("\(at).baseURL", "only for web sources") }
        case .web?:
            baseURL = map["baseURL"].flatMap { string($0, "\(at).baseURL") }
            if let b = baseURL {
                let lower = b.lowercased()
                if !(lower.hasPrefix("http://") || lower.hasPrefix("https://")) || URL(string: b)?.host == nil {
                    problem("\(at).baseURL", "must be an http:// or https:// URL")
                }
                while baseURL!.hasSuffix("/") { baseURL!.removeLast() }
            } else {
                problem("\(at).baseURL", "required for a web source")
            }
            if map["root"] != nil { problem("\(at).root", "only for folder sources") }
        case .proxy?:
            proxySource(map, at)
        case .s3?:
            s3 = s3Source(map, at)
            for key in ["root", "baseURL"] where map[key] != nil { problem("\(at).\(key)", "not for an s3 source") }
        case nil: break
        }
        if kind != .s3 {
            for key in Self.s3Keys.sorted() where map[key] != nil { problem("\(at).\(key)", "only for s3 sources") }
        }
        let enabled = map["enabled"].flatMap { bool($0, "\(at).enabled") } ?? true
        let ttl = map["ttl"].flatMap { duration($0, "\(at).ttl") }
        let customer = map["customer"].flatMap { string($0, "\(at).customer") }
        let signing = signing(map, at)
        let networkPolicy = networkPolicy(map, at, kind: kind)
        let allowedHosts = allowedHosts(map, at, kind: kind)
        guard let name, let kind else { return nil }
        var config = SourceConfig(name: name, customer: customer, kind: kind, hosts: hosts, root: root, baseURL: baseURL,
                                  enabled: enabled, ttl: ttl)
        config.s3 = s3
        config.staleWhileRevalidate = map["staleWhileRevalidate"].flatMap { duration($0, "\(at).staleWhileRevalidate") }
        config.staleIfError = map["staleIfError"].flatMap { duration($0, "\(at).staleIfError") }
        config.secureToken = signing.token
        config.requireSignature = signing.required || kind == .proxy
        config.defaultParams = signing.defaults
        config.keepMetadata = map["keepMetadata"].flatMap { bool($0, "\(at).keepMetadata") } ?? false
        config.allowIPTC = map["allowIPTC"].flatMap { bool($0, "\(at).allowIPTC") } ?? false
        config.exposeLocation = map["exposeLocation"].flatMap { bool($0, "\(at).exposeLocation") } ?? false
        config.networkPolicy = networkPolicy
        config.allowedHosts = allowedHosts
        config.passRedirects = map["passRedirects"].flatMap { bool($0, "\(at).passRedirects") } ?? false
        if config.passRedirects, kind == .folder || kind == .s3 { problem("\(at).passRedirects", "only for web and proxy sources") }
        if !config.forwardRequestHeaders.isEmpty, kind == .s3 {
            problem("\(at).forwardRequestHeaders", "not for an s3 source (its requests are signed)")
        }
        config.passResponseHeaders = headerNames(map["passResponseHeaders"], "\(at).passResponseHeaders")
        config.stripResponseHeaders = headerNames(map["stripResponseHeaders"], "\(at).stripResponseHeaders")
        config.forwardRequestHeaders = headerNames(map["forwardRequestHeaders"], "\(at).forwardRequestHeaders")
        for (i, name) in config.forwardRequestHeaders.enumerated() where !RequestHeaderRules.withheldByDefault.contains(name) {
            problem("\(at).forwardRequestHeaders[\(i)]",
                    RequestHeaderRules.neverForwarded.contains(name) ? "\(name) is never forwarded"
                        : "\(name) is forwarded anyway; list only Cookie, Authorization or a client hint")
        }
        return config
    }

    /// An `s3` source's bucket: `bucket` and `region` required; `endpoint` an http(s) URL of an S3-compatible
    /// store (path-style addressing by default there, `pathStyle` to choose); `prefix`; credentials from
    /// `accessKeyId` / `secretAccessKey` / `sessionToken`, else the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN` environment variables, else none (the bucket is read anonymously).
    mutating func s3Source(_ map: [String: Any], _ at: String) -> S3Location? {
        let bucket = map["bucket"].flatMap { string($0, "\(at).bucket") }
        if bucket == nil { problem("\(at).bucket", "required for an s3 source") }
        if let b = bucket, b.isEmpty || b.contains("/") || b.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            problem("\(at).bucket", "must be a bucket name (no slashes, spaces or control characters)")
        }
        let region = map["region"].flatMap { string($0, "\(at).region") }
        if region == nil { problem("\(at).region", "required for an s3 source (us-east-1 for most compatibles)") }
        let endpoint = map["endpoint"].flatMap { string($0, "\(at).endpoint") }
        if let e = endpoint {
            let lower = e.lowercased()
            if !(lower.hasPrefix("http://") || lower.hasPrefix("https://")) || URL(string: e)?.host == nil
                || (URL(string: e)?.path ?? "").count > 1 {
                problem("\(at).endpoint", "must be an http:// or https:// URL with no path")
            }
        }
        let pathStyle = map["pathStyle"].flatMap { bool($0, "\(at).pathStyle") }
        let prefix = map["prefix"].flatMap { string($0, "\(at).prefix") } ?? ""
        let key = map["accessKeyId"].flatMap { string($0, "\(at).accessKeyId") } ?? environment["AWS_ACCESS_KEY_ID"]
        let secret = map["secretAccessKey"].flatMap { string($0, "\(at).secretAccessKey") } ?? environment["AWS_SECRET_ACCESS_KEY"]
        let token = map["sessionToken"].flatMap { string($0, "\(at).sessionToken") } ?? environment["AWS_SESSION_TOKEN"]
        if (key == nil) != (secret == nil) {
            problem("\(at).\(key == nil ? "accessKeyId" : "secretAccessKey")", "required with \(key == nil ? "secretAccessKey" : "accessKeyId")")
        }
        guard let bucket, let region else { return nil }
        return S3Location(bucket: bucket, region: region, endpoint: endpoint, pathStyle: pathStyle, prefix: prefix,
                          credentials: key.flatMap { k in secret.map { SigV4.Credentials(accessKeyID: k, secretAccessKey: $0, sessionToken: token) } })
    }

    /// `cache.shared`: `kind: s3` and an s3 source's bucket keys (`bucket`, `region`, `endpoint`, `pathStyle`,
    /// `prefix`, credentials), and `timeout`.
    mutating func sharedTier(_ v: Any, retention: Double) -> SharedTierSettings? {
        guard let map = v as? [String: Any] else {
            problem("cache.shared", "must be a mapping ({kind: s3, bucket: …, region: …})")
            return nil
        }
        for key in map.keys.sorted() where !(Self.s3Keys.contains(key) || key == "kind" || key == "timeout") {
            problem("cache.shared.\(key)", "unknown key")
        }
        let kind = map["kind"].flatMap { string($0, "cache.shared.kind") }
        guard kind == "s3" else {
            problem("cache.shared.kind", "must be s3")
            return nil
        }
        guard let location = s3Source(map, "cache.shared") else { return nil }
        if location.prefix.contains("/") { problem("cache.shared.prefix", "must be one path segment (no /)") }
        var settings = SharedTierSettings(location: location)
        settings.horizon = retention
        if let t = map["timeout"] { settings.timeout = duration(t, "cache.shared.timeout").map { min(30, max(0.01, $0)) } ?? settings.timeout }
        return settings
    }

    /// A list of response field names (`passResponseHeaders`, `stripResponseHeaders`), lower-cased; the fields
    /// this node writes itself, and hop-by-hop ones, cannot be passed.
    mutating func headerNames(_ value: Any?, _ at: String) -> [String] {
        guard let value, !(value is NSNull) else { return [] }
        guard let list = value as? [Any] else {
            problem(at, "must be a list of header names, such as [Link, Content-Language]")
            return []
        }
        var names: [String] = []
        for (i, item) in list.enumerated() {
            guard let name = item as? String, !name.isEmpty, name.utf8.allSatisfy(isTchar) else {
                problem("\(at)[\(i)]", "must be a header name")
                continue
            }
            let lower = name.lowercased()
            if at.hasSuffix(".passResponseHeaders"), ResponseHeaderRules.neverPassed.contains(lower) {
                problem("\(at)[\(i)]", "\(name) is written by the node or is hop-by-hop; it cannot be passed")
                continue
            }
            if !names.contains(lower) { names.append(lower) }
        }
        return names
    }

    /// Shortest `secureToken` accepted: the token is the only secret in an MD5 signature, so a short one can be
    /// found by trying them all. (imgix issues 16-character tokens.)
    static let minTokenLength = 8

    /// A source's `secureToken` (imgix secure URLs), `requireSignature` (default: true when a token is set, as
    /// imgix secures every URL of a source with a token; false keeps unsigned URLs working while URLs that carry
    /// `s` are still verified) and `defaultParams` (a map of imgix parameters applied where a URL is silent).
    mutating func signing(_ map: [String: Any], _ at: String) -> (token: String?, required: Bool, defaults: [QueryParameter]) {
        var token = map["secureToken"].flatMap { string($0, "\(at).secureToken") }
        if let t = token, t.count < Self.minTokenLength || t.contains(where: \.isWhitespace) {
            problem("\(at).secureToken", "must be at least \(Self.minTokenLength) characters with no spaces")
            token = nil
        }
        var required = token != nil
        if let v = map["requireSignature"], let b = bool(v, "\(at).requireSignature") {
            required = b
            if b, token == nil, map["secureToken"] == nil {
                problem("\(at).requireSignature", "needs secureToken (the token signatures are checked with)")
            }
        }
        var defaults: [QueryParameter] = []
        if let d = map["defaultParams"] {
            if let params = d as? [String: Any] {
                for name in params.keys.sorted() {
                    guard let text = scalarText(params[name]!) else {
                        problem("\(at).defaultParams.\(name)", "must be a single value")
                        continue
                    }
                    defaults.append(QueryParameter(name: name, value: text))
                }
                for p in SourceConfig.defaultParamProblems(defaults) {
                    problem("\(at).defaultParams.\(p.param)", p.message)
                }
            } else if !(d is NSNull) {
                problem("\(at).defaultParams", "must be a mapping of imgix parameters to values, such as {auto: format, q: 60}")
            }
        }
        return (token, required, defaults)
    }

    /// A YAML scalar as the text a URL would carry (`60`, `0.5`, `true`, `format`).
    func scalarText(_ v: Any) -> String? {
        switch v {
        case let s as String: s
        case let b as Bool: b ? "true" : "false"
        case let i as Int: String(i)
        case let d as Double: NumberText.format(d)
        default: nil
        }
    }

    func resolvePath(_ p: String) -> String {
        p.hasPrefix("/") ? p : URL(fileURLWithPath: baseDirectory).appendingPathComponent(p).standardizedFileURL.path
    }

    mutating func string(_ v: Any, _ key: String) -> String? {
        switch v {
        case let s as String: return s
        case let i as Int: return String(i)
        default:
            problem(key, "must be a string")
            return nil
        }
    }

    mutating func bool(_ v: Any, _ key: String) -> Bool? {
        if let b = v as? Bool { return b }
        if let s = v as? String, let b = ["true": true, "false": false][s.lowercased()] { return b }
        problem(key, "must be true or false")
        return nil
    }

    mutating func integer(_ v: Any, _ key: String, _ range: ClosedRange<Int>) -> Int? {
        let n: Int? = (v as? Int) ?? (v as? String).flatMap { Int($0) }
        guard let n else {
            problem(key, "must be an integer")
            return nil
        }
        guard range.contains(n) else {
            problem(key, "must be from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return n
    }

    mutating func port(_ v: Any, _ key: String) -> Int? { integer(v, key, 0...65535) }

    /// `512MiB`, `1GiB`, `64MB`, `1000000` (bytes).
    mutating func size(_ v: Any, _ key: String, min: Int) -> Int? {
        if let n = v as? Int, n >= min { return n }
        if let s = v as? String, let n = Units.bytes(s), n >= min { return n }
        problem(key, "must be a size of at least \(min) bytes, such as 512MiB or 1GiB")
        return nil
    }

    /// `30s`, `5m`, `2h`, `1d`, or a number of seconds.
    mutating func duration(_ v: Any, _ key: String) -> Double? {
        if let n = v as? Int, n >= 0 { return Double(n) }
        if let n = v as? Double, n >= 0 { return n }
        if let s = v as? String, let d = Units.seconds(s) { return d }
        problem(key, "must be a duration such as 30s, 5m, 2h or 1d")
        return nil
    }
}

/// Sizes and durations as written in configuration files.
public enum Units {
    public static func bytes(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
                                      ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            guard let n = Double(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0,
                  n * Double(factor) < 9e18 else { return nil }
            return Int(n * Double(factor))
        }
        return Int(s).flatMap { $0 >= 0 ? $0 : nil }
    }

    public static func seconds(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            guard let n = Double(s.dropLast(suffix.count)), n >= 0, n.isFinite else { return nil }
            return n * factor
        }
        return Double(s).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
    }
}
