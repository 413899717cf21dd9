import EdgeCore

/// Applies `TransformSpec.watermark` (imgix watermark parameters). (Filled in by the watermark work.)
enum WatermarkStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
