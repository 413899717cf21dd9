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

/// What lets a transform share its decode with the other variants of the same original made close together
/// (a srcset): the original's identity (the same bytes always have the same one) and the requests of the other
/// variants of it being made now. The processor decodes once at the scale the largest of them needs, keeps that
/// decoded copy a few seconds, and makes each of them from it.
public struct DecodeSharing: Sendable {
    public var identity: String
    public var siblings: [TransformSpec]
    public init(identity: String, siblings: [TransformSpec]) {
        self.identity = identity
        self.siblings = siblings
    }
}

/// What decode sharing holds and has done.
public struct DecodeSharingUsage: Sendable, Equatable {
    /// Decoded copies kept now, and their bytes.
    public var copies: Int
    public var bytes: Int
    /// Copies decoded, and variants made from a copy another variant decoded, since start.
    public var decodes: Int
    public var reuses: Int
    public init(copies: Int = 0, bytes: Int = 0, decodes: Int = 0, reuses: Int = 0) {
        self.copies = copies
        self.bytes = bytes
        self.decodes = decodes
        self.reuses = reuses
    }
}

/// Transforms source bytes into an output image. Implementations block the calling thread (CPU bound):
/// callers run them on a bounded pool.
public protocol ImageProcessing: Sendable {
    func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits,
                 resources: TransformResources, sharing: DecodeSharing?) throws(EdgeError) -> ProcessedImage
    /// What decode sharing holds and has done.
    var sharing: DecodeSharingUsage { get }
    /// Bytes of memory `process` will need at its peak for this source and request, from the source's header
    /// alone (`DecodeMemory.estimate`); throws what `process` would for a source it refuses before decoding.
    /// A transform that shares a decode (`DecodeSharing`) is counted as if it decoded for itself: the copies the
    /// variants share are held apart, within their own bound.
    func decodeMemory(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> Int
}

extension ImageProcessing {
    /// A transform that shares no decode.
    public func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits,
                        resources: TransformResources) throws(EdgeError) -> ProcessedImage {
        try process(source: source, spec: spec, format: format, limits: limits, resources: resources, sharing: nil)
    }

    /// A transform that draws no other image.
    public func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> ProcessedImage {
        try process(source: source, spec: spec, format: format, limits: limits, resources: TransformResources())
    }
}
