import EdgeCore

/// What every step of one transform may consult: the request, the source's facts, and the plan.
struct PipelineContext {
    var spec: TransformSpec
    /// The encoding the output will get (known before the first pixel is decoded).
    var output: OutputFormat
    var sourceType: SourceImageType
    /// Size of the source after EXIF orientation.
    var sourceWidth: Int
    var sourceHeight: Int
    var sourceHasAlpha: Bool
    var limits: ImageLimits
    /// Other images the transform draws (watermarks), fetched by the caller beforehand.
    var resources: TransformResources
}
