import EdgeCore

/// What every step of one transform may consult: the request, the source's facts, and the plan.
struct PipelineContext {
    var spec: TransformSpec
    /// The encoding the output will get (known before the first pixel is decoded).
    var output: OutputFormat
    var sourceType: SourceImageType
    /// Stored size, before any orientation.
    var rawWidth: Int
    var rawHeight: Int
    /// The source's EXIF orientation (1–8; 1 when absent).
    var sourceOrientation: Int
    /// Size of the source after orientation (EXIF, or the `or` override).
    var sourceWidth: Int
    var sourceHeight: Int
    var sourceHasAlpha: Bool
    /// Bands and bytes per band sample of the decoded source, and whether it is interlaced (progressive JPEG,
    /// Adam7 PNG): what decoding it costs in memory (`DecodeMemory`).
    var sourceBands = 3
    var sourceBytesPerSample = 1
    var sourceInterlaced = false
    /// The source embeds an ICC profile (its pixels need converting to sRGB).
    var sourceHasProfile = false
    var limits: ImageLimits
    /// Decode sharing with the other variants of the original being made now, and where decoded copies are kept.
    var sharing: DecodeSharing?
    var copies: DecodedCopies?
    /// Other images the transform draws (watermarks), fetched by the caller beforehand.
    var resources: TransformResources
}
