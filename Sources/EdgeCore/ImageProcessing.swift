/// Limits a transform runs under.
public struct ImageLimits: Sendable, Equatable {
    /// Largest decoded source, width × height, checked from the header before decoding.
    public var maxSourcePixels: Int
    public init(maxSourcePixels: Int) { self.maxSourcePixels = maxSourcePixels }
}

/// An encoded output image.
public struct ProcessedImage: Sendable {
    public var body: [UInt8]
    public var format: OutputFormat
    public var width: Int
    public var height: Int
    public init(body: [UInt8], format: OutputFormat, width: Int, height: Int) {
        self.body = body; self.format = format; self.width = width; self.height = height
    }
}

/// Images a transform needs besides its source (a watermark), fetched by the caller through the same origin
/// rules before the transform runs, keyed by the reference the spec makes to them.
public struct TransformResources: Sendable {
    public var images: [String: [UInt8]]
    public init(images: [String: [UInt8]] = [:]) { self.images = images }
}

/// Transforms source bytes into an output image. Implementations block the calling thread (CPU bound):
/// callers run them on a bounded pool.
public protocol ImageProcessing: Sendable {
    func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits,
                 resources: TransformResources) throws(EdgeError) -> ProcessedImage
    /// Bytes of memory `process` will need at its peak for this source and request, from the source's header
    /// alone (`DecodeMemory.estimate`); throws what `process` would for a source it refuses before decoding.
    func decodeMemory(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> Int
}

extension ImageProcessing {
    /// A transform that draws no other image.
    public func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> ProcessedImage {
        try process(source: source, spec: spec, format: format, limits: limits, resources: TransformResources())
    }
}
