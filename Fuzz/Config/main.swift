import EdgeNode

/// libFuzzer entry: the bytes as the text of an `imgedge.yaml`, through `NodeConfig.parse` (Yams, then the schema
/// walk with every key's checks), with no environment overrides and relative paths resolved against `conf` (the
/// fuzzer runs from the package root, so the committed configuration's folder source exists). Any outcome but a
/// crash, a hang or a memory error is fine: a configuration either loads or is refused with its problems listed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try NodeConfig.parse(yaml: yaml, baseDirectory: "conf", environment: [:], cores: 2)
    } catch let error as ConfigError {
        precondition(!error.problems.isEmpty, "a configuration was refused with no problem named")
        _ = error.description
    } catch {
        preconditionFailure("NodeConfig.parse threw something other than ConfigError: \(error)")
    }
    return 0
}
